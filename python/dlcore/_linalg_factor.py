"""Triangular solves, Cholesky and QR factorisations and least squares for
``dlcore.linalg``, composed of dlcore's ops one row or column a step (gradients of every
order are those of the arithmetic), for the small matrices of training scripts.

- Cholesky (A = L L^T) reads A's lower triangle, column by column; a matrix that is not
  positive-definite raises LinAlgError naming the leading minor (cholesky_ex reports it
  instead).
- QR uses Householder reflections with LAPACK's convention (R's diagonal entry j is
  -sign(x_j) |x| for the column x it reflects, a column already zero below the diagonal
  is left as it is), so Q and R are the ones NumPy and PyTorch give.
- lstsq solves full-rank problems by QR: the least-squares solution of a tall system and
  the minimum-norm solution of a wide one.
"""
import builtins
from collections import namedtuple

from . import _C
from ._composite import broadcast_shapes
from .creation import arange, eye, zeros

Tensor = _C.Tensor


def _check_floating(x, name):
    if not x.dtype.is_floating_point:
        raise TypeError(f"linalg.{name}: expected a floating tensor, got {x.dtype!r}")


def _check_square(A, name):
    _check_floating(A, name)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"linalg.{name}: expected square matrices (..., n, n), got shape {tuple(A.shape)}")
    return A.shape[-1]


def substitute(T, B, lower, unit=False):
    """X with T X = B for triangular T (..., n, n) and B (..., n, k) of one batch shape: a
    row of X a step, in order (lower) or from the last (upper). unit: T's diagonal is
    taken as ones (and not read)."""
    n = T.shape[-1]
    xs = [None] * n
    for i in (range(n) if lower else reversed(range(n))):
        xi = B[..., i, :]
        known = builtins.slice(0, i) if lower else builtins.slice(i + 1, n)
        if (i if lower else n - 1 - i) > 0:
            prev = _C.stack(xs[known], -2)
            xi = xi - (T[..., i, known].unsqueeze(-2) @ prev).squeeze(-2)
        xs[i] = xi if unit else xi / T[..., i, i].unsqueeze(-1)
    return _C.stack(xs, -2)


def _batched(A, B, name):
    """A and B expanded to one batch shape; B as (..., n, k), with whether it was a vector."""
    n = A.shape[-1]
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2 or Bm.shape[-2] != A.shape[-2]:
        raise ValueError(f"linalg.{name}: A of shape {tuple(A.shape)} and B of shape {tuple(B.shape)}: "
                         f"B needs {A.shape[-2]} rows")
    batch = tuple(broadcast_shapes(tuple(A.shape[:-2]), tuple(Bm.shape[:-2])))
    return A.expand(batch + tuple(A.shape[-2:])), Bm.expand(batch + tuple(Bm.shape[-2:])), vector, n


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B (left) or X A = B for triangular A (only its triangle is read; a zero
    on the diagonal gives inf or NaN, as in PyTorch)."""
    n = _check_square(A, "solve_triangular")
    _check_floating(B, "solve_triangular")
    if B.ndim < 2:
        raise ValueError(f"linalg.solve_triangular: B must have at least 2 dims (..., n, k), got shape "
                         f"{tuple(B.shape)}")
    if not left:
        return solve_triangular(A.transpose(-2, -1), B.transpose(-2, -1), upper=not upper,
                                unitriangular=unitriangular).transpose(-2, -1)
    A, B, _, _ = _batched(A, B, "solve_triangular")
    return B if n == 0 else substitute(A, B, not upper, unitriangular)


_CholeskyEx = namedtuple("cholesky_ex", ["L", "info"])


def _cholesky(A, name, raise_errors):
    """(L, info): L L^T = A from A's lower triangle; info (batch shape, int32) the order of
    the first leading minor that is not positive-definite, 0 where there is none."""
    n = _check_square(A, name)
    batch = tuple(A.shape[:-2])
    info = zeros(batch, dtype=_C.dtype.int32)
    if n == 0:
        return A + 0.0, info
    rows = arange(n)
    cols = []
    for j in range(n):
        a = A[..., :, j]
        if j:
            Lp = _C.stack(cols, -1)
            a = a - (Lp @ Lp[..., j, :].unsqueeze(-1)).squeeze(-1)
        d = a[..., j]
        bad = ~(d.detach() > 0)  # NaN included
        if bad.any().item():
            if raise_errors:
                from .linalg import LinAlgError

                where = "" if not batch else f"in matrix {int(bad.reshape(-1).nonzero()[0, 0].item())} of the batch, "
                raise LinAlgError(f"linalg.{name}: the input is not positive-definite: {where}the leading minor "
                                  f"of order {j + 1} is not positive-definite")
            info = _C.where(bad & (info == 0), j + 1, info)
            d = _C.where(bad, 1.0, d)
        ljj = d.sqrt().unsqueeze(-1)
        cols.append(_C.where(rows > j, a / ljj, _C.where(rows == j, ljj, 0.0)))
    return _C.stack(cols, -1), info


def cholesky(A, *, upper=False):
    """L (lower triangular, positive diagonal) with L L^T = A, or its transpose (upper); A
    symmetric positive-definite, read from its lower triangle."""
    L, _ = _cholesky(A, "cholesky", True)
    return L.transpose(-2, -1) if upper else L


def cholesky_ex(A, *, upper=False, check_errors=False):
    """(L, info): cholesky without raising unless check_errors; info is 0 where the
    factorisation completed, else the order of the first minor that is not
    positive-definite (L is then incomplete)."""
    L, info = _cholesky(A, "cholesky_ex", check_errors)
    return _CholeskyEx(L.transpose(-2, -1) if upper else L, info)


def cholesky_solve(B, L, upper=False):
    """X with A X = B, A = L L^T (or U^T U with upper) given its Cholesky factor."""
    _check_square(L, "cholesky_solve")
    _check_floating(B, "cholesky_solve")
    if B.ndim < 2:
        raise ValueError(f"linalg.cholesky_solve: B must have at least 2 dims (..., n, k), got shape "
                         f"{tuple(B.shape)}")
    L = L.transpose(-2, -1) if upper else L
    L, B, _, n = _batched(L, B, "cholesky_solve")
    if n == 0:
        return B
    return substitute(L.transpose(-2, -1), substitute(L, B, True), False)


def cholesky_inverse(L, upper=False):
    """A^-1 from A's Cholesky factor."""
    n = _check_square(L, "cholesky_inverse")
    return cholesky_solve(eye(n, dtype=L.dtype).expand(tuple(L.shape)), L, upper)


