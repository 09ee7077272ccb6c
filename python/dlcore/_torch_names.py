"""The rest of the names a script written for PyTorch reaches for, composed of dlcore's ops
(their gradients are those of the ops):

- constants (pi, e, inf, nan, newaxis) and the aliases PyTorch keeps for NumPy's names
  (arccos, greater, not_equal, ...);
- inverse hyperbolic functions, fmax/fmin, isposinf/isneginf/isreal, ldexp, gcd/lcm,
  mvlgamma, diagflat, addr;
- scatters of a whole slice: select_scatter, slice_scatter, diagonal_scatter, index_put;
- sum_to_size, split_with_sizes, unravel_index, the signal windows (hann, hamming,
  blackman, bartlett, kaiser), as_tensor/asarray and the dtype questions (result_type,
  promote_types, can_cast);
- the functional ops PyTorch also offers at its top level (torch.conv2d, torch.dropout,
  torch.embedding, ...), with that level's argument order;
- the Tensor attributes of a real CPU tensor (is_cuda, nbytes, mT, real, conj(), ...).
"""
import builtins
import math

import numpy as np

from . import _C
from .creation import arange, tensor, zeros

Tensor = _C.Tensor

pi = math.pi
e = math.e
inf = math.inf
nan = math.nan
newaxis = None


# ---- inverse hyperbolic functions ----------------------------------------------------

def _floating(input):
    """input, or input converted to the default float dtype when it is an integer or bool."""
    if input.dtype.is_floating_point:
        return input
    from .creation import get_default_dtype

    return input.to(get_default_dtype())


def _big(x):
    """Where |x| is so large that x^2 would overflow or swamp 1: there the functions are
    log(2 |x|) (up to a relative 1/x^2, below the dtype's precision)."""
    return x.abs() > (2.0**28 if x.dtype == _C.dtype.float64 else 2.0**12)


def _odd(x, f):
    """f(x) for x >= 0 and -f(-x) below: |x| as a where (slope +-1, also at 0), not abs
    times sign, whose derivative at 0 is 0."""
    neg = x < 0
    y = f(_C.where(neg, -x, x))
    return _C.where(neg, -y, y)


def asinh(input):
    """asinh(x) = log1p(x + x^2 / (1 + sqrt(1 + x^2))) for x >= 0 (odd): no cancellation
    near 0 or for negative x; log(2 x) where x^2 would overflow."""
    x = _floating(input)

    def positive(a):
        big = _big(a)
        s = _C.where(big, 1.0, a)  # the unused branch stays finite, and so do its gradients
        small = (s + s * s / (1.0 + (1.0 + s * s).sqrt())).log1p()
        return _C.where(big, _C.where(big, a, 1.0).log() + math.log(2.0), small)

    return _odd(x, positive)


def acosh(input):
    """acosh(x) = log1p(t + sqrt(t (2 + t))), t = x - 1 (exact near 1); NaN below 1."""
    x = _floating(input)
    big = _big(x)
    t = _C.where(big, 1.0, x) - 1.0
    small = (t + (t * (t + 2.0)).sqrt()).log1p()
    return _C.where(big, _C.where(big, x, 1.0).log() + math.log(2.0), small)


def atanh(input):
    """atanh(x) = log1p(2 x / (1 - x)) / 2 for x >= 0 (odd): no cancellation near -1;
    +-inf at +-1, NaN beyond."""
    return _odd(_floating(input), lambda a: (2.0 * a / (1.0 - a)).log1p() * 0.5)


# ---- elementwise --------------------------------------------------------------------

def _pair(input, other):
    from ._composite import broadcast_tensors

    other = other if isinstance(other, Tensor) else tensor(other, dtype=input.dtype)
    return broadcast_tensors(input, other)


def fmax(input, other):
    """The elementwise maximum, taking the number where one of the two is NaN (NaN only
    where both are)."""
    a, b = _pair(input, other)
    return _C.where(a != a, b, _C.where(b != b, a, _C.maximum(a, b)))


def fmin(input, other):
    """The elementwise minimum, taking the number where one of the two is NaN."""
    a, b = _pair(input, other)
    return _C.where(a != a, b, _C.where(b != b, a, _C.minimum(a, b)))


def isposinf(input):
    return input == inf if input.dtype.is_floating_point else zeros(tuple(input.shape), dtype=_C.dtype.bool)


