"""LU factorisation and what is built on it for ``dlcore.linalg``: ``lu_factor``,
``lu_factor_ex``, ``lu``, ``lu_solve``, ``lu_unpack`` (solve, inv and their ``_ex`` forms
are in linalg.py), and the reshaping solvers ``tensorsolve``/``tensorinv``; with ``matrix_exp`` (scaling and
squaring), ``vander`` and ``householder_product``.

The factorisation is composed of dlcore's ops (partial pivoting as LAPACK's getrf: at
step k the row of largest magnitude in column k, the first of equal ones, trades places
with row k), so gradients flow through the factors and through every solve built on
them. Pivots are LAPACK's: 1-based, pivots[k] the row swapped with row k + 1 at step k.
"""
import builtins
import math
from collections import namedtuple

from . import _C
from ._composite import diagonal as _diagonal
from ._linalg_factor import _batched, _check_floating, _check_square, substitute
from .creation import arange, eye, ones, zeros


def _swap(rows, k, p):
    """The index that trades places k and p (p (..., 1)) along rows, the rest in place."""
    return _C.where(rows == k, p, _C.where(rows == p, k, rows))


def _lu(A):
    """P A = L U with partial pivoting for A (..., m, n), composed of ops. Returns (L: the
    multipliers below the diagonal in columns < min(m, n) of an (..., m, m) tensor, U: A
    reduced (rows >= min(m, n) are zero), order (..., m): the rows of A in P A's order, the
    sign of P, and per step the pivot row (..., int64), 0-based)."""
    m, n = A.shape[-2], A.shape[-1]
    batch = tuple(A.shape[:-2])
    rows = arange(m)
    U, L = A, zeros(batch + (m, m), dtype=A.dtype)
    order = rows.expand(batch + (m,)).contiguous()
    sign = ones(batch, dtype=A.dtype)
    pivots = []
    for k in range(builtins.min(m - 1, n)):
        col = U[..., :, k].abs()
        below = _C.where(rows >= k, col, -1.0)
        p = below.argmax(-1)  # the pivot row, >= k
        pivots.append(p)
        pk = p.unsqueeze(-1)
        # Rows k and p trade places (in U, in L's finished columns, and in the row order).
        perm = _swap(rows, k, pk)
        U = U.gather(-2, perm.unsqueeze(-1).expand(tuple(U.shape)))
        L = L.gather(-2, perm.unsqueeze(-1).expand(tuple(L.shape)))
        order = order.gather(-1, perm)
        sign = _C.where(p != k, -sign, sign)
        pivot = U[..., k, k]
        safe = _C.where(pivot == 0, 1.0, pivot)  # a zero column below k: nothing to eliminate
        factors = _C.where(rows > k, U[..., :, k] / safe.unsqueeze(-1), 0.0)
        U = U - factors.unsqueeze(-1) * U[..., k, :].unsqueeze(-2)
        L = L + factors.unsqueeze(-1) * (rows == k).to(A.dtype)
    return L, U, order, sign, pivots


def _check_matrix(A, name):
    _check_floating(A, name)
    if A.ndim < 2:
        raise ValueError(f"linalg.{name}: expected matrices (..., m, n), got shape {tuple(A.shape)}")


def _pivot_tensor(A, pivots):
    """LAPACK's 1-based int32 pivots (..., min(m, n)) from the steps' pivot rows."""
    m, n = A.shape[-2], A.shape[-1]
    k = builtins.min(m, n)
    batch = tuple(A.shape[:-2])
    steps = [p + 1 for p in pivots]
    if len(steps) < k:  # the last step of a square or wide matrix swaps nothing
        steps.append(ones(batch, dtype=_C.dtype.int64) * k)
    if not steps:
        return zeros(batch + (0,), dtype=_C.dtype.int32)
    return _C.stack(steps, -1).to(_C.dtype.int32)


