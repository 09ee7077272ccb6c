"""Tensor functions built from the core's ops, with PyTorch's names and semantics: each is a
module function (``dlcore.movedim``) and, where PyTorch has one, a Tensor method. Their
gradients are those of the ops they are made of."""
import builtins
import math

import numpy as np

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


def logical_xor(input, other):
    return (input != 0) ^ (other != 0)


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


def mm(input, mat2):
    """The product of two matrices."""
    if input.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"mm: expected two 2-D tensors, got shapes {tuple(input.shape)} and "
                         f"{tuple(mat2.shape)}")
    return _C.matmul(input, mat2)


def bmm(input, mat2):
    """The products of two batches of matrices, (b, n, m) and (b, m, p): no broadcasting."""
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ValueError(f"bmm: expected two 3-D tensors with the same batch size, got shapes "
                         f"{tuple(input.shape)} and {tuple(mat2.shape)}")
    return _C.matmul(input, mat2)


def repeat(input, *sizes):
    """``input`` repeated ``sizes[d]`` times along each dim (leading sizes add dims), a copy."""
    sizes = _sizes_arg(sizes, "repeat")
    if len(sizes) < input.ndim:
        raise ValueError(f"repeat: {len(sizes)} repeat counts given for a tensor of shape "
                         f"{tuple(input.shape)}; at least {input.ndim} are needed")
    if builtins.any(r < 0 for r in sizes):
        raise ValueError(f"repeat: repeat counts must be non-negative, got {list(sizes)}")
    shape = [1] * (len(sizes) - input.ndim) + list(input.shape)
    # (1, s0, 1, s1, ...) expanded to (r0, s0, r1, s1, ...), then merged pairwise.
    paired = input.reshape([v for n in shape for v in (1, n)])
    expanded = paired.expand(*[v for r, n in zip(sizes, shape) for v in (r, n)])
    return expanded.reshape([r * n for r, n in zip(sizes, shape)])


def tile(input, dims):
    """``repeat`` with ones prepended to ``dims`` when it has fewer entries than dims."""
    dims = _sizes_arg((dims,), "tile")
    return repeat(input, *([1] * (input.ndim - len(dims)) + list(dims)))


def repeat_interleave(input, repeats, dim=None):
    """Each element (of the flattened input, or each slice along ``dim``) repeated
    ``repeats`` times in place: an int, or one count per element of that dim."""
    if dim is None:
        input, d = input.reshape(-1), 0
    else:
        (d,) = _dims(dim, input.ndim, "repeat_interleave")
    if input.ndim == 0:
        input = input.reshape(1)
    n = input.shape[d]
    if isinstance(repeats, Tensor):
        if repeats.ndim == 0:
            repeats = repeats.item()
        else:
            counts = [builtins.int(c) for c in repeats.reshape(-1).tolist()]
            if len(counts) == 1:  # one count serves every element, as in PyTorch
                return repeat_interleave(input, counts[0], d)
            if len(counts) != n:
                raise ValueError(f"repeat_interleave: {len(counts)} repeat counts for a dim of size {n}")
            if builtins.any(c < 0 for c in counts):
                raise ValueError(f"repeat_interleave: repeat counts must be non-negative, got {counts}")
            index = [i for i, c in enumerate(counts) for _ in range(c)]
            from .creation import tensor

            return input.index_select(d, tensor(index, dtype=_C.dtype.int64))
    if isinstance(repeats, builtins.bool) or not isinstance(repeats, builtins.int) or repeats < 0:
        raise ValueError(f"repeat_interleave: repeats must be a non-negative int or a tensor of "
                         f"counts, got {repeats!r}")
    shape = list(input.shape)
    x = input.unsqueeze(d + 1).expand(*(shape[:d + 1] + [repeats] + shape[d + 1:]))
    return x.reshape(shape[:d] + [n * repeats] + shape[d + 1:])


