"""More of PyTorch's tensor functions and methods, composed of dlcore's ops (their gradients
are those of the ops): tan, dot/vdot/mv/ger, baddbmm/addbmm/addmv, matrix_power, diag_embed,
fliplr/flipud, index_copy, masked_scatter, nanquantile, unique_consecutive, cov/corrcoef,
isin, logaddexp2, equal, and the Tensor conversions a ported script calls (``cuda()``,
``half()`` and the like raise with the reason; ``pin_memory()`` and ``get_device()`` answer
for the CPU), ``register_post_accumulate_grad_hook``, and frexp, nextafter, angle, put,
nonzero_static, histogram, map_/apply_, narrow_copy; storage_offset/layout/is_pinned/
share_memory_ (one process, dense CPU tensors), Tensor.lu/lu_solve and the top-level lu,
lu_solve, lu_unpack (PyTorch's older names), unsafe_chunk/unsafe_split."""
import builtins
import math
import weakref
from collections import namedtuple

import numpy as np

from . import _C
from ._composite import diagonal, outer
from .creation import arange, eye, tensor, zeros
from .grad_mode import no_grad as _no_grad

Tensor = _C.Tensor


def tan(input):
    """sin / cos."""
    return input.sin() / input.cos()


absolute = _C.abs
fix = _C.trunc
sgn = _C.sign


def dot(input, other):
    """The inner product of two 1-D tensors of one length."""
    if input.ndim != 1 or other.ndim != 1:
        raise ValueError(f"dot: 1D tensors expected, got {input.ndim}D and {other.ndim}D tensors")
    if input.shape[0] != other.shape[0]:
        raise ValueError(f"dot: inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
                         f"[{other.shape[0]}] to have the same number of elements")
    return (input * other).sum()


vdot = dot  # real tensors: no conjugate


def mv(input, vec):
    """A matrix times a vector."""
    if input.ndim != 2 or vec.ndim != 1 or input.shape[1] != vec.shape[0]:
        raise ValueError(f"mv: expected a matrix (n, m) and a vector (m,), got {tuple(input.shape)} and "
                         f"{tuple(vec.shape)}")
    return input @ vec


ger = outer


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return input * beta + mv(mat, vec) * alpha


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta input + alpha batch1 @ batch2, batch by batch."""
    return input * beta + _C.matmul(batch1, batch2) * alpha


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta input + alpha sum over the batch of batch1 @ batch2."""
    return input * beta + _C.matmul(batch1, batch2).sum(0) * alpha


def matrix_power(input, n):
    """A square matrix (or batch) to an integer power: by repeated squaring, the inverse for
    n < 0, the identity for 0."""
    if not isinstance(n, builtins.int):
        raise TypeError(f"matrix_power: n must be an int, got {type(n).__name__}")
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise ValueError(f"matrix_power: expected square matrices (..., n, n), got shape {tuple(input.shape)}")
    if n < 0:
        from .linalg import inv

        return matrix_power(inv(input), -n)
    result, base = None, input
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    if result is None:
        return eye(input.shape[-1], dtype=input.dtype).expand(tuple(input.shape)).contiguous()
    return result


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose diagonal ``offset`` holds the last dim of input (in dims dim1, dim2 of
    the result)."""
    n = input.shape[-1]
    size = n + builtins.abs(offset)
    r0, c0 = builtins.max(0, -offset), builtins.max(0, offset)
    rows, cols = arange(n) + r0, arange(n) + c0
    # select[i, r, c] = 1 where r, c is the i-th place of the diagonal
    select = ((arange(size).reshape(1, size, 1) == rows.reshape(n, 1, 1))
              & (arange(size).reshape(1, 1, size) == cols.reshape(n, 1, 1))).to(input.dtype)
    out = (input.unsqueeze(-1).unsqueeze(-1) * select).sum(-3)
    d1, d2 = (dim1 % out.ndim, dim2 % out.ndim)
    if d1 == d2:
        raise ValueError(f"diag_embed: dim1 and dim2 must differ, got {dim1} and {dim2}")
    return out.movedim((out.ndim - 2, out.ndim - 1), (d1, d2))


def fliplr(input):
    if input.ndim < 2:
        raise ValueError(f"fliplr: the input must have at least 2 dims, got shape {tuple(input.shape)}")
    return input.flip([1])


def flipud(input):
    if input.ndim < 1:
        raise ValueError("flipud: the input must have at least 1 dim")
    return input.flip([0])


def index_copy(input, dim, index, source):
    """input with its slices ``index`` along dim replaced by source's."""
    d = dim % builtins.max(input.ndim, 1)
    if index.ndim != 1 or source.shape[d] != index.shape[0]:
        raise ValueError(f"index_copy: source of shape {tuple(source.shape)} needs {index.shape[0]} slices "
                         f"along dim {dim} for an index of shape {tuple(index.shape)}")
    shape = [1] * source.ndim
    shape[d] = index.shape[0]
    idx = index.reshape(shape).expand(tuple(source.shape))
    landed = zeros(tuple(input.shape), dtype=_C.dtype.bool).scatter(d, idx, True)
    return _C.where(landed, zeros(tuple(input.shape), dtype=input.dtype).scatter(d, idx, source), input)