def isneginf(input):
    return input == -inf if input.dtype.is_floating_point else zeros(tuple(input.shape), dtype=_C.dtype.bool)


def isreal(input):
    """True everywhere: dlcore's tensors are real."""
    from .creation import ones

    return ones(tuple(input.shape), dtype=_C.dtype.bool)


def ldexp(input, other):
    """input * 2^other, in a floating dtype."""
    x = _floating(input)
    o = other if isinstance(other, Tensor) else tensor(other, dtype=x.dtype)
    return x * o.to(x.dtype).exp2()


def _integer_pair(input, other, name):
    a, b = _pair(input, other)
    for t in (a, b):
        if t.dtype.is_floating_point or t.dtype == _C.dtype.bool:
            raise TypeError(f"{name}: expected integer tensors, got {a.dtype.name} and {b.dtype.name}")
    return a, b


def gcd(input, other):
    """The greatest common divisor of integers, elementwise (non-negative; gcd(0, 0) = 0),
    by Euclid's algorithm run on every element at once."""
    a, b = _integer_pair(input, other, "gcd")
    a, b = a.abs(), b.abs()
    while bool((b != 0).any().item()):
        nz = b != 0
        a, b = _C.where(nz, b, a), _C.where(nz, a.remainder(_C.where(nz, b, 1)), 0)
    return a