def roll(input, shifts, dims=None):
    """``input`` shifted by ``shifts`` places along ``dims``, the values that leave at one end
    coming back at the other; without dims, over the flattened tensor (shape kept)."""
    if dims is None:
        if not isinstance(shifts, builtins.int):
            raise ValueError("roll: without dims, shifts must be one int")
        return roll(input.reshape(-1), shifts, 0).reshape(tuple(input.shape))
    shifts = [shifts] if isinstance(shifts, builtins.int) else list(shifts)
    dims = _dims(dims, input.ndim, "roll")
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims")
    out = input
    for s, d in zip(shifts, dims):
        n = out.shape[d] if out.ndim else 1
        if n == 0 or s % n == 0:
            continue
        s %= n
        out = _C.cat([out.narrow(d, n - s, s), out.narrow(d, 0, n - s)], d)
    return out if out is not input else input.clone()


def norm(input, p="fro", dim=None, keepdim=False):
    """The vector p-norm of ``input`` (all of it, or along ``dim``): p = 2 or "fro" (the
    default), 1, inf, -inf, 0 (the count of non-zeros) or any other positive number. The
    gradient at a zero vector is 0, as PyTorch's."""
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm: p must be a number or 'fro', got {p!r}")
        p = 2
    if not input.dtype.is_floating_point:
        raise TypeError(f"norm: expected a floating tensor, got {input.dtype!r}")
    a = input.abs()
    if p == math.inf:
        return a.amax(dim if dim is not None else (), keepdim)
    if p == -math.inf:
        return a.amin(dim if dim is not None else (), keepdim)
    if p == 0:
        return (input != 0).sum(dim, keepdim).to(input.dtype)
    if p == 1:
        return a.sum(dim, keepdim)
    if not p > 0:
        raise ValueError(f"norm: p must be positive, inf, -inf or 0, got {p}")
    s = (input * input).sum(dim, keepdim) if p == 2 else (a ** p).sum(dim, keepdim)
    return _root(s, p)


def _root(s, p):
    """s ^ (1/p) for s >= 0, taken only where s is positive: at 0 the root's gradient would
    be inf times 0; there the value and the gradient are 0."""
    positive = s > 0
    safe = _C.where(positive, s, 1.0)
    return _C.where(positive, safe.sqrt() if p == 2 else safe ** (1.0 / p), 0.0)


def swapaxes(input, axis0, axis1):
    return input.transpose(axis0, axis1)


def unflatten(input, dim, sizes):
    """``input`` with dim ``dim`` split into ``sizes`` (one entry may be -1)."""
    (d,) = _dims(dim, input.ndim, "unflatten")
    shape = list(input.shape)
    return input.reshape(shape[:d] + list(sizes) + shape[d + 1:])


def broadcast_shapes(*shapes):
    """The shape the given shapes broadcast to (NumPy's rules)."""
    out = []
    for shape in shapes:
        shape = [shape] if isinstance(shape, builtins.int) else list(shape)
        for i in range(1, len(shape) + 1):
            n = shape[-i]
            if i > len(out):
                out.insert(0, n)
            elif out[-i] == 1:
                out[-i] = n
            elif n != 1 and n != out[-i]:
                given = [(s,) if isinstance(s, builtins.int) else tuple(s) for s in shapes]
                raise ValueError(f"broadcast_shapes: shapes {given} do not broadcast together")
    return tuple(out)


def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape (views)."""
    shape = broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(_C.broadcast_to(t, shape) for t in tensors)


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` (broadcast with it) is true, as a 1-D tensor."""
    if mask.dtype != _C.dtype.bool:
        raise TypeError(f"masked_select: mask must be a bool tensor, got {mask.dtype!r}")
    x, m = broadcast_tensors(input, mask)
    return x[m]


def _triangle_indices(row, col, offset, lower):
    from .creation import ones

    for name, v in (("row", row), ("col", col)):
        if isinstance(v, builtins.bool) or not isinstance(v, builtins.int) or v < 0:
            raise ValueError(f"{'tril' if lower else 'triu'}_indices: {name} must be a non-negative int, got {v!r}")
    kept = (_C.tril if lower else _C.triu)(ones(row, col), offset)
    return _C.nonzero(kept).t().contiguous()


