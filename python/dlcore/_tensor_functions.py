"""More of PyTorch's tensor functions, composed from the core's ops (their gradients are the
ops'): differences and products of tensors (diff, kron, cross, tensordot, inner,
block_diag, cartesian_prod, combinations), rearrangements (rot90, tensor_split, hsplit,
vsplit, dsplit, take_along_dim, ravel, row_stack), and reductions (aminmax, msort, dist,
renorm, pdist), argwhere and logspace."""
import builtins
import collections
import functools
import itertools
import math

from . import _C
from ._composite import _dims, broadcast_tensors, meshgrid, norm, vstack
from .creation import _dtype, linspace, tensor, zeros

Tensor = _C.Tensor

_MinMax = collections.namedtuple("aminmax", ["min", "max"])


def _one_dim(dim, ndim, name):
    return _dims(dim, ndim, name)[0]


def _common_dtype(tensors):
    """The dtype the tensors promote to together, as a binary op would."""
    return functools.reduce(lambda a, b: (zeros(0, dtype=a) + zeros(0, dtype=b)).dtype,
                            [t.dtype for t in tensors])


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along dim (out[i] = x[i + 1] - x[i], n times), after
    joining ``prepend`` and ``append`` to input along dim. Bools give xor, as in PyTorch."""
    if n < 0:
        raise ValueError(f"diff: order must be non-negative, got {n}")
    if input.ndim == 0:
        raise ValueError("diff: expected at least one dimension, got a 0-d tensor")
    d = _one_dim(dim, input.ndim, "diff")
    parts = [p for p in (prepend, input, append) if p is not None]
    x = _C.cat([p if isinstance(p, Tensor) else tensor(p, dtype=input.dtype) for p in parts], d)
    for _ in range(n):
        length = x.shape[d]
        if length == 0:
            break
        hi, lo = x.narrow(d, 1, length - 1), x.narrow(d, 0, length - 1)
        x = hi != lo if x.dtype == _C.dtype.bool else hi - lo
    return x


def kron(input, other):
    """The Kronecker product: block (i, j, ...) is input[i, j, ...] * other."""
    nd = builtins.max(input.ndim, other.ndim)
    a = input.reshape((1,) * (nd - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.ndim) + tuple(other.shape))
    # (a0, 1, a1, 1, ...) * (1, b0, 1, b1, ...) -> (a0 b0, a1 b1, ...)
    ai = a.reshape(tuple(s for n in a.shape for s in (n, 1)))
    bi = b.reshape(tuple(s for n in b.shape for s in (1, n)))
    return (ai * bi).reshape(tuple(p * q for p, q in zip(a.shape, b.shape)))


def cross(input, other, dim=None):
    """The cross product of 3-vectors along dim (by default the first dim of size 3), the
    two broadcast against each other."""
    a, b = broadcast_tensors(input, other)
    if dim is None:
        sizes = [i for i, s in enumerate(a.shape) if s == 3]
        if not sizes:
            raise ValueError(f"cross: no dimension of size 3 in shape {tuple(a.shape)}")
        d = sizes[0]
    else:
        d = _one_dim(dim, a.ndim, "cross")
        if a.shape[d] != 3:
            raise ValueError(f"cross: dimension {dim} of shapes {tuple(input.shape)} and {tuple(other.shape)} "
                             "must have size 3")
    a0, a1, a2 = (a.narrow(d, i, 1) for i in range(3))
    b0, b1, b2 = (b.narrow(d, i, 1) for i in range(3))
    return _C.cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


def tensordot(a, b, dims=2):
    """Sums of products over dims of a and b: ``dims`` = n (a's last n with b's first n),
    or a pair of lists of dims to contract, matched in order."""
    if isinstance(dims, builtins.int):
        if dims < 0 or dims > builtins.min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} does not fit tensors of {a.ndim} and {b.ndim} dims")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, builtins.int) else list(d) for d in dims)
        da, db = _dims(da, a.ndim, "tensordot") if da else [], _dims(db, b.ndim, "tensordot") if db else []
    if len(da) != len(db):
        raise ValueError(f"tensordot: {len(da)} dims of a against {len(db)} of b")
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: contracted dims differ: a dim {i} has {a.shape[i]}, b dim {j} "
                             f"has {b.shape[j]}")
    free_a = [i for i in range(a.ndim) if i not in da]
    free_b = [j for j in range(b.ndim) if j not in db]
    k = math.prod(a.shape[i] for i in da)
    am = a.permute(*(free_a + da)).reshape(math.prod(a.shape[i] for i in free_a), k)
    bm = b.permute(*(db + free_b)).reshape(k, math.prod(b.shape[j] for j in free_b))
    return _C.matmul(am, bm).reshape(tuple(a.shape[i] for i in free_a) + tuple(b.shape[j] for j in free_b))


def inner(input, other):
    """Sums of products over the last dims (a scalar times a tensor for 0-d inputs)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return tensordot(input, other, ([input.ndim - 1], [other.ndim - 1]))