def lcm(input, other):
    """The least common multiple of integers, elementwise (non-negative; 0 where either is)."""
    a, b = _integer_pair(input, other, "lcm")
    g = gcd(a, b)
    return _C.where(g == 0, 0, (a // _C.where(g == 0, 1, g) * b).abs())


def mvlgamma(input, p):
    """The log of the multivariate gamma function of dimension p:
    p (p - 1) / 4 log(pi) + sum_{j < p} lgamma(x - j / 2), defined for x > (p - 1) / 2."""
    if not isinstance(p, int) or isinstance(p, bool) or p < 1:
        raise ValueError(f"mvlgamma: p must be a positive int, got {p!r}")
    x = _floating(input)
    if x.numel() and not bool((x > (p - 1) / 2).all().item()):
        raise ValueError(f"mvlgamma: all elements must be greater than (p - 1) / 2 = {(p - 1) / 2}")
    out = x.lgamma()
    for j in range(1, p):
        out = out + (x - j / 2).lgamma()
    return out + p * (p - 1) / 4 * math.log(math.pi)


def diagflat(input, offset=0):
    """A 2-D tensor with the flattened input on its diagonal ``offset``."""
    from ._composite import diag

    return diag(input.reshape(-1), offset)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """beta input + alpha outer(vec1, vec2) (input is not read where beta is 0)."""
    from ._composite import outer

    if vec1.ndim != 1 or vec2.ndim != 1:
        raise ValueError(f"addr: vec1 and vec2 must be 1-D, got shapes {tuple(vec1.shape)} and {tuple(vec2.shape)}")
    prod = outer(vec1, vec2)
    prod = prod if alpha == 1 else prod * alpha
    if beta == 0:
        return prod + zeros(tuple(input.shape), dtype=input.dtype)
    return (input if beta == 1 else input * beta) + prod


# ---- scatters of a whole slice -------------------------------------------------------

def _dim(input, dim, name):
    n = builtins.max(input.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{name}: dim {dim} is out of range for a tensor of {input.ndim} dimensions")
    return dim % n


def _same_shape(src, want, name, what):
    if tuple(src.shape) != tuple(want):
        raise ValueError(f"{name}: src of shape {tuple(src.shape)} does not match the {what}'s shape {tuple(want)}")


def select_scatter(input, src, dim, index):
    """input with its slice ``index`` along dim replaced by src (the shape of that slice)."""
    d = _dim(input, dim, "select_scatter")
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"select_scatter: index {index} is out of range for dim {dim} of size {size}")
    _same_shape(src, input.select(d, index).shape, "select_scatter", "selected slice")
    return slice_scatter(input, src.unsqueeze(d), d, index % size, index % size + 1)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """input with ``input[..., start:end:step, ...]`` (along dim) replaced by src."""
    from ._tensor_extras import index_copy

    d = _dim(input, dim, "slice_scatter")
    if step < 1:
        raise ValueError(f"slice_scatter: step must be positive, got {step}")
    positions = range(input.shape[d])[builtins.slice(start, end, step)]
    want = list(input.shape)
    want[d] = len(positions)
    _same_shape(src, want, "slice_scatter", "slice")
    if not len(positions):
        return input + zeros((), dtype=input.dtype)
    return index_copy(input, d, tensor(list(positions), dtype=_C.dtype.int64), src.to(input.dtype))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """input with its diagonal ``offset`` over (dim1, dim2) replaced by src (the shape of
    ``input.diagonal(offset, dim1, dim2)``)."""
    from ._composite import diagonal
    from ._tensor_extras import index_copy

    if input.ndim < 2:
        raise ValueError(f"diagonal_scatter: the input must have at least 2 dims, got shape {tuple(input.shape)}")
    d1, d2 = _dim(input, dim1, "diagonal_scatter"), _dim(input, dim2, "diagonal_scatter")
    if d1 == d2:
        raise ValueError(f"diagonal_scatter: dim1 and dim2 must differ, got {dim1} and {dim2}")
    _same_shape(src, diagonal(input, offset, d1, d2).shape, "diagonal_scatter", "diagonal")
    x = input.movedim((d1, d2), (-2, -1))
    R, C = x.shape[-2], x.shape[-1]
    n = src.shape[-1]
    if n == 0:
        return input + zeros((), dtype=input.dtype)
    r0, c0 = builtins.max(0, -offset), builtins.max(0, offset)
    flat_index = (arange(n) + r0) * C + arange(n) + c0
    flat = x.reshape(tuple(x.shape[:-2]) + (R * C,))
    out = index_copy(flat, flat.ndim - 1, flat_index, src.to(input.dtype)).reshape(tuple(x.shape))
    return out.movedim((-2, -1), (d1, d2))


def index_put(input, indices, values, accumulate=False):
    """input with ``input[indices] = values`` (a copy); indices is a tuple of integer (or
    bool) tensors for the leading dimensions, broadcast together. With accumulate, values
    add to what is there (repeated positions add up); without, a position named twice gets
    the sum of its values, as dlcore's scatter writes it (PyTorch leaves the winner
    unspecified)."""
    if not isinstance(indices, (tuple, list)) or not indices:
        raise TypeError("index_put: indices must be a non-empty tuple of tensors")
    idx = []
    for t in indices:
        if not isinstance(t, Tensor):
            t = tensor(t)
        if t.dtype == _C.dtype.bool:
            idx.extend(t.nonzero().unbind(1))
        elif t.dtype.is_floating_point:
            raise TypeError(f"index_put: indices must be integer or bool tensors, got {t.dtype.name}")
        else:
            idx.append(t.to(_C.dtype.int64))
    k = len(idx)
    if k > input.ndim:
        raise IndexError(f"index_put: too many indices ({k}) for a tensor of {input.ndim} dimensions")
    if k > 1:
        from ._composite import broadcast_tensors

        idx = list(broadcast_tensors(*idx))
    lead = tuple(input.shape[:k])
    flat = zeros(tuple(idx[0].shape), dtype=_C.dtype.int64)
    for d, t in enumerate(idx):
        size = lead[d]
        if t.numel() and (bool((t >= size).any().item()) or bool((t < -size).any().item())):
            bad = int(t[(t >= size) | (t < -size)][0].item())
            raise IndexError(f"index_put: index {bad} is out of bounds for dimension {d} with size {size}")
        flat = flat * size + t.remainder(size)
    rest = tuple(input.shape[k:])
    flat = flat.reshape(-1)
    x = input.reshape((math.prod(lead),) + rest)
    v = values if isinstance(values, Tensor) else tensor(values, dtype=input.dtype)
    v = v.to(input.dtype).broadcast_to(tuple(idx[0].shape) + rest).reshape((flat.shape[0],) + rest)
    if accumulate:
        return x.index_add(0, flat, v).reshape(tuple(input.shape))
    from ._tensor_extras import index_copy

    return index_copy(x, 0, flat, v).reshape(tuple(input.shape))


# ---- shapes -----------------------------------------------------------------------

def sum_to_size(self, *size):
    """self summed over the dimensions that broadcasting would expand from ``size`` (which
    must broadcast to self's shape)."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
    shape = tuple(self.shape)
    lead = len(shape) - len(size)
    if lead < 0 or builtins.any(s != 1 and s != n for s, n in zip(size, shape[lead:])):
        raise ValueError(f"sum_to_size: size {size} is not expandable to the tensor's size {shape}")
    out = self.sum(tuple(range(lead))) if lead else self
    dims = tuple(d for d, s in enumerate(size) if s == 1 and out.shape[d] != 1)
    return out.sum(dims, keepdim=True) if dims else out


def split_with_sizes(self, split_sizes, dim=0):
    d = _dim(self, dim, "split_with_sizes")
    if builtins.sum(split_sizes) != self.shape[d]:
        raise ValueError(f"split_with_sizes: the sizes {list(split_sizes)} must sum to the size of dim {dim}, "
                         f"{self.shape[d]}")
    return self.split(list(split_sizes), d)


def unravel_index(indices, shape):
    """The coordinates of flat (row-major) ``indices`` in a tensor of ``shape``: a tuple of
    int64 tensors shaped like indices."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    idx = indices if isinstance(indices, Tensor) else tensor(indices)
    if idx.dtype.is_floating_point or idx.dtype == _C.dtype.bool:
        raise TypeError(f"unravel_index: expected integer indices, got {idx.dtype.name}")
    if builtins.any(s < 0 for s in shape):
        raise ValueError(f"unravel_index: shape {shape} has a negative size")
    total = math.prod(shape)
    idx = idx.to(_C.dtype.int64)
    if idx.numel() and (bool((idx >= total).any().item()) or bool((idx < -total).any().item())):
        raise IndexError(f"unravel_index: an index is out of bounds for shape {shape} ({total} elements)")
    idx = idx.remainder(builtins.max(total, 1))
    out = []
    for s in reversed(shape):
        out.append(idx.remainder(s))
        idx = idx // s
    return tuple(reversed(out))


# ---- signal windows ---------------------------------------------------------------

def _window(name, n, periodic, dtype, values):
    from .creation import get_default_dtype

    if not isinstance(n, int) or n < 0:
        raise ValueError(f"{name}: window_length must be a non-negative int, got {n!r}")
    dtype = dtype or get_default_dtype()
    if not dtype.is_floating_point:
        raise TypeError(f"{name}: expected a floating dtype, got {dtype.name}")
    if n <= 1:
        return tensor(np.ones(n), dtype=dtype)
    m = n + 1 if periodic else n
    k = np.arange(n, dtype=np.float64)
    return tensor(values(k, m), dtype=dtype)


def _cosine_sum(k, m, coefficients):
    return builtins.sum(c * (-1) ** j * np.cos(2 * np.pi * j * k / (m - 1)) for j, c in enumerate(coefficients))


def hann_window(window_length, periodic=True, *, dtype=None):
    return _window("hann_window", window_length, periodic, dtype, lambda k, m: _cosine_sum(k, m, (0.5, 0.5)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None):
    return _window("hamming_window", window_length, periodic, dtype, lambda k, m: _cosine_sum(k, m, (alpha, beta)))


def blackman_window(window_length, periodic=True, *, dtype=None):
    return _window("blackman_window", window_length, periodic, dtype,
                   lambda k, m: _cosine_sum(k, m, (0.42, 0.5, 0.08)))


def bartlett_window(window_length, periodic=True, *, dtype=None):
    return _window("bartlett_window", window_length, periodic, dtype,
                   lambda k, m: 1 - np.abs(2 * k / (m - 1) - 1))


def _bessel_i0(x):
    """I0 by its power series sum ((x / 2)^k / k!)^2, to double precision for the
    arguments a window uses (at most a few hundred)."""
    x = np.asarray(x, dtype=np.float64)
    term = np.ones_like(x)
    total = np.ones_like(x)
    q = (x / 2) ** 2
    for k in range(1, 500):
        term = term * q / (k * k)
        total = total + term
        if np.all(term <= 1e-17 * total):
            break
    return total


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None):
    return _window("kaiser_window", window_length, periodic, dtype,
                   lambda k, m: _bessel_i0(beta * np.sqrt(np.clip(1 - (2 * k / (m - 1) - 1) ** 2, 0, None)))
                   / _bessel_i0(beta))


# ---- conversions and dtype questions --------------------------------------------------

def as_tensor(data, dtype=None, device=None):
    """data as a tensor: a tensor of that dtype is returned as it is (no copy); NumPy
    arrays, lists and numbers are converted (a NumPy array of a dlcore dtype shares its
    memory, as from_numpy does)."""
    from .creation import _check_device

    _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and data.dtype.kind in "fiub":
        from . import from_numpy

        try:
            t = from_numpy(data)
        except (TypeError, ValueError):
            t = None
        if t is not None:
            return t if dtype is None or t.dtype == dtype else t.to(dtype)
    return tensor(data, dtype=dtype)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """obj as a tensor, shared where it can be (as_tensor); copy=True always copies,
    copy=False raises where a copy is needed."""
    t = as_tensor(obj, dtype=dtype, device=device)
    shares = isinstance(obj, Tensor) and t is obj
    if not shares and isinstance(obj, np.ndarray) and obj.size:
        shares = int(t.detach().numpy().__array_interface__["data"][0]) == obj.__array_interface__["data"][0]
    if copy is True and shares:
        t = t.clone()
    elif copy is False and not shares and not isinstance(obj, Tensor):
        raise ValueError("asarray: copy=False, but the data cannot be shared (it needs a copy or a conversion)")
    if requires_grad:
        t = t.detach().requires_grad_()
    return t


_KIND = {"bool": 0, "int32": 1, "int64": 1, "float32": 2, "float64": 2}
_ORDER = ["bool", "int32", "int64", "float32", "float64"]


def promote_types(type1, type2):
    """The smallest dtype both dtypes convert to without losing their kind."""
    return getattr(_C.dtype, _ORDER[builtins.max(_ORDER.index(type1.name), _ORDER.index(type2.name))])


def result_type(tensor1, tensor2):
    """The dtype of an arithmetic op of the two (tensors or numbers), as the ops promote:
    numbers weigh less than tensors."""
    def probe(x):
        return zeros((), dtype=x.dtype) if isinstance(x, Tensor) else x

    a, b = probe(tensor1), probe(tensor2)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = tensor(a)
    return (a + b).dtype


def can_cast(from_, to):
    """Whether an in-place op may write a result of dtype from_ into a tensor of dtype to:
    not from a float to an integer or bool, nor from an integer to bool."""
    return _KIND[from_.name] <= _KIND[to.name]


def is_nonzero(input):
    if input.numel() != 1:
        raise RuntimeError(f"is_nonzero: a tensor with {input.numel()} values has no single truth value")
    return builtins.bool(input.reshape(()).item() != 0)


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input):
    return input.dtype != _C.dtype.bool


def is_complex(input):
    return False


def is_conj(input):
    return False


def is_neg(input):
    return False


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    from .creation import _check_device, get_default_dtype

    _check_device(device)
    return tensor(s, dtype=dtype or get_default_dtype(), requires_grad=requires_grad)


def chain_matmul(*matrices):
    from .linalg import multi_dot

    if len(matrices) == 1:
        return matrices[0]
    return multi_dot(list(matrices))


# ---- PyTorch's top-level functional ops -------------------------------------------

def _functional():
    from .nn import functional

    return functional


def dropout(input, p, train):
    return _functional().dropout(input, p, train)


def alpha_dropout(input, p, train):
    return _functional().alpha_dropout(input, p, train)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    return _functional().layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    return _functional().group_norm(input, num_groups, weight, bias, eps)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """torch.embedding's order: the weight first (nn.functional.embedding takes the indices
    first)."""
    return _functional().embedding(indices, weight, padding_idx=None if padding_idx < 0 else padding_idx)


_SAME_SIGNATURE = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                   "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "adaptive_avg_pool1d", "pixel_shuffle",
                   "pixel_unshuffle", "channel_shuffle", "cosine_similarity", "pairwise_distance", "selu", "celu",
                   "prelu", "rrelu", "hardshrink", "threshold", "bilinear", "rms_norm"]


