"""scatter_reduce and index_reduce, PyTorch's reductions of scattered values ('sum',
'prod', 'mean', 'amax', 'amin'; include_self), composed of dlcore's ops so the gradients
are those of the composition:

- every source element gets the flat position in the input it lands on;
- 'sum' and 'mean' add with index_add (and count the values each position gets);
- 'amax'/'amin' sort the values, then stably by position, so each position's group ends
  with its extreme: one index_add of the group ends puts it in place (on ties the last of
  the tied values in the source's order takes the whole gradient, where PyTorch splits it);
- 'prod' multiplies layer by layer: the k-th value of every group at once, for k up to
  the largest group.
Positions no value lands on keep the input; with include_self=False the others leave the
input out.
"""
import builtins
import math

from . import _C
from .creation import arange, ones, zeros

Tensor = _C.Tensor

_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def _positions(input, dim, index, name):
    """The flat positions (in a contiguous input) of index's elements, and index's shape."""
    d = dim % builtins.max(input.ndim, 1)
    shape = tuple(input.shape)
    strides = [math.prod(shape[k + 1:]) for k in range(len(shape))]
    ishape = tuple(index.shape)
    for k in range(len(ishape)):
        if k != d and ishape[k] > shape[k]:
            raise ValueError(f"{name}: index of shape {ishape} is larger than the input {shape} in dim {k}")
    if index.numel() and (bool((index < 0).any().item()) or bool((index >= shape[d]).any().item())):
        bad = int(index[(index < 0) | (index >= shape[d])][0].item())
        raise IndexError(f"{name}: index {bad} is out of bounds for dim {d} with size {shape[d]}")
    flat = zeros(ishape, dtype=_C.dtype.int64)
    for k in range(len(ishape)):
        coord = index if k == d else arange(ishape[k]).reshape([-1 if j == k else 1 for j in range(len(ishape))])
        flat = flat + coord * strides[k]
    return flat.reshape(-1)


def _check(input, dim, index, src, reduce, name):
    if reduce not in _REDUCTIONS:
        raise ValueError(f"{name}: reduce must be one of 'sum', 'prod', 'mean', 'amax', 'amin', got {reduce!r}")
    if index.dtype != _C.dtype.int64:
        raise TypeError(f"{name}: index must be int64, got {index.dtype.name}")
    if src.dtype != input.dtype:
        raise TypeError(f"{name}: src ({src.dtype.name}) must have the input's dtype ({input.dtype.name})")
    if index.ndim != src.ndim or index.ndim != builtins.max(input.ndim, 1) and input.ndim:
        raise ValueError(f"{name}: index {tuple(index.shape)}, src {tuple(src.shape)} and input "
                         f"{tuple(input.shape)} must have the same number of dims")
    if builtins.any(i > s for i, s in zip(index.shape, src.shape)):
        raise ValueError(f"{name}: index of shape {tuple(index.shape)} is larger than src {tuple(src.shape)}")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """input with src's values (those under index's shape) reduced into the positions
    index names along dim."""
    name = "scatter_reduce"
    _check(input, dim, index, src, reduce, name)
    if input.ndim == 0:
        return scatter_reduce(input.reshape(1), 0, index.reshape(-1), src.reshape(-1), reduce,
                              include_self=include_self).reshape(())
    pos = _positions(input, dim, index, name)
    vals = src[tuple(builtins.slice(0, n) for n in index.shape)].reshape(-1)
    total = input.numel()
    x = input.reshape(-1)
    count = zeros(total, dtype=_C.dtype.int64).index_add(0, pos, ones(pos.shape[0], dtype=_C.dtype.int64))
    hit = count > 0
    if reduce in ("sum", "mean"):
        base = x if include_self else _C.where(hit, 0, x)
        summed = base.index_add(0, pos, vals)
        if reduce == "sum":
            return summed.reshape(tuple(input.shape))
        n = count + (1 if include_self else 0)
        n = _C.where(n > 0, n, 1).to(x.dtype)
        out = summed / n if x.dtype.is_floating_point else summed.floor_divide(n)
        return _C.where(hit, out, x).reshape(tuple(input.shape))
    # Grouped by position (stably); for amax/amin the values are put in order first
    # (descending for amin), so each position's group ends with its extreme.
    p1, v1 = pos, vals
    if reduce != "prod":
        order_v = vals.argsort(descending=reduce == "amin", stable=True)
        p1, v1 = pos.gather(0, order_v), vals.gather(0, order_v)
    order_p = p1.argsort(stable=True)
    p2, v2 = p1.gather(0, order_p), v1.gather(0, order_p)
    L = p2.shape[0]
    if reduce in ("amax", "amin"):
        last = _C.cat([p2[1:] != p2[:-1], ones(1, dtype=_C.dtype.bool)]) if L else p2 > 0
        extreme = zeros(total, dtype=x.dtype).index_add(0, p2[last], v2[last])
        combine = _C.maximum if reduce == "amax" else _C.minimum
        out = combine(extreme, x) if include_self else extreme
        return _C.where(hit, out, x).reshape(tuple(input.shape))
    # prod: the k-th value of every group, layer by layer.
    start = _C.cat([ones(1, dtype=_C.dtype.bool), p2[1:] != p2[:-1]]) if L else p2 > 0
    first = _C.where(start, arange(L), 0).cummax(0).values if L else p2
    rank = arange(L) - first
    out = x if include_self else _C.where(hit, 1, x)
    for k in range(int(rank.max().item()) + 1 if L else 0):
        sel = rank == k
        out = out * ones(total, dtype=x.dtype).index_copy(0, p2[sel], v2[sel])
    return out.reshape(tuple(input.shape))


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """input with source's slices along dim reduced into the slices index (1-D) names:
    'prod', 'mean', 'amax' or 'amin'."""
    name = "index_reduce"
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise ValueError(f"{name}: reduce must be one of 'prod', 'mean', 'amax', 'amin', got {reduce!r}")
    if index.ndim != 1:
        raise ValueError(f"{name}: index must be 1-D, got shape {tuple(index.shape)}")
    d = dim % builtins.max(input.ndim, 1)
    if source.ndim != input.ndim or source.shape[d] != index.shape[0] or builtins.any(
            source.shape[k] != input.shape[k] for k in range(input.ndim) if k != d):
        raise ValueError(f"{name}: source of shape {tuple(source.shape)} must match the input {tuple(input.shape)} "
                         f"but in dim {d}, which must be index's length {index.shape[0]}")
    shape = [1] * input.ndim
    shape[d] = index.shape[0]
    full = index.reshape(shape).expand(tuple(source.shape)).contiguous()
    return scatter_reduce(input, d, full, source, reduce, include_self=include_self)


Tensor.scatter_reduce = scatter_reduce
Tensor.index_reduce = index_reduce
