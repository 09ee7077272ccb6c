"""Plain NumPy references for dlcore's ops, written out from their definitions.

Each function takes NumPy arrays (and plain Python arguments) and returns what
the matching dlcore op should give, computed in float64 where that matters.
"""
import math

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.where(x > 0, x, 0).astype(x.dtype)


def rsqrt(x):
    return 1.0 / np.sqrt(x)


def softmax(x, dim):
    shifted = x - np.max(x, axis=dim, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=dim, keepdims=True)


def log_softmax(x, dim):
    shifted = x - np.max(x, axis=dim, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


def softmax_backward(y, g, dim):
    """The gradient of softmax's input from its output y and output gradient g."""
    return y * (g - np.sum(g * y, axis=dim, keepdims=True))


def log_softmax_backward(y, g, dim):
    """The gradient of log_softmax's input from its output y and output gradient g."""
    return g - np.exp(y) * np.sum(g, axis=dim, keepdims=True)


def logsumexp(x, dim, keepdim=False):
    m = np.max(x, axis=dim, keepdims=True)
    r = np.log(np.sum(np.exp(x - m), axis=dim, keepdims=True)) + m
    return r if keepdim else np.squeeze(r, axis=dim)


def var(x, dim=None, correction=1, keepdim=False):
    n = x.size if dim is None else np.prod([x.shape[d] for d in np.atleast_1d(dim)])
    m = np.mean(x, axis=dim, keepdims=True)
    return np.sum((x - m) ** 2, axis=dim, keepdims=keepdim) / max(0, n - correction)


def std(x, dim=None, correction=1, keepdim=False):
    return np.sqrt(var(x, dim, correction, keepdim))


def clamp(x, lo, hi):
    out = x.copy()
    if lo is not None:
        out = np.where(out < lo, lo, out)
    if hi is not None:
        out = np.where(out > hi, hi, out)
    return out.astype(x.dtype)


def matmul(a, b):
    """Matrix product by explicit sums over k, broadcasting batch dims like NumPy."""
    a_vec, b_vec = a.ndim == 1, b.ndim == 1
    if a_vec:
        a = a[None, :]
    if b_vec:
        b = b[:, None]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    A = np.broadcast_to(a, batch + a.shape[-2:]).astype(np.float64)
    B = np.broadcast_to(b, batch + b.shape[-2:]).astype(np.float64)
    out = (A[..., :, :, None] * B[..., None, :, :]).sum(axis=-2)
    if a_vec:
        out = out[..., 0, :]
    if b_vec:
        out = out[..., 0]
    return out


def gather(x, dim, index):
    out = np.empty(index.shape, dtype=x.dtype)
    for pos in np.ndindex(*index.shape):
        src = list(pos)
        src[dim] = index[pos]
        out[pos] = x[tuple(src)]
    return out


def scatter_add(x, dim, index, src):
    out = x.copy()
    for pos in np.ndindex(*index.shape):
        dst = list(pos)
        dst[dim] = index[pos]
        out[tuple(dst)] += src[pos]
    return out


def index_add(x, dim, index, src):
    out = x.copy()
    for i, j in enumerate(index):
        sl_out = [slice(None)] * x.ndim
        sl_src = [slice(None)] * x.ndim
        sl_out[dim] = j
        sl_src[dim] = i
        out[tuple(sl_out)] += src[tuple(sl_src)]
    return out


def cum_extreme(x, dim, is_max):
    """Running max (min) along dim and the index where it was reached, element by element:
    a tie takes the later index; a NaN, once reached, stays, with the latest NaN's index."""
    moved = np.moveaxis(np.asarray(x), dim, -1)
    values, indices = np.empty_like(moved), np.zeros(moved.shape, np.int64)
    for pos in np.ndindex(*moved.shape[:-1]):
        row = moved[pos]
        best, at = None, 0
        for i, v in enumerate(row):
            nan_v = isinstance(v, float | np.floating) and np.isnan(v)
            nan_best = best is not None and isinstance(best, float | np.floating) and np.isnan(best)
            if best is None or nan_v or (not nan_best and (v >= best if is_max else v <= best)):
                best, at = v, i
            values[pos + (i,)], indices[pos + (i,)] = best, at
    return np.moveaxis(values, -1, dim), np.moveaxis(indices, -1, dim)


def cumprod(x, dim):
    out = np.ones_like(x)
    moved, res = np.moveaxis(x, dim, 0), np.moveaxis(out, dim, 0)
    acc = np.ones_like(moved[0])
    for i in range(moved.shape[0]):
        acc = acc * moved[i]
        res[i] = acc
    return out


def logcumsumexp(x, dim):
    """log(cumsum(exp(x))) step by step as log(exp(a) + exp(b)) = m + log(1 + exp(-|a - b|))."""
    moved = np.moveaxis(np.asarray(x, np.float64), dim, 0)
    out = np.empty_like(moved)
    acc = np.full(moved.shape[1:], -np.inf)
    for i in range(moved.shape[0]):
        m = np.maximum(acc, moved[i])
        with np.errstate(invalid="ignore"):
            d = np.where(np.isneginf(acc) | np.isneginf(moved[i]), -np.inf, -np.abs(acc - moved[i]))
        acc = np.where(np.isneginf(m), -np.inf, m + np.log1p(np.exp(d)))
        out[i] = acc
    return np.moveaxis(out, 0, dim)


def cumsum(x, dim):
    out = np.zeros_like(x)
    moved = np.moveaxis(x, dim, 0)
    acc = np.zeros_like(moved[0])
    res = np.moveaxis(out, dim, 0)
    for i in range(moved.shape[0]):
        acc = acc + moved[i]
        res[i] = acc
    return out


def prod(x, dim=None, keepdim=False):
    return np.prod(x, axis=dim, keepdims=keepdim)


def flip(x, dims):
    out = np.empty_like(x)
    for pos in np.ndindex(*x.shape):
        src = list(pos)
        for d in dims:
            src[d] = x.shape[d] - 1 - pos[d]
        out[pos] = x[tuple(src)]
    return out


def triangle(x, diagonal, lower):
    """tril (lower) or triu of the last two dims: element (i, j) kept where j - i <= diagonal
    (tril) or j - i >= diagonal (triu)."""
    out = np.zeros_like(x)
    for pos in np.ndindex(*x.shape):
        i, j = pos[-2], pos[-1]
        if (j - i <= diagonal) if lower else (j - i >= diagonal):
            out[pos] = x[pos]
    return out


def _sort_key(descending):
    # NaN above every number; equal values by position (a stable sort).
    def key(item):
        value, position = item
        nan = value != value
        value = value.item()  # a Python number (bool sorts as 0 and 1)
        if descending:
            return (not nan, 0 if nan else -value, position)
        return (nan, 0 if nan else value, position)
    return key


def sort(x, dim, descending=False, k=None):
    """(values, indices) of each line along dim, sorted; only the first k with k."""
    moved = np.moveaxis(x, dim, -1)
    n = moved.shape[-1]
    k = n if k is None else k
    vals = np.empty(moved.shape[:-1] + (k,), dtype=x.dtype)
    idx = np.empty(moved.shape[:-1] + (k,), dtype=np.int64)
    for pos in np.ndindex(*moved.shape[:-1]):
        line = [(moved[pos + (j,)], j) for j in range(n)]
        order = sorted(line, key=_sort_key(descending))[:k]
        for j, (v, p) in enumerate(order):
            vals[pos + (j,)] = v
            idx[pos + (j,)] = p
    return np.moveaxis(vals, -1, dim), np.moveaxis(idx, -1, dim)


def erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def erfc(x):
    return np.vectorize(math.erfc, otypes=[np.float64])(x)


def getrf(A):
    """LAPACK's getrf written plainly for one (m, n) matrix: partial pivoting (the first row
    of largest magnitude in the column), then elimination. Returns (LU packed: multipliers
    below the diagonal, U on and above; pivots 1-based: the row swapped with row k + 1)."""
    LU = np.array(A, dtype=np.float64)
    m, n = LU.shape
    pivots = []
    for k in range(min(m, n)):
        p = k + int(np.argmax(np.abs(LU[k:, k])))
        pivots.append(p + 1)
        LU[[k, p]] = LU[[p, k]]
        if LU[k, k] != 0:
            for i in range(k + 1, m):
                LU[i, k] /= LU[k, k]
                LU[i, k + 1:] -= LU[i, k] * LU[k, k + 1:]
    return LU, np.array(pivots)


def householder_product(A, tau):
    """The first n columns of H_0 H_1 ... H_(k-1), H_i = I - tau_i v v^T with v = (0, ..., 0,
    1, A[i+1:, i]), each reflector built as a full matrix."""
    m, n = A.shape
    Q = np.eye(m)
    for i in range(len(tau)):
        v = np.zeros(m)
        v[i] = 1.0
        v[i + 1:] = A[i + 1:, i]
        Q = Q @ (np.eye(m) - tau[i] * np.outer(v, v))
    return Q[:, :n]


def hurwitz_zeta(s, q, terms=100000):
    """sum_{k >= 0} (q + k)^-s summed directly over `terms` terms, the rest by its integral
    and the first Euler-Maclaurin correction (s > 1, q > 0; float64)."""
    k = np.arange(terms)
    head = np.sum((np.asarray(q, float)[..., None] + k) ** -np.asarray(s, float)[..., None], axis=-1)
    z = q + terms
    return head + z ** (1 - s) / (s - 1) + 0.5 * z ** -s


def bessel_i(order, x, points=4000):
    """I_order(x) = (1/pi) int_0^pi exp(x cos t) cos(order t) dt by the trapezoid rule (the
    integrand is smooth and periodic: the rule converges geometrically)."""
    t = np.linspace(0.0, np.pi, points + 1)
    f = np.exp(np.multiply.outer(x, np.cos(t))) * np.cos(order * t)
    return (f[..., 1:-1].sum(-1) + 0.5 * (f[..., 0] + f[..., -1])) / points



def gammainc_closed_form(a, x):
    """P(a, x) for integer and half-integer a (closed forms, not the series or fraction):
    1 - e^-x sum_{k < n} x^k / k! for a = n, and erf(sqrt x) - e^-x sum_{k < n}
    x^(k + 1/2) / Gamma(k + 3/2) for a = n + 1/2."""
    n = int(math.floor(a))
    if a == n:
        return 1 - math.exp(-x) * math.fsum(x ** k / math.factorial(k) for k in range(n))
    return math.erf(math.sqrt(x)) - math.exp(-x) * math.fsum(x ** (k + 0.5) / math.gamma(k + 1.5) for k in range(n))