def _export_functional(namespace):
    f = _functional()
    for name in _SAME_SIGNATURE:
        namespace[name] = getattr(f, name)


# ---- Tensor attributes of a real CPU tensor -----------------------------------------

def _mT(self):
    if self.ndim < 2:
        raise ValueError(f"mT: the tensor must have at least 2 dimensions, got shape {tuple(self.shape)}")
    return self.transpose(-2, -1)


def _H(self):
    if self.ndim != 2:
        raise ValueError(f"H: the tensor must be a matrix (2 dimensions), got shape {tuple(self.shape)}; "
                         "use mH for batches of matrices")
    return self.transpose(0, 1)


def _imag(self):
    raise RuntimeError("imag: dlcore's tensors are real; there is no imaginary part")


ALIASES = {"arccos": "acos", "arcsin": "asin", "arctan": "atan", "arctan2": "atan2", "arcsinh": "asinh",
           "arccosh": "acosh", "arctanh": "atanh", "greater": "gt", "greater_equal": "ge", "less": "lt",
           "less_equal": "le", "not_equal": "ne", "divide": "div", "multiply": "mul", "subtract": "sub"}

FUNCTIONS = ["asinh", "acosh", "atanh", "fmax", "fmin", "isposinf", "isneginf", "isreal", "ldexp", "gcd", "lcm",
             "mvlgamma", "diagflat", "addr", "select_scatter", "slice_scatter", "diagonal_scatter", "index_put",
             "is_nonzero", "is_same_size", "is_signed", "is_complex", "is_conj", "is_neg"]