def tril_indices(row, col, offset=0):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix, in
    row-major order (``offset`` as tril's diagonal)."""
    return _triangle_indices(row, col, offset, True)


def triu_indices(row, col, offset=0):
    """The (2, N) indices of the upper triangle (``offset`` as triu's diagonal)."""
    return _triangle_indices(row, col, offset, False)


def _sizes_arg(sizes, name):
    if len(sizes) == 1 and not isinstance(sizes[0], builtins.int):
        sizes = tuple(sizes[0])
    for v in sizes:
        if isinstance(v, builtins.bool) or not isinstance(v, builtins.int):
            raise TypeError(f"{name}: sizes must be ints, got {v!r}")
    return tuple(sizes)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of dims dim1 and dim2 (``offset`` above it, or below for negative), as
    the last dim of the result (a copy)."""
    d1, d2 = _dims([dim1, dim2], input.ndim, "diagonal")
    if d1 == d2:
        raise ValueError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2}")
    x = movedim(input, (d1, d2), (-2, -1))
    rows, cols = x.shape[-2], x.shape[-1]
    start_r, start_c = (0, offset) if offset >= 0 else (-offset, 0)
    length = builtins.max(0, builtins.min(rows - start_r, cols - start_c))
    from .creation import arange

    flat_index = (arange(length) + start_r) * cols + (arange(length) + start_c)
    return x.reshape(list(x.shape[:-2]) + [rows * cols]).index_select(-1, flat_index)


def diag(input, diagonal=0):
    """A 1-D input as the ``diagonal`` of a square matrix (zeros elsewhere); a 2-D input's
    diagonal as a 1-D tensor."""
    if input.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    if input.ndim != 1:
        raise ValueError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(input.shape)}")
    from .creation import arange, zeros

    n, k = input.shape[0], abs(diagonal)
    size = n + k
    r = arange(n) + (0 if diagonal >= 0 else k)
    c = arange(n) + (k if diagonal >= 0 else 0)
    out = zeros(size * size, dtype=input.dtype)
    return out.index_add(0, r * size + c, input).reshape(size, size)


def trace(input):
    """The sum of a matrix's diagonal."""
    if input.ndim != 2:
        raise ValueError(f"trace: expected a 2-D tensor, got shape {tuple(input.shape)}")
    return diagonal(input).sum()


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids of 1-D tensors: with 'ij' the i-th output varies along dim i; with
    'xy' the first two dims are swapped (Cartesian order). Views of the inputs."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for t in tensors:
        if t.ndim > 1:
            raise ValueError(f"meshgrid: expected 0-D or 1-D tensors, got shape {tuple(t.shape)}")
    tensors = [t.reshape(-1) for t in tensors]
    sizes = [t.shape[0] for t in tensors]
    if indexing == "xy" and len(tensors) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(tensors):
        pos = i if indexing == "ij" or len(tensors) < 2 else {0: 1, 1: 0}.get(i, i)
        shape = [1] * len(tensors)
        shape[pos] = t.shape[0]
        out.append(t.reshape(shape).expand(*sizes))
    return tuple(out)


def atleast_1d(*tensors):
    out = [t.reshape(1) if t.ndim == 0 else t for t in _tensor_args(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d(*tensors):
    out = [t.reshape(1, -1) if t.ndim < 2 else t for t in _tensor_args(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_3d(*tensors):
    def lift(t):
        if t.ndim == 0:
            return t.reshape(1, 1, 1)
        if t.ndim == 1:
            return t.reshape(1, -1, 1)
        return t.unsqueeze(-1) if t.ndim == 2 else t

    out = [lift(t) for t in _tensor_args(tensors)]
    return out[0] if len(out) == 1 else tuple(out)


def _tensor_args(tensors):
    return list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else list(tensors)


def hstack(tensors):
    """Joined along dim 1 (dim 0 for 1-D tensors)."""
    ts = atleast_1d(*tensors)
    ts = [ts] if isinstance(ts, Tensor) else list(ts)
    return _C.cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Joined along dim 0, 1-D tensors as rows."""
    ts = atleast_2d(*tensors)
    return _C.cat([ts] if isinstance(ts, Tensor) else list(ts), 0)


def dstack(tensors):
    """Joined along dim 2, after atleast_3d."""
    ts = atleast_3d(*tensors)
    return _C.cat([ts] if isinstance(ts, Tensor) else list(ts), 2)


def column_stack(tensors):
    """1-D tensors (and 0-D) as columns, joined with 2-D ones along dim 1."""
    cols = [t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors]
    return _C.cat(cols, 1)


def searchsorted(sorted_sequence, values, *, right=False, side=None):
    """For each value, the index where it would be inserted into ``sorted_sequence`` (along
    its last dim) to keep it sorted: before equal elements, or after them with
    ``right=True`` / ``side='right'``. A 1-D sequence serves every value; an N-D one pairs
    its leading dims with the values'. Computed by comparing each value with every
    element (memory values x sequence length)."""
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        right = side == "right"
    scalar = not isinstance(values, Tensor)
    if scalar:
        from .creation import tensor

        values = tensor([values], dtype=sorted_sequence.dtype)
    if sorted_sequence.ndim > 1 and tuple(sorted_sequence.shape[:-1]) != tuple(values.shape[:-1]):
        raise ValueError(f"searchsorted: the sequence's leading dims {tuple(sorted_sequence.shape[:-1])} must "
                         f"match the values' {tuple(values.shape[:-1])}")
    seq = sorted_sequence.detach().unsqueeze(-2)  # (..., 1, M)
    v = values.detach().unsqueeze(-1)  # (..., K, 1)
    below = (seq <= v) if right else (seq < v)
    out = below.sum(-1)
    return out.reshape(()) if scalar else out


def bucketize(input, boundaries, *, right=False):
    """The bucket of each element among the sorted 1-D ``boundaries``: i with
    boundaries[i - 1] < x <= boundaries[i] (or <= x < with ``right=True``)."""
    if boundaries.ndim != 1:
        raise ValueError(f"bucketize: boundaries must be 1-D, got shape {tuple(boundaries.shape)}")
    return searchsorted(boundaries, input, right=right)


def cdist(x1, x2, p=2.0):
    """The p-norm distances between the rows of x1 (..., P, M) and of x2 (..., R, M):
    (..., P, R). For p = 2 through ||a||^2 + ||b||^2 - 2 a.b (one matrix product; the
    square root held at 0, so the gradient of a zero distance is 0); otherwise the norm of
    the broadcast differences."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist: expected x1 (..., P, M) and x2 (..., R, M), got shapes {tuple(x1.shape)} "
                         f"and {tuple(x2.shape)}")
    if p == 2:
        sq = (x1 * x1).sum(-1).unsqueeze(-1) + (x2 * x2).sum(-1).unsqueeze(-2) - 2 * _C.matmul(x1, x2.transpose(-1, -2))
        return _root(sq.clamp(min=0.0), 2)
    return norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


class finfo:
    """Machine limits of a floating dtype (float32 or float64; the default dtype when not
    given), as PyTorch's ``torch.finfo``: bits, eps, max, min, tiny (= smallest_normal) and
    resolution."""

    def __init__(self, type=None):
        type = _C._get_default_dtype() if type is None else type
        if type not in (_C.dtype.float32, _C.dtype.float64):
            raise TypeError(f"finfo: expected a floating dtype, got {type!r}")
        info = np.finfo(np.float32 if type == _C.dtype.float32 else np.float64)
        self.dtype = type.name
        self.bits = info.bits
        self.eps, self.max, self.min = float(info.eps), float(info.max), float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = float(info.resolution)

    def __repr__(self):
        return f"finfo(resolution={self.resolution}, min={self.min}, max={self.max}, eps={self.eps}, " \
               f"smallest_normal={self.smallest_normal}, tiny={self.tiny}, dtype={self.dtype})"


class iinfo:
    """Limits of an integer dtype (int32, int64): bits, min and max."""

    def __init__(self, type):
        if type not in (_C.dtype.int32, _C.dtype.int64):
            raise TypeError(f"iinfo: expected an integer dtype, got {type!r}")
        info = np.iinfo(np.int32 if type == _C.dtype.int32 else np.int64)
        self.dtype, self.bits, self.min, self.max = type.name, info.bits, int(info.min), int(info.max)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


FUNCTIONS = ["movedim", "unbind", "outer", "isnan", "isinf", "isfinite", "logical_and",
             "logical_or", "logical_xor", "any", "all", "isclose", "allclose", "mm", "bmm", "repeat_interleave",
             "roll", "norm", "swapaxes", "unflatten", "masked_select", "tile", "diagonal", "diag",
             "trace"]
moveaxis = movedim
swapdims = swapaxes

for _name in FUNCTIONS + ["moveaxis", "swapdims"]:
    setattr(Tensor, _name, globals()[_name])
Tensor.repeat = repeat