def _info(U, k):
    """LAPACK's info per matrix: 0, or the 1-based index of the first zero on U's diagonal."""
    d = _diagonal(U.detach()[..., :k, :k], 0, -2, -1)
    zero = (d == 0).to(_C.dtype.int32)
    if k == 0:
        return zeros(tuple(U.shape[:-2]), dtype=_C.dtype.int32)
    first = zero.argmax(-1).to(_C.dtype.int32) + 1
    return _C.where(zero.any(-1), first, 0).to(_C.dtype.int32)


def _nonsingular(U, name):
    """Raises LinAlgError naming the first matrix of the batch with a zero pivot on U's
    diagonal (square U)."""
    info = _info(U, U.shape[-1]).reshape(-1)
    bad = info.numpy().nonzero()[0]
    if bad.size:
        from .linalg import LinAlgError

        raise LinAlgError(f"linalg.{name}: the input is singular: in matrix {int(bad[0])} of the batch, "
                          f"pivot {int(info[int(bad[0])]) - 1} of its LU factorisation is zero")


def _packed(L, U, k):
    """L's multipliers and U's rows in one (..., m, n) matrix, as getrf returns them."""
    m, n = L.shape[-1], U.shape[-1]
    below = L[..., :, :k]
    if n > k:
        below = _C.cat([below, zeros(tuple(L.shape[:-2]) + (m, n - k), dtype=L.dtype)], -1)
    return _C.tril(below, -1) + _C.triu(U, 0)


_LUFactor = namedtuple("lu_factor", ["LU", "pivots"])
_LUFactorEx = namedtuple("lu_factor_ex", ["LU", "pivots", "info"])
_PLU = namedtuple("lu", ["P", "L", "U"])


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """(LU, pivots, info): P A = L U packed as LAPACK's getrf (L's unit diagonal implied),
    its 1-based int32 pivots, and info (0, or the index of the first zero pivot; the
    factorisation still completes). check_errors=True raises on a nonzero info."""
    _check_matrix(A, "lu_factor_ex")
    if not pivot:
        raise NotImplementedError("linalg.lu_factor: pivot=False is only for CUDA in PyTorch; dlcore's CPU "
                                  "factorisation always pivots")
    k = builtins.min(A.shape[-2], A.shape[-1])
    L, U, _, _, steps = _lu(A)
    if check_errors:
        _nonsingular(U[..., :k, :k], "lu_factor_ex")
    return _LUFactorEx(_packed(L, U, k), _pivot_tensor(A, steps), _info(U, k))


def lu_factor(A, *, pivot=True):
    """(LU, pivots): the packed LU factorisation with partial pivoting (see lu_factor_ex);
    singular matrices factor too (a zero on U's diagonal)."""
    LU, pivots, _ = lu_factor_ex(A, pivot=pivot)
    return _LUFactor(LU, pivots)


def _order_from_pivots(pivots, m):
    """The row order of P A (..., m) from LAPACK pivots (..., k): the swaps in turn."""
    batch = tuple(pivots.shape[:-1])
    rows = arange(m)
    order = rows.expand(batch + (m,)).contiguous()
    piv = pivots.to(_C.dtype.int64) - 1
    for k in range(pivots.shape[-1]):
        pk = piv[..., k].unsqueeze(-1)
        order = order.gather(-1, _swap(rows, k, pk))
    return order