METHODS = FUNCTIONS + ["sum_to_size", "split_with_sizes"]

for _name in METHODS:
    setattr(Tensor, _name, globals()[_name])
for _alias, _base in ALIASES.items():
    setattr(Tensor, _alias, getattr(Tensor, _base))
Tensor.is_cuda = property(lambda self: False)
Tensor.is_cpu = property(lambda self: True)
for _flag in ("is_sparse", "is_quantized", "is_meta", "is_mkldnn", "is_nested"):
    setattr(Tensor, _flag, property(lambda self: False))
Tensor.itemsize = property(lambda self: self.element_size())
Tensor.nbytes = property(lambda self: self.element_size() * self.numel())
Tensor.ndimension = lambda self: self.ndim
Tensor.mT = property(_mT)
Tensor.mH = property(_mT)
Tensor.H = property(_H)
Tensor.adjoint = _mT
Tensor.real = property(lambda self: self)
Tensor.imag = property(_imag)
for _same in ("conj", "conj_physical", "resolve_conj", "resolve_neg"):
    setattr(Tensor, _same, lambda self: self)


# ---- Tensor methods PyTorch also offers as functions of its top level ------------------

# torch.exp_(x) is x.exp_(), torch.select(x, 0, 1) is x.select(0, 1), and so on: each
# name below is a function of the input that calls the method of the same name (the
# in-place ones write into input and return it, as the methods do).
METHOD_FUNCTIONS = (
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_",
    "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_",
    "deg2rad_", "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_",
    "i0_", "index_put_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_",
    "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_",
    "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_", "addmv_",
    "digamma", "lgamma", "is_floating_point", "is_inference", "narrow_copy", "select", "orgqr", "adjoint",
    "conj", "conj_physical", "resolve_conj", "resolve_neg",
)