_QR = namedtuple("qr", ["Q", "R"])


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R: Q's columns orthonormal, R upper triangular. mode 'reduced': Q
    (..., m, k), R (..., k, n) for k = min(m, n); 'complete': Q (..., m, m), R (..., m, n);
    'r': R only (Q empty)."""
    _check_floating(A, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    if A.ndim < 2:
        raise ValueError(f"linalg.qr: expected matrices (..., m, n), got shape {tuple(A.shape)}")
    m, n = A.shape[-2], A.shape[-1]
    k = builtins.min(m, n)
    batch = tuple(A.shape[:-2])
    rows = arange(m)
    R = A
    Q = eye(m, dtype=A.dtype).expand(batch + (m, m))
    for j in range(k):
        x = R[..., :, j]
        tail2 = (_C.where(rows > j, x, 0.0) ** 2).sum(-1)
        reflect = tail2 > 0
        norm2 = tail2 + x[..., j] ** 2
        norm = _C.where(reflect, _C.where(reflect, norm2, 1.0).sqrt(), 0.0)
        alpha = _C.where(x[..., j] >= 0, -norm, norm)
        v = _C.where(rows >= j, x, 0.0) - alpha.unsqueeze(-1) * (rows == j).to(A.dtype)
        vv = (v * v).sum(-1)
        tau = _C.where(reflect, 2.0 / _C.where(reflect, vv, 1.0), 0.0)
        tv = (tau.unsqueeze(-1) * v).unsqueeze(-1)  # (..., m, 1)
        R = R - tv * (v.unsqueeze(-2) @ R)
        Q = Q - (Q @ v.unsqueeze(-1)) * tv.transpose(-2, -1)
    R = _C.where(rows.unsqueeze(-1) <= arange(n), R, 0.0)  # exact zeros below the diagonal
    if mode == "complete":
        return _QR(Q, R)
    if mode == "r":
        return _QR(zeros(0, dtype=A.dtype), R[..., :k, :])
    return _QR(Q[..., :, :k], R[..., :k, :])


_Lstsq = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])
_DRIVERS = (None, "gels", "gelsy", "gelsd", "gelss")


def _full_rank(R, name):
    from .linalg import LinAlgError

    d = R.detach().diagonal(0, -2, -1).abs()
    if d.numel() and d.shape[-1]:
        scale = d.amax(-1, keepdim=True)
        tiny = d <= scale * (d.shape[-1] * (2.2e-16 if R.dtype == _C.dtype.float64 else 1.2e-7))
        if tiny.any().item():
            raise LinAlgError(f"linalg.{name}: A is rank-deficient; dlcore's lstsq solves full-rank problems "
                              "(for others: linalg.pinv(A) @ B)")


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of A X = B for a full-rank A (..., m, n): minimising
    |A X - B| when m >= n, the solution of least norm when m < n. Returns (solution,
    residuals, rank, singular_values) as PyTorch does: residuals (the squared residual of
    each column, for m > n) with drivers 'gels', 'gelsd' and 'gelss'; the rank with
    'gelsy' (the default), 'gelsd' and 'gelss'; singular values with 'gelsd' and
    'gelss'."""
    _check_floating(A, "lstsq")
    _check_floating(B, "lstsq")
    if driver not in _DRIVERS:
        raise ValueError(f"linalg.lstsq: driver must be one of 'gels', 'gelsy', 'gelsd', 'gelss', got {driver!r}")
    if A.ndim < 2:
        raise ValueError(f"linalg.lstsq: expected A of shape (..., m, n), got shape {tuple(A.shape)}")
    driver = driver or "gelsy"
    A, Bm, vector, _ = _batched(A, B, "lstsq")
    m, n = A.shape[-2], A.shape[-1]
    batch = tuple(A.shape[:-2])
    if m >= n:
        Q, R = qr(A)
        _full_rank(R, "lstsq")
        X = substitute(R, Q.transpose(-2, -1) @ Bm, False) if n else zeros(batch + (0, Bm.shape[-1]), dtype=A.dtype)
    else:
        Q, R = qr(A.transpose(-2, -1))
        _full_rank(R, "lstsq")
        X = Q @ substitute(R.transpose(-2, -1), Bm, True)
    empty = zeros(0, dtype=A.dtype)
    residuals = empty
    if m > n and driver != "gelsy":
        residuals = ((A @ X - Bm) ** 2).sum(-2)
        if vector:
            residuals = residuals.squeeze(-1)
    rank = empty.to(_C.dtype.int64)
    if driver != "gels":
        rank = zeros(batch, dtype=_C.dtype.int64) + builtins.min(m, n)
    singular = empty
    if driver in ("gelsd", "gelss"):
        from ._linalg_spectral import svdvals

        singular = svdvals(A.detach())
    return _Lstsq(X.squeeze(-1) if vector else X, residuals, rank, singular)