def _check_pivots(LU, pivots, name):
    m, n = LU.shape[-2], LU.shape[-1]
    k = builtins.min(m, n)
    if pivots.dtype not in (_C.dtype.int32, _C.dtype.int64) or tuple(pivots.shape) != tuple(LU.shape[:-2]) + (k,):
        raise ValueError(f"linalg.{name}: pivots must be int32 of shape {tuple(LU.shape[:-2]) + (k,)}, got "
                         f"{pivots.dtype} {tuple(pivots.shape)}")
    if pivots.numel() and (int(pivots.min()) < 1 or int(pivots.max()) > m):
        raise ValueError(f"linalg.{name}: pivots must lie in 1..{m}, got values in "
                         f"[{int(pivots.min())}, {int(pivots.max())}]")


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):
    """(P, L, U) from lu_factor's packed result: A = P L U, P a permutation matrix, L
    (..., m, k) unit lower-triangular, U (..., k, n) upper-triangular, k = min(m, n)."""
    _check_matrix(LU_data, "lu_unpack")
    _check_pivots(LU_data, LU_pivots, "lu_unpack")
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = builtins.min(m, n)
    batch = tuple(LU_data.shape[:-2])
    P = L = U = None
    if unpack_data:
        L = _C.tril(LU_data[..., :, :k], -1) + eye(m, k, dtype=LU_data.dtype)
        U = _C.triu(LU_data[..., :k, :], 0)
    if unpack_pivots:
        order = _order_from_pivots(LU_pivots, m)  # (P A)[i] = A[order[i]]: P[order[i], i] = 1
        P = (arange(m).unsqueeze(-1) == order.unsqueeze(-2)).to(LU_data.dtype).expand(batch + (m, m))
    empty = zeros((0,), dtype=LU_data.dtype)
    return _PLU(P if P is not None else empty, L if L is not None else empty, U if U is not None else empty)


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U: P a permutation matrix, L unit lower-triangular (..., m, k),
    U upper-triangular (..., k, n), k = min(m, n)."""
    _check_matrix(A, "lu")
    LU, pivots = lu_factor(A, pivot=pivot)
    return lu_unpack(LU, pivots)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """X with A X = B (left) or X A = B, A given by lu_factor's (LU, pivots); adjoint=True
    solves with A's transpose instead. B (..., n, k); batch dims broadcast."""
    n = _check_square(LU, "lu_solve")
    _check_floating(B, "lu_solve")
    _check_pivots(LU, pivots, "lu_solve")
    if B.ndim < 2:
        raise ValueError(f"linalg.lu_solve: B must have at least 2 dims (..., n, k), got shape {tuple(B.shape)}")
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return lu_solve(LU, pivots, B.transpose(-2, -1), adjoint=not adjoint).transpose(-2, -1)
    LUb, Bm, _, _ = _batched(LU, B, "lu_solve")
    if n == 0:
        return Bm
    order = _order_from_pivots(pivots, n).expand(tuple(LUb.shape[:-1]))
    index = order.unsqueeze(-1).expand(tuple(Bm.shape))
    if not adjoint:  # L U X = P B
        return substitute(LUb, substitute(LUb, Bm.gather(-2, index), True, unit=True), False)
    # A^T = U^T L^T P: U^T z = B, L^T w = z, X = P^T w (X[order[i]] = w[i]).
    At = LUb.transpose(-2, -1)
    w = substitute(At, substitute(At, Bm, True), False, unit=True)
    return zeros(tuple(w.shape), dtype=w.dtype).scatter(-2, index, w)


def tensorsolve(A, B, dims=None):
    """X with tensordot(A, X, X.ndim) = B: A's trailing dims (after moving ``dims`` last)
    form X's shape, whose size must equal B's."""
    _check_floating(A, "tensorsolve")
    if dims is not None:
        dims = [d % A.ndim for d in dims]
        rest = [d for d in range(A.ndim) if d not in dims]
        A = A.permute(rest + dims)
    x_shape = tuple(A.shape[B.ndim:])
    if tuple(A.shape[:B.ndim]) != tuple(B.shape):
        raise ValueError(f"linalg.tensorsolve: A of shape {tuple(A.shape)} must begin with B's shape "
                         f"{tuple(B.shape)}")
    rows, cols = B.numel(), math.prod(x_shape)
    if rows != cols:
        raise ValueError(f"linalg.tensorsolve: the product of B's dims ({rows}) must equal that of the "
                         f"solution's {x_shape} ({cols})")
    from .linalg import solve

    return solve(A.reshape(rows, cols), B.reshape(rows)).reshape(x_shape)