def _method_function(name):
    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' must be a Tensor, not {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"{name}(input, *args, **kwargs) is input.{name}(*args, **kwargs)."
    return function


def real(input):
    """The real part: input itself (dlcore's tensors are real)."""
    return input.real


def imag(input):
    """Raises: dlcore's tensors are real and have no imaginary part."""
    return input.imag


def fill(input, value):
    """A tensor like input filled with value (the out-of-place form of fill_)."""
    from .creation import full_like

    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise ValueError(f"fill(): the value must be a number or a 0-dim tensor, got shape {tuple(value.shape)}")
        value = value.item()
    return full_like(input, value)


def _export_methods(namespace):
    for name in METHOD_FUNCTIONS:
        namespace.setdefault(name, _method_function(name))


class Size(tuple):
    """A shape, as PyTorch's torch.Size: a tuple of ints (dlcore's .shape and .size() are
    plain tuples and compare equal to it) with numel()."""

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for s in sizes:
            if isinstance(s, builtins.bool) or not isinstance(s, (builtins.int, np.integer)):
                raise TypeError(f"Size: every size must be an int, got {type(s).__name__} in {sizes}")
        return super().__new__(cls, (builtins.int(s) for s in sizes))

    def numel(self):
        return math.prod(self)

    def __getitem__(self, index):
        out = super().__getitem__(index)
        return Size(out) if isinstance(index, slice) else out

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))

    def __repr__(self):
        return f"dlcore.Size({list(self)})"
