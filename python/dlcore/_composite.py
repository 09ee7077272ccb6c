"""Tensor functions built from the core's ops, with PyTorch's names and semantics: each is a
module function (``dlcore.movedim``) and, where PyTorch has one, a Tensor method. Their
gradients are those of the ops they are made of."""
import builtins
import math

from . import _C

Tensor = _C.Tensor


def _dims(value, ndim, name):
    """A dim or a sequence of dims, normalised to non-negative ints."""
    dims = [value] if isinstance(value, builtins.int) else list(value)
    n = builtins.max(ndim, 1)
    out = []
    for d in dims:
        if isinstance(d, builtins.bool) or not isinstance(d, builtins.int):
            raise TypeError(f"{name}: dims must be ints, got {d!r}")
        if not -n <= d < n:
            raise IndexError(f"{name}: dimension out of range (expected to be in range of "
                             f"[{-n}, {n - 1}], but got {d})")
        out.append(d % n)
    return out


def movedim(input, source, destination):
    """The view of ``input`` with its dims ``source`` (an int or a sequence) moved to the
    positions ``destination``; the other dims keep their order."""
    src = _dims(source, input.ndim, "movedim")
    dst = _dims(destination, input.ndim, "movedim")
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {src} and destination {dst} must have the same "
                         "number of dims")
    for what, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise ValueError(f"movedim: repeated dim in {what} {dims}")
    if input.ndim == 0:
        return input.reshape(())
    order = [None] * input.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(input.ndim) if d not in src)
    return input.permute([o if o is not None else next(rest) for o in order])


def unbind(input, dim=0):
    """The slices of ``input`` along ``dim``, each without that dim (views)."""
    if input.ndim == 0:
        raise IndexError("unbind: a 0-d tensor has no dimension to unbind")
    (d,) = _dims(dim, input.ndim, "unbind")
    return tuple(input.select(d, i) for i in range(input.shape[d]))


def outer(input, vec2):
    """The outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]``."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got shapes {tuple(input.shape)} "
                         f"and {tuple(vec2.shape)}")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


def isnan(input):
    """Where ``input`` is NaN (a bool tensor)."""
    return input != input


def isinf(input):
    """Where ``input`` is +inf or -inf (a bool tensor)."""
    if not input.dtype.is_floating_point:
        return input != input
    return input.abs() == math.inf


def isfinite(input):
    """Where ``input`` is neither NaN nor infinite (a bool tensor)."""
    if not input.dtype.is_floating_point:
        return input == input
    return (input - input) == 0


def logical_and(input, other):
    return (input != 0) & (other != 0)


def logical_or(input, other):
    return (input != 0) | (other != 0)


def any(input, dim=None, keepdim=False):
    """Whether any element (along ``dim``) is non-zero (a bool tensor)."""
    return (input != 0).sum(dim, keepdim) > 0


def all(input, dim=None, keepdim=False):
    """Whether every element (along ``dim``) is non-zero (a bool tensor)."""
    return (input == 0).sum(dim, keepdim) == 0


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Where ``|input - other| <= atol + rtol * |other|`` (a bool tensor). Infinities are
    close only to themselves; NaN to NaN only with ``equal_nan``."""
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
    if not isinstance(other, Tensor):
        from .creation import tensor

        other = tensor(other, dtype=input.dtype)
    if input.dtype != other.dtype:
        raise TypeError(f"isclose: input and other must have the same dtype, got {input.dtype!r} "
                        f"and {other.dtype!r}")
    equal = input == other
    if input.dtype == _C.dtype.bool:
        return equal
    if not input.dtype.is_floating_point:
        input, other = input.to(_C.dtype.float64), other.to(_C.dtype.float64)
    diff = (input - other).abs()
    close = equal | (isfinite(diff) & (diff <= atol + rtol * other.abs()))
    if equal_nan:
        close = close | (isnan(input) & isnan(other))
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of ``input`` is close to ``other`` (``isclose``), as a bool."""
    return builtins.bool(all(isclose(input, other, rtol, atol, equal_nan)).item())


FUNCTIONS = ["movedim", "unbind", "outer", "isnan", "isinf", "isfinite", "logical_and",
             "logical_or", "any", "all", "isclose", "allclose"]
moveaxis = movedim

for _name in FUNCTIONS + ["moveaxis"]:
    setattr(Tensor, _name, globals()[_name])