def tensorinv(A, ind=2):
    """The inverse of A for tensordot: A's first ``ind`` dims against the rest, whose sizes'
    products must match; the result has shape A.shape[ind:] + A.shape[:ind]."""
    _check_floating(A, "tensorinv")
    if not isinstance(ind, builtins.int) or ind <= 0:
        raise ValueError(f"linalg.tensorinv: ind must be a positive int, got {ind!r}")
    out_shape, in_shape = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    rows, cols = math.prod(out_shape), math.prod(in_shape)
    if rows != cols:
        raise ValueError(f"linalg.tensorinv: the product of the first {ind} dims ({rows}) must equal that of the "
                         f"rest ({cols}), shape {tuple(A.shape)}")
    from .linalg import inv

    return inv(A.reshape(rows, cols)).reshape(in_shape + out_shape)


def matrix_exp(A):
    """exp(A) = sum A^k / k! for square A (..., n, n), by scaling and squaring: A / 2^s
    with norm at most 1/2, a Taylor series to degree 18, then s squarings. Composed of
    matmuls, so it is differentiable."""
    n = _check_square(A, "matrix_exp")
    if n == 0 or A.numel() == 0:
        return A.clone()
    norm = float(A.detach().abs().sum(-2).max())  # the largest 1-norm over the batch
    s = builtins.max(0, math.ceil(math.log2(norm / 0.5))) if norm > 0.5 and math.isfinite(norm) else 0
    X = A / (2.0 ** s)
    ident = eye(n, dtype=A.dtype).expand(tuple(A.shape))
    # Horner: I + X (I + X/2 (I + X/3 (...))).
    E = ident
    for k in range(18, 0, -1):
        E = ident + (X @ E) / k
    for _ in range(s):
        E = E @ E
    return E


def vander(x, N=None):
    """The Vandermonde matrix (..., n, N) of x (..., n): columns x^0, x^1, ..., x^(N-1)
    (increasing powers, as torch.linalg.vander; N = n by default)."""
    if x.ndim < 1:
        raise ValueError("linalg.vander: x must have at least 1 dimension, got a scalar")
    N = x.shape[-1] if N is None else N
    if not isinstance(N, builtins.int) or N <= 1:
        raise ValueError(f"linalg.vander: N must be an int greater than 1, got {N!r}")
    cols = [ones(tuple(x.shape), dtype=x.dtype)]
    for _ in range(N - 1):
        cols.append(cols[-1] * x)
    return _C.stack(cols, -1)


def householder_product(A, tau):
    """The first n columns of H_1 ... H_k for A (..., m, n) (m >= n) and tau (..., k)
    (k <= n): H_i = I - tau_i v_i v_i^T, v_i column i of A below the diagonal with a 1 on
    it (how geqrf stores Q; LAPACK's orgqr)."""
    _check_matrix(A, "householder_product")
    m, n = A.shape[-2], A.shape[-1]
    if m < n:
        raise ValueError(f"linalg.householder_product: A must have at least as many rows as columns, got shape "
                         f"{tuple(A.shape)}")
    if tau.ndim != A.ndim - 1 or tuple(tau.shape[:-1]) != tuple(A.shape[:-2]) or tau.shape[-1] > n:
        raise ValueError(f"linalg.householder_product: tau must have shape {tuple(A.shape[:-2])} + (k,) with "
                         f"k <= {n}, got {tuple(tau.shape)}")
    rows = arange(m)
    Q = eye(m, n, dtype=A.dtype).expand(tuple(A.shape)).contiguous()
    for i in reversed(range(tau.shape[-1])):
        v = _C.where(rows > i, A[..., :, i], _C.where(rows == i, 1.0, 0.0))  # (..., m)
        Q = Q - tau[..., i].unsqueeze(-1).unsqueeze(-1) * v.unsqueeze(-1) * (v.unsqueeze(-2) @ Q)
    return Q


def _no_complex(name):
    def f(*args, **kwargs):
        raise NotImplementedError(f"linalg.{name}: the eigenvalues of a general matrix are complex, and dlcore has "
                                  "no complex dtype; for a symmetric matrix use linalg.eigh / eigvalsh")
    f.__name__ = name
    return f


eig = _no_complex("eig")
eigvals = _no_complex("eigvals")
