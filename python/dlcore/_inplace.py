"""The in-place Tensor methods PyTorch has beyond the ones the core binds (add_, sin_, ...):
``x.op_(...)`` writes ``x.op(...)`` into x's memory (views of x see it) and returns x.

- The result must keep x's shape (no growing by broadcasting) and fit x's dtype (no float
  result into an integer tensor, no integer or float one into a bool tensor), as in
  PyTorch; both raise before anything is written.
- Autograd: a leaf that requires grad cannot be written in place (outside no_grad). On
  a tensor inside a graph the op reads a copy of x, so an op that saves its input for the
  backward (pow_, xlogy_, ...) keeps the old values, and the write is recorded as copy_.
- The shape-changing ones (unsqueeze_, squeeze_, t_, transpose_, swapaxes_, swapdims_)
  change the tensor's own view of its memory; they refuse a tensor that requires grad,
  whose recorded shape the backward relies on.
"""
from . import _C

Tensor = _C.Tensor

_KIND = {"bool": 0, "int32": 1, "int64": 1, "float32": 2, "float64": 2}

# In-place name -> the out-of-place method it writes back.
WRITE_BACK = {name + "_": name for name in [
    "absolute", "addbmm", "addmm", "addmv", "addr", "atan2", "arctan2", "baddbmm", "clamp_max", "clamp_min",
    "clip", "copysign", "cumprod", "cumsum", "deg2rad", "digamma", "divide", "eq", "erfinv", "fix", "float_power",
    "floor_divide", "fmod", "frac", "gcd", "ge", "greater", "greater_equal", "gt", "heaviside", "hypot",
    "index_add", "index_put", "lcm", "ldexp", "le", "less", "less_equal", "lgamma", "logical_and", "logical_not",
    "logical_or", "logical_xor", "logit", "lt", "masked_scatter", "multiply", "mvlgamma", "nan_to_num", "ne",
    "negative", "not_equal", "pow", "rad2deg", "remainder", "renorm", "scatter_add", "sgn", "sign", "sinc",
    "subtract", "tan", "tril", "triu", "true_divide", "xlogy", "asinh", "acosh", "atanh", "arcsinh", "arccosh",
    "arctanh", "arcsin", "arccos", "arctan", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
    "bitwise_left_shift", "bitwise_right_shift", "scatter_reduce", "index_reduce", "put", "nextafter", "i0",
    "igamma", "igammac", "polygamma"]}

RESHAPE = {name + "_": name for name in ["squeeze", "unsqueeze", "t", "transpose", "swapaxes", "swapdims"]}


def _write_back(name, base):
    return writer(name, getattr(Tensor, base), f"self.{base}(...)")


def writer(name, op, what=None):
    """The in-place form ``name`` of op(self, *args, **kwargs): the result written into
    self, with the checks above (also serves nn.functional's relu_, elu_, ...)."""

    def method(self, *args, **kwargs):
        in_graph = self.requires_grad and _C.is_grad_enabled()
        if in_graph and self.is_leaf:
            raise RuntimeError(f"{name}: a leaf tensor that requires grad is being used in an in-place operation; "
                               "wrap it in dlcore.no_grad() or use the out-of-place op")
        if name == "float_power_" and self.dtype != _C.dtype.float64:
            raise TypeError(f"float_power_: the tensor is {self.dtype.name}, but float_power's result is float64; "
                            "use float_power() (out of place) or a float64 tensor")
        out = op(self.clone() if in_graph else self, *args, **kwargs)
        if tuple(out.shape) != tuple(self.shape):
            raise ValueError(f"{name}: the result has shape {tuple(out.shape)}, the tensor {tuple(self.shape)}; "
                             "an in-place op cannot change the tensor's shape (use the out-of-place op)")
        if _KIND[out.dtype.name] > _KIND[self.dtype.name]:
            raise TypeError(f"{name}: the result's dtype {out.dtype.name} cannot be written into a "
                            f"{self.dtype.name} tensor (use the out-of-place op)")
        return self.copy_(out)

    method.__name__ = name
    method.__doc__ = f"In place: {what or name[:-1] + '(self, ...)'} written into self, returned."
    return method


def _reshape(name, base):
    op = getattr(Tensor, base)

    def method(self, *args, **kwargs):
        if self.requires_grad:
            raise RuntimeError(f"{name}: the tensor requires grad, and its recorded shape is what the backward "
                               f"uses; use {base}() (out of place, a view)")
        self.data = op(self, *args, **kwargs)
        return self

    method.__name__ = name
    method.__doc__ = f"In place: self becomes self.{base}(...) (a view of the same memory), returned."
    return method


def install():
    """Adds the methods the Tensor lacks (called once its out-of-place methods are all in)."""
    for name, base in WRITE_BACK.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, _write_back(name, base))
    for name, base in RESHAPE.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, _reshape(name, base))
