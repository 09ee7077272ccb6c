"""Tensor methods that are conveniences over the core (printing, lists, NumPy protocol)."""
import numpy as np

from . import _C
from .creation import full, ones, tensor, zeros

Tensor = _C.Tensor


_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=float("inf"), edgeitems=3, linewidth=80)}
_print_options = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None):
    """How tensors print, as PyTorch's: digits after the point, the element count past
    which only edgeitems per dimension show, the line width; profile 'default', 'short' or
    'full' first; sci_mode True or False forces or forbids scientific notation (None:
    as the values need)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be 'default', 'short' or 'full', got {profile!r}")
        _print_options.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            _print_options[name] = value
    _print_options["sci_mode"] = sci_mode


def get_printoptions():
    return dict(_print_options)


def _repr(self):
    o = _print_options
    fmt = {}
    if o["sci_mode"] is True and self.dtype.is_floating_point:
        fmt = {"float_kind": lambda v: np.format_float_scientific(v, precision=o["precision"], unique=False)}
    a = self.detach().numpy()
    # As PyTorch prints: every value with `precision` digits (1.1235, 2.5000), but whole
    # numbers with none (1., 2.).
    finite = a[np.isfinite(a)] if a.dtype.kind == "f" else a
    whole = a.dtype.kind != "f" or bool(np.all(finite == np.round(finite)))
    data = np.array2string(a, separator=", ", prefix="tensor(", precision=o["precision"],
                           threshold=o["threshold"], edgeitems=o["edgeitems"], max_line_width=o["linewidth"],
                           suppress_small=o["sci_mode"] is False, formatter=fmt or None,
                           floatmode="maxprec_equal" if whole else "fixed")
    extras = []
    if self.dtype not in (_C.dtype.float32, _C.dtype.int64, _C.dtype.bool):
        extras.append(f"dtype={self.dtype!r}")
    if self.grad_fn is not None:
        extras.append(f"grad_fn=<{self.grad_fn.name()}>")
    elif self.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + data + "".join(", " + e for e in extras) + ")"


def _tolist(self):
    return self.detach().numpy().tolist()


def _array(self, dtype=None, copy=None):
    a = self.detach().numpy()
    if dtype is not None:
        a = a.astype(dtype, copy=False)
    if copy:
        a = a.copy()
    return a


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return (self[i] for i in range(self.shape[0]))


def _format(self, spec):
    if self.ndim == 0:
        return format(self.item(), spec)
    return repr(self)


def _rebuild(array, requires_grad):
    t = _C.from_numpy(array)
    return t.requires_grad_(True) if requires_grad else t


def _reduce_ex(self, protocol):
    # Pickling and copy.deepcopy copy the values (and requires_grad), not the graph.
    return (_rebuild, (np.array(self.detach().numpy(), copy=True), self.requires_grad))


Tensor.__reduce_ex__ = _reduce_ex
Tensor.__repr__ = _repr
Tensor.__str__ = _repr
Tensor.__format__ = _format
Tensor.__array__ = _array
Tensor.__array_priority__ = 1000
Tensor.__iter__ = _iter
Tensor.tolist = _tolist
Tensor.is_floating_point = lambda self: self.dtype.is_floating_point
Tensor.type_as = lambda self, other: self.to(other.dtype)
Tensor.new_zeros = lambda self, *size, dtype=None: zeros(*size, dtype=dtype or self.dtype)
Tensor.new_ones = lambda self, *size, dtype=None: ones(*size, dtype=dtype or self.dtype)
Tensor.new_full = lambda self, size, value, dtype=None: full(size, value, dtype=dtype or self.dtype)
Tensor.new_tensor = lambda self, data, dtype=None: tensor(data, dtype=dtype or self.dtype)
_C.dtype.__repr__ = lambda self: "dlcore." + self.name