def rot90(input, k=1, dims=(0, 1)):
    """Rotation by k quarter turns in the plane of dims, from the first towards the second."""
    if len(dims) != 2:
        raise ValueError(f"rot90: expected two dims, got {dims!r}")
    d0, d1 = _dims(list(dims), input.ndim, "rot90")
    if input.ndim < 2 or d0 == d1:
        raise ValueError(f"rot90: dims must be two different dims of a tensor of 2 or more dims, got {dims!r}")
    k %= 4
    if k == 0:
        return input.clone()
    if k == 2:
        return input.flip([d0, d1])
    if k == 1:
        return input.flip([d1]).transpose(d0, d1)
    return input.transpose(d0, d1).flip([d1])


def block_diag(*tensors):
    """The tensors (0-d, 1-d as rows, or 2-d) down the diagonal of one matrix, zeros
    elsewhere, in their common dtype."""
    mats = []
    for t in tensors:
        if t.ndim > 2:
            raise ValueError(f"block_diag: expected tensors of at most 2 dims, got shape {tuple(t.shape)}")
        mats.append(t.reshape(1, 1) if t.ndim == 0 else t.reshape(1, -1) if t.ndim == 1 else t)
    if not mats:
        return zeros(1, 0)
    dtype = _common_dtype(mats)
    width = builtins.sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        r, c = m.shape
        rows.append(_C.cat([zeros(r, left, dtype=dtype), m.to(dtype), zeros(r, width - left - c, dtype=dtype)], 1))
        left += c
    return _C.cat(rows, 0)