def _index_copy_(self, dim, index, source):
    return self.copy_(index_copy(self, dim, index, source))


def masked_scatter(input, mask, source):
    """input with the places where mask (broadcast to input) is True filled, in order, by
    the first values of source."""
    m = mask.broadcast_to(tuple(input.shape)) if tuple(mask.shape) != tuple(input.shape) else mask
    flat = m.reshape(-1)
    count = int(flat.sum().item())
    if count > source.numel():
        raise ValueError(f"masked_scatter: the mask selects {count} places, source has {source.numel()} values")
    position = (flat.to(_C.dtype.int64).cumsum(0) - 1).clamp(0, None)
    values = source.reshape(-1).gather(0, position) if source.numel() else zeros(flat.shape, dtype=input.dtype)
    return _C.where(m, values.reshape(tuple(input.shape)), input)


def nanquantile(input, q, dim=None, keepdim=False, interpolation="linear"):
    """quantile over the values that are not NaN (a line of NaN only gives NaN)."""
    from ._order_statistics import _line_dim, _quantile_args, _quantile_result, quantile

    qs, scalar_q = _quantile_args(input, q, interpolation, "nanquantile")
    if not bool((input != input).any().item()):
        return quantile(input, q, dim, keepdim, interpolation)
    x, d = (input.reshape(-1), 0) if dim is None else (input if input.ndim else input.reshape(1),
                                                       _line_dim(input, dim, "nanquantile"))
    s = x.sort(d).values  # NaN last
    count = (x == x).sum(d, True)
    last = (count - 1).clamp(0, None)
    outs = []
    for v in qs:
        pos = last.to(x.dtype) * v
        lo = pos.floor()
        hi = pos.ceil()
        frac = pos - lo
        if interpolation == "lower":
            hi, frac = lo, frac * 0
        elif interpolation == "higher":
            lo, frac = hi, frac * 0
        elif interpolation == "nearest":
            near = pos.round()
            lo, hi, frac = near, near, frac * 0
        elif interpolation == "midpoint":
            frac = _C.where(hi != lo, 0.5, 0.0)
        a = s.gather(d, lo.to(_C.dtype.int64))
        b = s.gather(d, hi.to(_C.dtype.int64))
        outs.append(_C.where(count > 0, a + frac * (b - a), math.nan))
    return _quantile_result(outs, input, dim, d, keepdim, scalar_q)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The values with each run of equal neighbours (of the flattened input) kept once; the
    run each element is in (return_inverse) and the runs' lengths (return_counts). No
    gradient."""
    if dim is not None:
        raise ValueError("unique_consecutive: only dim=None (the flattened input) is supported")
    a = input.detach().numpy().reshape(-1)
    if a.size:
        new = np.concatenate([[True], a[1:] != a[:-1]])
        starts = np.flatnonzero(new)
        values, inverse = a[starts], np.cumsum(new) - 1
        counts = np.diff(np.append(starts, a.size))
    else:
        values, inverse, counts = a, np.zeros(0, np.int64), np.zeros(0, np.int64)
    out = [tensor(values, dtype=input.dtype)]
    if return_inverse:
        out.append(tensor(inverse.reshape(tuple(input.shape)).astype(np.int64)))
    if return_counts:
        out.append(tensor(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance of the variables in input's rows (observations in its columns)."""
    if fweights is not None or aweights is not None:
        raise ValueError("cov: fweights and aweights are not supported")
    if input.ndim > 2:
        raise ValueError(f"cov: expected a 1-D or 2-D input, got shape {tuple(input.shape)}")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if not x.dtype.is_floating_point:
        x = x.to(_C._get_default_dtype())
    n = x.shape[1]
    centred = x - x.mean(1, keepdim=True)
    c = (centred @ centred.t()) / builtins.max(n - correction, 0)
    return c.reshape(()) if input.ndim < 2 else c


