"""Order statistics and counts built on ``sort``: median, nanmedian, mode, kthvalue,
quantile, unique, bincount, histc, count_nonzero (module functions and Tensor methods, PyTorch's semantics). The
values come through ``gather``/``index_select``, so they carry gradients. A NaN in a line
makes its median, kthvalue past the numbers, and quantile NaN, as in PyTorch."""
import builtins
import collections
import math

from . import _C
from .creation import arange, full, ones, zeros

Tensor = _C.Tensor
_ValuesIndices = collections.namedtuple("values_indices", ["values", "indices"])


def _line_dim(input, dim, name):
    n = builtins.max(input.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{name}: dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def _pick(input, d, position, keepdim, name):
    """(values, indices) of the position-th smallest along dim d (NaN above every number)."""
    if input.ndim == 0:
        input = input.reshape(1)
    n = input.shape[d]
    if n == 0:
        raise ValueError(f"{name}: cannot take an order statistic of an empty dimension")
    order = input.sort(d).indices.narrow(d, position, 1)
    values = input.gather(d, order)
    if not keepdim:
        values, order = values.squeeze(d), order.squeeze(d)
    return values, order


def median(input, dim=None, keepdim=False):
    """The lower median: of all values (a 0-d tensor), or along ``dim`` as (values,
    indices). A line holding NaN has median NaN (the index of its first NaN)."""
    if dim is None:
        flat = input.reshape(-1)
        if flat.shape[0] == 0:
            return full([], math.nan, dtype=input.dtype) if input.dtype.is_floating_point else flat.sum()
        values, _ = median(flat, 0)
        return values
    d = _line_dim(input, dim, "median")
    x = input if input.ndim else input.reshape(1)
    n = x.shape[d]
    values, indices = _pick(x, d, (n - 1) // 2 if n else 0, True, "median")
    if x.dtype.is_floating_point:
        nan = x != x
        has_nan = nan.sum(d, True) > 0
        first_nan = nan.to(_C.dtype.int64).argmax(d, True)
        values = _C.where(has_nan, math.nan, values)
        indices = _C.where(has_nan, first_nan, indices)
    if not keepdim or input.ndim == 0:
        values, indices = values.squeeze(d), indices.squeeze(d)
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return _ValuesIndices(values, indices)


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest value (k from 1) along ``dim``, and its index."""
    d = _line_dim(input, dim, "kthvalue")
    n = input.shape[d] if input.ndim else 1
    if isinstance(k, builtins.bool) or not isinstance(k, builtins.int) or not 1 <= k <= n:
        raise ValueError(f"kthvalue: k ({k}) is out of range for dimension {d} of size {n}")
    values, indices = _pick(input, d, k - 1, keepdim or input.ndim == 0, "kthvalue")
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return _ValuesIndices(values, indices)


def _quantile_args(input, q, interpolation, name):
    """The checked q values as a list, and whether q was one number."""
    if not input.dtype.is_floating_point:
        raise TypeError(f"{name}: expected a floating tensor, got {input.dtype!r}")
    if interpolation not in ("linear", "lower", "higher", "nearest", "midpoint"):
        raise ValueError(f"{name}: interpolation must be 'linear', 'lower', 'higher', 'nearest' or "
                         f"'midpoint', got {interpolation!r}")
    if isinstance(q, Tensor) and q.ndim > 1:
        raise ValueError(f"{name}: q must be a number or a 1-D tensor, got shape {tuple(q.shape)}")
    qs = q.tolist() if isinstance(q, Tensor) else q
    scalar_q = not isinstance(qs, (list, tuple))
    qs = [qs] if scalar_q else list(qs)
    for v in qs:
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{name}: q values must be in [0, 1], got {v}")
    return qs, scalar_q


def quantile(input, q, dim=None, keepdim=False, interpolation="linear"):
    """The q-quantiles (q a number or a 1-D tensor in [0, 1]) of all values or along
    ``dim``: position q (n - 1) in the sorted line, between its neighbours by
    ``interpolation`` ('linear', 'lower', 'higher', 'nearest', 'midpoint'). A 1-D q puts
    its dim first in the result. A line holding NaN gives NaN."""
    qs, scalar_q = _quantile_args(input, q, interpolation, "quantile")
    if dim is None:
        x, d = input.reshape(-1), 0
    else:
        d = _line_dim(input, dim, "quantile")
        x = input if input.ndim else input.reshape(1)
    n = x.shape[d]
    if n == 0:
        raise ValueError("quantile: the input is empty")
    s = x.sort(d).values
    has_nan = (x != x).sum(d, True) > 0
    outs = []
    for v in qs:
        pos = v * (n - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        frac = pos - lo
        if interpolation == "lower" or (interpolation == "nearest" and _round_half_even(pos) == lo):
            hi, frac = lo, 0.0
        elif interpolation == "higher" or interpolation == "nearest":
            lo, frac = hi, 0.0
        elif interpolation == "midpoint":
            frac = 0.5 if hi != lo else 0.0
        a = s.narrow(d, lo, 1)
        out = a if hi == lo or frac == 0.0 else a + frac * (s.narrow(d, hi, 1) - a)
        outs.append(_C.where(has_nan, math.nan, out))
    return _quantile_result(outs, input, dim, d, keepdim, scalar_q)


def _quantile_result(outs, input, dim, d, keepdim, scalar_q):
    """The quantiles (one keepdim line per q, taken along d) shaped as quantile returns them:
    input's dims kept or dropped, and a 1-D q's dim first."""
    shaped = []
    for out in outs:
        if dim is None:
            out = out.reshape([1] * input.ndim) if keepdim else out.reshape(())
        elif not keepdim or input.ndim == 0:
            out = out.squeeze(d) if input.ndim else out.reshape(())
        shaped.append(out)
    return shaped[0] if scalar_q else _C.stack(shaped, 0)


def _round_half_even(x):
    return builtins.round(x)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values of the flattened input, in increasing order; with
    ``return_inverse`` the index of each input element's value among them (shape of the
    input), with ``return_counts`` how often each occurs. (NaN values are each their own.)"""
    if dim is not None:
        raise ValueError("unique: dim is not supported; unique works on the flattened tensor")
    flat = input.reshape(-1)
    n = flat.shape[0]
    s, order = flat.sort(0)
    if n:
        new = _C.cat([full([1], True, dtype=_C.dtype.bool), s.narrow(0, 1, n - 1) != s.narrow(0, 0, n - 1)], 0)
    else:
        new = full([0], True, dtype=_C.dtype.bool)
    values = s[new]
    out = [values]
    if return_inverse:
        group = new.to(_C.dtype.int64).cumsum(0) - 1
        inverse = zeros([n], dtype=_C.dtype.int64).scatter_add(0, order, group)
        out.append(inverse.reshape(tuple(input.shape)))
    if return_counts:
        starts = _C.nonzero(new).reshape(-1)
        ends = _C.cat([starts.narrow(0, 1, starts.shape[0] - 1), full([1], n, dtype=_C.dtype.int64)], 0) \
            if starts.shape[0] else starts
        out.append(ends - starts)
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength=0):
    """How often each value 0..max occurs in the 1-D non-negative integer ``input`` (summing
    ``weights`` instead of ones when given), at least ``minlength`` long."""
    if input.ndim != 1 or input.dtype not in (_C.dtype.int64, _C.dtype.int32):
        raise ValueError(f"bincount: expected a 1-D integer tensor, got shape {tuple(input.shape)} and "
                         f"{input.dtype!r}")
    if minlength < 0:
        raise ValueError(f"bincount: minlength must be non-negative, got {minlength}")
    n = input.shape[0]
    if n and input.min().item() < 0:
        raise ValueError(f"bincount: values must be non-negative, got {input.min().item()}")
    size = builtins.max(minlength, input.max().item() + 1 if n else 0)
    index = input.to(_C.dtype.int64)
    if weights is None:
        return zeros([size], dtype=_C.dtype.int64).scatter_add(0, index, ones([n], dtype=_C.dtype.int64))
    if tuple(weights.shape) != (n,):
        raise ValueError(f"bincount: weights of shape {tuple(weights.shape)} for an input of shape ({n},)")
    return zeros([size], dtype=weights.dtype).scatter_add(0, index, weights)


def nanmedian(input, dim=None, keepdim=False):
    """The lower median of the values that are not NaN: of all values (a 0-d tensor), or
    along ``dim`` as (values, indices). A line of NaN only gives NaN (index 0)."""
    if not input.dtype.is_floating_point:
        return median(input, dim, keepdim)
    if dim is None:
        flat = input.reshape(-1)
        return nanmedian(flat, 0).values if flat.shape[0] else full([], math.nan, dtype=input.dtype)
    d = _line_dim(input, dim, "nanmedian")
    x = input if input.ndim else input.reshape(1)
    if x.shape[d] == 0:
        raise ValueError("nanmedian: cannot take an order statistic of an empty dimension")
    order = x.sort(d).indices  # NaN last
    count = (x == x).sum(d, True)
    position = _C.clamp((count - 1) // 2, 0, None)
    indices = order.gather(d, position)
    values = _C.where(count > 0, x.gather(d, indices), math.nan)
    indices = _C.where(count > 0, indices, 0)
    if not keepdim or input.ndim == 0:
        values, indices = values.squeeze(d), indices.squeeze(d)
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return _ValuesIndices(values, indices)


def mode(input, dim=-1, keepdim=False):
    """(values, indices): the most frequent value along ``dim`` (of several, the smallest)
    and the index of its last occurrence. NaN values each count once."""
    d = _line_dim(input, dim, "mode")
    x = input if input.ndim else input.reshape(1)
    n = x.shape[d]
    if n == 0:
        raise ValueError("mode: cannot take the mode of an empty dimension")
    s = x.sort(d)
    xs = s.values.movedim(d, -1)
    pos = arange(n).expand(tuple(xs.shape))
    # Runs of equal values in sorted order: each position's run start (a running maximum of
    # the positions where a new value begins) and run end (the same from the right).
    new = _C.cat([full(tuple(xs.shape[:-1]) + (1,), True, dtype=_C.dtype.bool),
                  xs.narrow(-1, 1, n - 1) != xs.narrow(-1, 0, n - 1)], -1)
    start = _C.cummax(_C.where(new, pos, 0), -1)[0]
    last = _C.cat([new.narrow(-1, 1, n - 1), full(tuple(xs.shape[:-1]) + (1,), True, dtype=_C.dtype.bool)], -1)
    end = (n - 1) - _C.cummax(_C.where(last, n - 1 - pos, 0).flip([-1]), -1)[0].flip([-1])
    best = (end - start).argmax(-1, True)  # the first longest run: the smallest value
    run_end = end.gather(-1, best)
    indices = s.indices.movedim(d, -1).gather(-1, run_end)
    values = x.movedim(d, -1).gather(-1, indices)
    values, indices = values.movedim(-1, d), indices.movedim(-1, d)
    if not keepdim or input.ndim == 0:
        values, indices = values.squeeze(d), indices.squeeze(d)
    if input.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return _ValuesIndices(values, indices)


def histc(input, bins=100, min=0, max=0):
    """Counts of the values in ``bins`` equal bins over [min, max] (the values' own range
    when min == max, widened by 1 each way if that is one point); values outside are left
    out, and max falls in the last bin. A tensor of input's dtype."""
    if not input.dtype.is_floating_point:
        raise TypeError(f"histc: expected a floating tensor, got {input.dtype!r}")
    if not isinstance(bins, builtins.int) or bins < 1:
        raise ValueError(f"histc: bins must be a positive int, got {bins!r}")
    if min > max:
        raise ValueError(f"histc: min ({min}) must not exceed max ({max})")
    flat = input.detach().reshape(-1)
    if min == max and flat.shape[0]:
        min, max = flat.min().item(), flat.max().item()
    if min == max:
        min, max = min - 1, max + 1
    if not (math.isfinite(min) and math.isfinite(max)):
        raise ValueError(f"histc: range of [{min}, {max}] is not finite")
    inside = (flat >= min) & (flat <= max)
    kept = flat[inside].to(_C.dtype.float64)
    b = ((kept - min) * (bins / (max - min))).floor().to(_C.dtype.int64)
    b = _C.clamp(b, 0, bins - 1)
    return bincount(b, minlength=bins).to(input.dtype)


def count_nonzero(input, dim=None):
    """The number of non-zero elements (along ``dim``)."""
    return (input != 0).sum(dim)


FUNCTIONS = ["median", "nanmedian", "mode", "histc", "kthvalue", "quantile", "unique", "bincount", "count_nonzero"]
for _name in FUNCTIONS:
    setattr(Tensor, _name, globals()[_name])