def cartesian_prod(*tensors):
    """Every combination of one element of each 1-D tensor, as the rows of an (N, k) tensor
    (the tensor itself for one)."""
    for t in tensors:
        if t.ndim != 1:
            raise ValueError(f"cartesian_prod: expected 1-D tensors, got shape {tuple(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return _C.stack([g.reshape(-1) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The r-element combinations of a 1-D tensor's elements, in order, as rows."""
    if input.ndim != 1:
        raise ValueError(f"combinations: expected a 1-D tensor, got shape {tuple(input.shape)}")
    if r < 0:
        raise ValueError(f"combinations: r must be non-negative, got {r}")
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = list(pick(range(input.shape[0]), r))
    if not idx or r == 0:  # none: (0,) for r <= 1, else (0, r), as PyTorch's
        return zeros(0, dtype=input.dtype) if r <= 1 else zeros(0, r, dtype=input.dtype)
    cols = tensor(idx, dtype=_C.dtype.int64)
    if r == 1:
        return input.index_select(0, cols.reshape(-1))
    return _C.stack([input.index_select(0, cols[:, j].contiguous()) for j in range(r)], 1)


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over all of input or along dim."""
    if dim is None:
        if input.numel() == 0:
            raise ValueError("aminmax: the input is empty")
        return _MinMax(input.amin(), input.amax()) if not keepdim else _MinMax(
            input.amin(tuple(range(input.ndim)), True), input.amax(tuple(range(input.ndim)), True))
    return _MinMax(input.amin(dim, keepdim), input.amax(dim, keepdim))


def argwhere(input):
    """The indices of the non-zero elements, one row each (as nonzero)."""
    return _C.nonzero(input)


def take_along_dim(input, indices, dim=None):
    """Values of input at ``indices`` along dim (gather, the two broadcast against each other
    except along dim); with dim None, of the flattened input at the flattened indices."""
    if dim is None:
        return input.reshape(-1).gather(0, indices.reshape(-1))
    d = _one_dim(dim, input.ndim, "take_along_dim")
    if indices.ndim != input.ndim:
        raise ValueError(f"take_along_dim: input and indices must have the same number of dims, got "
                         f"{input.ndim} and {indices.ndim}")
    shape_x, shape_i = list(input.shape), list(indices.shape)
    for i, (p, q) in enumerate(zip(shape_x, shape_i)):
        if i != d:
            if p != q and 1 not in (p, q):
                raise ValueError(f"take_along_dim: shapes {tuple(input.shape)} and {tuple(indices.shape)} do not "
                                 f"broadcast outside dim {dim}")
            shape_x[i] = shape_i[i] = builtins.max(p, q)
    return input.expand(*shape_x).gather(d, indices.expand(*shape_i))


def tensor_split(input, indices_or_sections, dim=0):
    """Views of input split along dim: into n parts whose sizes differ by at most one (the
    first ones larger), or at the given indices (clamped to the dim's length)."""
    d = _one_dim(dim, input.ndim, "tensor_split")
    length = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, builtins.int):
        n = indices_or_sections
        if n <= 0:
            raise ValueError(f"tensor_split: the number of sections must be positive, got {n}")
        q, r = divmod(length, n)
        sizes = [q + 1] * r + [q] * (n - r)
        bounds = list(itertools.accumulate([0] + sizes))
    else:
        cuts = [builtins.min(builtins.max(int(i) if i >= 0 else length + int(i), 0), length)
                for i in indices_or_sections]
        bounds = [0] + cuts + [length]
    return tuple(input.narrow(d, lo, builtins.max(hi - lo, 0)) for lo, hi in zip(bounds[:-1], bounds[1:]))


def _split_along(input, sections, dim, name):
    if isinstance(sections, builtins.int) and input.shape[dim] % sections != 0:
        raise ValueError(f"{name}: dim {dim} of size {input.shape[dim]} is not divisible into {sections} "
                         "equal sections")
    return tensor_split(input, sections, dim)


def hsplit(input, sections):
    if input.ndim == 0:
        raise ValueError("hsplit: expected a tensor of at least 1 dim")
    return _split_along(input, sections, 0 if input.ndim == 1 else 1, "hsplit")


def vsplit(input, sections):
    if input.ndim < 2:
        raise ValueError(f"vsplit: expected a tensor of at least 2 dims, got {input.ndim}")
    return _split_along(input, sections, 0, "vsplit")


def dsplit(input, sections):
    if input.ndim < 3:
        raise ValueError(f"dsplit: expected a tensor of at least 3 dims, got {input.ndim}")
    return _split_along(input, sections, 2, "dsplit")


def ravel(input):
    return input.reshape(-1)


def msort(input):
    """Sorted along dim 0."""
    return input.sort(0).values


def dist(input, other, p=2):
    """The p-norm of input - other."""
    return norm(input - other, p)


def renorm(input, p, dim, maxnorm):
    """Each slice along dim whose p-norm exceeds maxnorm, scaled down to norm maxnorm."""
    d = _one_dim(dim, input.ndim, "renorm")
    others = tuple(i for i in range(input.ndim) if i != d)
    norms = norm(input, p, others, keepdim=True)
    return input * _C.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)


def pdist(input, p=2):
    """The p-norm distances between the rows of an (N, M) input, pairs i < j in order."""
    if input.ndim != 2:
        raise ValueError(f"pdist: expected a 2-D input, got shape {tuple(input.shape)}")
    n = input.shape[0]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    if not pairs:
        return zeros(0, dtype=input.dtype)
    idx = tensor(pairs, dtype=_C.dtype.int64)
    rows_i, rows_j = input.index_select(0, idx[:, 0].contiguous()), input.index_select(0, idx[:, 1].contiguous())
    return norm(rows_i - rows_j, p, 1)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """base ** (steps values evenly spaced from start to end)."""
    exps = linspace(start, end, steps, dtype=_C.dtype.float64)
    out = (base ** exps).to(_dtype(dtype))
    if requires_grad:
        out.requires_grad_(True)
    return out