def corrcoef(input):
    """Pearson's correlation coefficients of the rows, clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    sd = diagonal(c, 0, 0, 1).sqrt()
    return (c / sd.unsqueeze(1) / sd.unsqueeze(0)).clamp(-1, 1)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element is among test_elements (a tensor or a number); bool, no
    gradient."""
    a = elements.detach().numpy() if isinstance(elements, Tensor) else np.asarray(elements)
    b = test_elements.detach().numpy() if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return tensor(np.isin(a, b, invert=invert))


def logaddexp2(input, other):
    """log2(2^x + 2^y), without overflow."""
    big = _C.maximum(input, other)
    return big + (-(input - other).abs()).exp2().log1p() / math.log(2.0)


def equal(input, other):
    """True when the two have one shape and equal values (NaN is not equal to itself)."""
    return tuple(input.shape) == tuple(other.shape) and bool((input == other).all().item())


# ---- conversions a ported script calls
_NO_DTYPE = {"half": "float16", "bfloat16": "bfloat16", "short": "int16", "char": "int8", "byte": "uint8"}


def _no_dtype(name):
    def method(self, *args, **kwargs):
        raise TypeError(f"Tensor.{name}(): dlcore has no {_NO_DTYPE[name]} tensors (float32, float64, int64, "
                        "int32 and bool)")
    method.__name__ = name
    return method


def _cuda(self, *args, **kwargs):
    raise RuntimeError("Tensor.cuda(): no CUDA device in this dlcore build (dlcore.cuda.is_available() is "
                       "False); keep the tensor on the 'cpu' device")


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor", "int32": "IntTensor",
               "bool": "BoolTensor"}


def _type(self, dtype=None, non_blocking=False):
    """Without dtype, the type's name ('dlcore.FloatTensor'); with a dtype, the tensor in it."""
    if dtype is None:
        return "dlcore." + _TYPE_NAMES[self.dtype.name]
    return self.to(dtype)


def _data_ptr(self):
    """The address of the tensor's first element."""
    return int(self.detach().numpy().__array_interface__["data"][0]) if self.numel() else 0


_Frexp = namedtuple("frexp", ["mantissa", "exponent"])
_Histogram = namedtuple("histogram", ["hist", "bin_edges"])


def frexp(input):
    """(mantissa, exponent): input = mantissa * 2^exponent, |mantissa| in [0.5, 1) (0 for 0),
    the exponent int32, as C's frexp; not differentiable."""
    if not input.dtype.is_floating_point:
        raise TypeError(f"frexp: expected a floating tensor, got {input.dtype.name}")
    m, e = np.frexp(input.detach().numpy())
    return _Frexp(tensor(m, dtype=input.dtype), tensor(e.astype(np.int32)))


def nextafter(input, other):
    """The next floating-point value after input toward other (elementwise, broadcast); not
    differentiable."""
    if not input.dtype.is_floating_point:
        raise TypeError(f"nextafter: expected a floating tensor, got {input.dtype.name}")
    o = other.to(input.dtype) if isinstance(other, Tensor) else tensor(other, dtype=input.dtype)
    return tensor(np.nextafter(input.detach().numpy(), o.detach().numpy()), dtype=input.dtype)


def angle(input):
    """The argument of a real number: 0 for x >= 0, pi for x < 0, NaN for NaN (its gradient
    is zero)."""
    x = input if input.dtype.is_floating_point else input.to(_C._get_default_dtype())
    value = _C.where(x != x, math.nan, _C.where(x < 0, math.pi, 0.0))
    return value + _C.where(x.isfinite(), x, 0.0) * 0  # in the graph, with a zero gradient


def put(input, index, source, accumulate=False):
    """input with the values of source at the flat (row-major) positions index (negative
    ones count from the end); accumulate adds instead of writing."""
    flat = input.reshape(-1)
    n = flat.shape[0]
    idx = index.reshape(-1).long()
    if idx.numel() != source.numel():
        raise ValueError(f"put: index has {idx.numel()} elements but source has {source.numel()}")
    if idx.numel() == 0:  # nothing to write
        return input.clone()
    if int(idx.min()) < -n or int(idx.max()) >= n:
        raise IndexError(f"put: index out of range for a tensor of {n} elements")
    idx = _C.where(idx < 0, idx + n, idx)
    from ._torch_names import index_put

    return index_put(flat, (idx,), source.reshape(-1).to(input.dtype), accumulate).reshape(tuple(input.shape))


def nonzero_static(input, *, size, fill_value=-1):
    """nonzero(input) with exactly ``size`` rows: cut after size, or padded with
    fill_value."""
    nz = input.nonzero()
    if nz.shape[0] >= size:
        return nz[:size]
    pad = zeros(size - nz.shape[0], input.ndim, dtype=nz.dtype) + fill_value
    return _C.cat([nz, pad], 0)


def histogram(input, bins, *, range=None, weight=None, density=False):  # noqa: A002
    """(hist, bin_edges) as NumPy's histogram (and torch.histogram): ``bins`` an int or the
    edges; not differentiable."""
    if isinstance(bins, Tensor):
        bins = bins.detach().numpy()
    w = None if weight is None else weight.detach().numpy()
    hist, edges = np.histogram(input.detach().numpy(), bins=bins, range=range, weights=w, density=density)
    return _Histogram(tensor(hist, dtype=input.dtype), tensor(edges, dtype=input.dtype))


def _per_element(self, callable, *others):
    """self[i] = callable(self[i], other[i], ...) for each element (the others broadcast to
    self), in Python, as PyTorch's CPU map_ and apply_; returns self."""
    a = self.detach().numpy()
    columns = [a.reshape(-1).tolist()] + [np.broadcast_to(o.detach().numpy(), a.shape).reshape(-1).tolist()
                                          for o in others]
    out = np.array([callable(*values) for values in zip(*columns)])
    with _no_grad():
        self.copy_(tensor(out.reshape(a.shape), dtype=self.dtype))
    return self


FUNCTIONS = ["tan", "absolute", "fix", "sgn", "dot", "vdot", "mv", "ger", "addmv", "baddbmm", "addbmm",
             "matrix_power", "diag_embed", "fliplr", "flipud", "index_copy", "masked_scatter", "nanquantile",
             "unique_consecutive", "cov", "corrcoef", "logaddexp2", "equal", "frexp", "nextafter", "angle", "put",
             "nonzero_static", "histogram"]
for _name in FUNCTIONS:
    setattr(Tensor, _name, globals()[_name])
for _name in _NO_DTYPE:
    setattr(Tensor, _name, _no_dtype(_name))
Tensor.index_copy_ = _index_copy_