def _unfold(self, dimension, size, step):
    """Tensor.unfold: every window of ``size`` elements along ``dimension``, ``step`` apart,
    as a new last dim; the windows replace ``dimension``. A copy (PyTorch returns a view):
    writing into it does not change self."""
    d = _one_dim(dimension, self.ndim, "unfold")
    length = self.shape[d] if self.ndim else 1
    if size < 0 or step <= 0:
        raise ValueError(f"unfold: size must be non-negative and step positive, got size={size}, step={step}")
    if size > length:
        raise ValueError(f"unfold: size {size} exceeds the length {length} of dimension {dimension}")
    x = self if self.ndim else self.reshape(1)
    n = (length - size) // step + 1
    idx = (_np_arange(n)[:, None] * step + _np_arange(size)[None, :]).reshape(-1)
    windows = x.index_select(d, tensor(idx, dtype=_C.dtype.int64))
    shape = tuple(x.shape[:d]) + (n, size) + tuple(x.shape[d + 1:])
    return windows.reshape(shape).movedim(d + 1, -1)


def _np_arange(n):
    import numpy as np
    return np.arange(n, dtype=np.int64)


row_stack = vstack


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D x: columns x^(N-1), ..., x, 1 (or the reverse with
    increasing), N = len(x) by default."""
    if x.ndim != 1:
        raise ValueError(f"vander: x must be 1-D, got shape {tuple(x.shape)}")
    n = x.shape[0] if N is None else N
    if not isinstance(n, builtins.int) or n < 0:
        raise ValueError(f"vander: N must be a non-negative int, got {N!r}")
    powers = [x.unsqueeze(1) ** k for k in range(n)] if n else []
    if not powers:
        return zeros((x.shape[0], 0), dtype=x.dtype)
    cols = _C.cat(powers, 1)
    return cols if increasing else cols.flip([1])


def _trapezoid_parts(y, x, dx, dim, name):
    d = _one_dim(dim, y.ndim, name)
    n = y.shape[d]
    if x is not None and dx is not None:
        raise ValueError(f"{name}: give x or dx, not both")
    mean = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) * 0.5 if n > 1 else None
    if x is None:
        return d, n, mean, (1.0 if dx is None else dx)
    if x.ndim == 1:
        if x.shape[0] != n:
            raise ValueError(f"{name}: x has {x.shape[0]} points for {n} along dim {dim} of y")
        shape = [1] * y.ndim
        shape[d] = n - 1
        widths = (x[1:] - x[:-1]).reshape(shape) if n > 1 else None
    else:
        widths = x.narrow(d, 1, n - 1) - x.narrow(d, 0, n - 1) if n > 1 else None
    return d, n, mean, widths


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule along dim: sample points x (1-D, or shaped as y), or spacing dx
    (1 by default)."""
    d, n, mean, widths = _trapezoid_parts(y, x, dx, dim, "trapezoid")
    if n <= 1:
        return y.sum(d) * 0.0
    return (mean * widths).sum(d)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid rule along dim: n - 1 values for n points."""
    d, n, mean, widths = _trapezoid_parts(y, x, dx, dim, "cumulative_trapezoid")
    if n <= 1:
        return y.narrow(d, 0, 0) * 1.0
    return (mean * widths).cumsum(d)


trapz = trapezoid

FUNCTIONS = ["diff", "kron", "cross", "inner", "rot90", "aminmax", "argwhere", "take_along_dim", "tensor_split",
             "hsplit", "vsplit", "dsplit", "ravel", "msort", "dist", "renorm"]
for _name in FUNCTIONS:
    setattr(Tensor, _name, globals()[_name])
Tensor.unfold = _unfold