def _register_post_accumulate_grad_hook(self, hook):
    """``hook(tensor)`` after each backward pass has added into this leaf tensor's ``.grad``
    (its return value is ignored): an optimizer can step a parameter as soon as its
    gradient is complete. Returns a handle whose ``remove()`` unregisters it. The hook gets
    this Python object (a Parameter stays the same key in a dict)."""
    own = weakref.ref(self)

    def call(tensor):
        alive = own()
        hook(alive if alive is not None else tensor)

    return self._register_post_accumulate_grad_hook(call)


Tensor.register_post_accumulate_grad_hook = _register_post_accumulate_grad_hook
Tensor.map_ = lambda self, other, callable: _per_element(self, callable, other)
Tensor.apply_ = lambda self, callable: _per_element(self, callable)
Tensor.narrow_copy = lambda self, dim, start, length: self.narrow(dim, start, length).clone()
Tensor.new_empty_strided = lambda self, size, stride, dtype=None: zeros(*size, dtype=dtype or self.dtype)
Tensor.is_inference = lambda self: False
Tensor.where = lambda self, condition, other: _C.where(condition, self, other)
Tensor.broadcast_to = lambda self, size: _C.broadcast_to(self, list(size))
Tensor.new_empty = lambda self, *size, dtype=None: zeros(*size, dtype=dtype or self.dtype)
Tensor.cuda = _cuda
Tensor.pin_memory = lambda self: self
Tensor.get_device = lambda self: -1
Tensor.type = _type
Tensor.data_ptr = _data_ptr


# ---- storage questions, the old LU names, the "unsafe" splits ------------------------

class _Layout:
    """A tensor layout: dlcore has the strided (dense) one, as torch.strided."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"dlcore.{self.name}"


strided = _Layout("strided")


def _lu(self, pivot=True, get_infos=False):
    """(LU, pivots) of a batch of square matrices, and with get_infos the int32 info per
    matrix (0, or the 1-based index of a zero pivot), as PyTorch's Tensor.lu."""
    from ._linalg_lu import lu_factor_ex

    lu_, pivots, info = lu_factor_ex(self, pivot=pivot)
    return (lu_, pivots, info) if get_infos else (lu_, pivots)


def lu_solve(b, LU_data, LU_pivots):
    """The solution x of A x = b from A's LU factorisation (PyTorch's older argument order;
    linalg.lu_solve takes LU, pivots, B)."""
    from ._linalg_lu import lu_solve as _solve

    return _solve(LU_data, LU_pivots, b)


Tensor.storage_offset = lambda self: self._offset
Tensor.layout = property(lambda self: strided)
Tensor.is_pinned = lambda self, device=None: False
Tensor.is_shared = lambda self: False
Tensor.share_memory_ = lambda self: self  # one process: nothing to share
Tensor.lu = _lu
Tensor.lu_solve = lambda self, LU_data, LU_pivots: lu_solve(self, LU_data, LU_pivots)
Tensor.unsafe_chunk = lambda self, chunks, dim=0: self.chunk(chunks, dim)
Tensor.unsafe_split = lambda self, split_size, dim=0: self.split(split_size, dim)
Tensor.unsafe_split_with_sizes = lambda self, split_sizes, dim=0: self.split_with_sizes(split_sizes, dim)


def _resize_(self, *sizes, memory_format=None):
    """Gives the tensor the shape sizes (row-major), growing its memory where it is too
    small (the values it holds are kept, new ones are uninitialised) and returns it, as
    PyTorch's resize_. Not for a tensor that requires grad."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    for s in sizes:
        if isinstance(s, builtins.bool) or not isinstance(s, (builtins.int, np.integer)):
            raise TypeError(f"resize_: sizes must be ints, got {sizes}")
    self._resize_([builtins.int(s) for s in sizes])
    return self


Tensor.resize_ = _resize_
Tensor.resize_as_ = lambda self, other, memory_format=None: _resize_(self, tuple(other.shape))
