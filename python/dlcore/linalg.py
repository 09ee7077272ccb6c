"""``dlcore.linalg``: norms, products, determinants, inverses and solves, triangular solves,
LU, Cholesky, QR, least squares, symmetric eigendecompositions and SVDs, the matrix
exponential, with PyTorch's names.

Batches come first (``A`` is (..., n, n)). LU (det, inv, solve, lu_factor and the rest of
_linalg_lu.py), Cholesky, QR and the triangular solves are composed of dlcore's ops, one
row or column a step, so their gradients
(of any order) are those of the arithmetic itself. They suit the small matrices of training
scripts (tens of rows: n steps of batched ops); a singular matrix gives ``det`` 0 and makes
``inv`` and ``solve`` raise ``LinAlgError``, as a matrix that is not positive-definite
makes ``cholesky`` raise. eigh and svd (and svdvals, pinv, matrix_rank, cond, the 2- and
nuclear norms) take their factorisations from NumPy's LAPACK and their gradients from
formulas written with dlcore's ops (_linalg_spectral.py).
"""
import builtins
import math
from collections import namedtuple

from . import _C
from ._composite import _dims, diagonal as _diagonal, norm as _norm
from ._tensor_extras import matrix_power  # noqa: F401
from ._tensor_functions import cross as _cross
from .creation import eye, ones, zeros
from ._linalg_factor import (  # noqa: F401  (dlcore.linalg's own names)
    _batched,
    _check_floating,
    _check_square,
    cholesky,
    cholesky_ex,
    cholesky_solve,
    cholesky_inverse,
    lstsq,
    qr,
    solve_triangular,
    substitute,
)
from ._linalg_lu import (  # noqa: F401
    _info,
    _lu,
    _nonsingular,
    eig,
    eigvals,
    householder_product,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
    lu_unpack,
    matrix_exp,
    tensorinv,
    tensorsolve,
    vander,
)
from ._linalg_spectral import (  # noqa: F401
    cond,
    eigh,
    eigvalsh,
    matrix_rank,
    pinv,
    spectral_norm_values,
    svd,
    svdvals,
)

matmul = _C.matmul


class LinAlgError(RuntimeError):
    """A matrix the operation cannot handle: singular for ``inv`` and ``solve``."""




def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ord-norm of x's values (all of them, or along dim): any positive ord, inf, -inf,
    or 0 (the count of non-zeros)."""
    if dtype is not None:
        x = x.to(dtype)
    _check_floating(x, "vector_norm")
    return _norm(x, ord, dim, keepdim)


_MATRIX_ORDS = ("fro", 1, -1, math.inf, -math.inf)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The ord-norm of the matrices in dims ``dim``: 'fro' (Frobenius), 'nuc' (the sum of the
    singular values), 2 and -2 (the largest and smallest singular value), 1 and -1 (largest
    and smallest column sum of absolute values), inf and -inf (the same over rows)."""
    if dtype is not None:
        A = A.to(dtype)
    _check_floating(A, "matrix_norm")
    if A.ndim < 2:
        raise ValueError(f"linalg.matrix_norm: expected a tensor of 2 or more dims, got shape {tuple(A.shape)}")
    if ord not in _MATRIX_ORDS + ("nuc", 2, -2):
        raise ValueError(f"linalg.matrix_norm: ord must be one of 'fro', 'nuc', 2, -2, 1, -1, inf, -inf, "
                         f"got {ord!r}")
    d = _dims(dim, A.ndim, "linalg.matrix_norm")
    if len(d) != 2 or d[0] == d[1]:
        raise ValueError(f"linalg.matrix_norm: dim must be two different dims, got {dim!r}")
    if ord in ("nuc", 2, -2):
        out = spectral_norm_values(A.movedim(tuple(d), (-2, -1)), ord)
        if keepdim:
            for k in sorted(d):
                out = out.unsqueeze(k)
        return out
    if ord == "fro":
        return _norm(A, 2, tuple(d), keepdim)
    # ord 1/-1 sum over rows (dim d[0]) then take the extreme over columns; inf/-inf the reverse.
    summed, across = (d[0], d[1]) if builtins.abs(ord) == 1 else (d[1], d[0])
    sums = A.abs().sum(summed, keepdim=True)
    out = sums.amax(across, keepdim=True) if ord > 0 else sums.amin(across, keepdim=True)
    if not keepdim:
        for k in sorted(d, reverse=True):
            out = out.squeeze(k)
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """As PyTorch's: a vector norm for an int dim (or, with no dim and no ord, of all the
    values), a matrix norm for two dims (or a 2-D A with an ord); ord None is 2 or 'fro'."""
    if isinstance(dim, builtins.int):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    if dim is not None:
        if len(dim) == 1:
            return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise ValueError(f"linalg.norm: with an ord and no dim, A must be 1-D or 2-D, got shape {tuple(A.shape)}")


def vecdot(x, y, *, dim=-1):
    """The dot products of x and y (broadcast together) along dim."""
    return (x * y).sum(dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return _diagonal(A, offset, dim1, dim2)


def cross(input, other, *, dim=-1):
    return _cross(input, other, dim)


def multi_dot(tensors):
    """The product of a chain of matrices (the first may be 1-D, a row; the last 1-D, a
    column), multiplied in the order with the fewest multiply-adds."""
    mats = list(tensors)
    if len(mats) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors, got {len(mats)}")
    first_1d, last_1d = mats[0].ndim == 1, mats[-1].ndim == 1
    if first_1d:
        mats[0] = mats[0].unsqueeze(0)
    if last_1d:
        mats[-1] = mats[-1].unsqueeze(1)
    for i, m in enumerate(mats):
        if m.ndim != 2:
            raise ValueError(f"linalg.multi_dot: tensor {i} must be 2-D (the first and last may be 1-D), "
                             f"got shape {tuple(tensors[i].shape)}")
        if i and mats[i - 1].shape[1] != m.shape[0]:
            raise ValueError(f"linalg.multi_dot: tensor {i - 1} of shape {tuple(tensors[i - 1].shape)} cannot "
                             f"multiply tensor {i} of shape {tuple(tensors[i].shape)}")
    n = len(mats)
    dims = [mats[0].shape[0]] + [m.shape[1] for m in mats]
    # cost[i][j]: the fewest multiply-adds for mats[i..j]; split[i][j]: where its last product splits it.
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min((cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1], k)
                                          for k in range(i, j))

    def chain(i, j):
        return mats[i] if i == j else chain(i, split[i][j]) @ chain(split[i][j] + 1, j)

    out = chain(0, n - 1)
    if first_1d:
        out = out.squeeze(0)
    if last_1d:
        out = out.squeeze(-1)
    return out


_SlogDet = namedtuple("slogdet", ["sign", "logabsdet"])


def slogdet(A):
    """(sign, logabsdet): the determinant's sign (0 for a singular matrix, whose
    logabsdet is -inf) and the log of its absolute value."""
    _check_square(A, "slogdet")
    if A.shape[-1] == 0:
        return _SlogDet(ones(tuple(A.shape[:-2]), dtype=A.dtype), zeros(tuple(A.shape[:-2]), dtype=A.dtype))
    _, U, _, sign, _ = _lu(A)
    d = _diagonal(U, 0, -2, -1)
    return _SlogDet((sign * d.sign().prod(-1)).detach(), d.abs().log().sum(-1))


def det(A):
    """The determinant: the sign of the row order times the product of U's diagonal."""
    _check_square(A, "det")
    if A.shape[-1] == 0:
        return ones(tuple(A.shape[:-2]), dtype=A.dtype)
    _, U, _, sign, _ = _lu(A)
    return sign * _diagonal(U, 0, -2, -1).prod(-1)


def solve(A, B, *, left=True):
    """X with A X = B (left=True) or X A = B. B is (..., n, k), or (..., n) for one vector;
    the batch dims broadcast."""
    return _solve(A, B, left, "solve")[0]


def _solve(A, B, left, name, check=True):
    """(X, U): the solution and the U of A's (or, with left=False, A^T's) LU factorisation,
    whose diagonal tells where A is singular; check raises LinAlgError there first."""
    n = _check_square(A, name)
    _check_floating(B, name)
    if not left:
        X, U = _solve(A.transpose(-2, -1), B.transpose(-2, -1), True, name, check)
        return X.transpose(-2, -1), U
    _, Bm, vector, _ = _batched(A, B, name)
    if n == 0:
        return (Bm.squeeze(-1) if vector else Bm), A
    # A is factorised once per matrix of its own batch; the factors broadcast with B.
    L, U, order, _, _ = _lu(A)
    if check:
        _nonsingular(U, name)
    batch = tuple(Bm.shape[:-2])
    PB = Bm.gather(-2, order.expand(batch + (n,)).unsqueeze(-1).expand(tuple(Bm.shape)))
    # L y = P B (unit diagonal), then U x = y, a row at a time.
    X = substitute(U.expand(batch + (n, n)), substitute(L.expand(batch + (n, n)), PB, True, unit=True), False)
    return (X.squeeze(-1) if vector else X), U


def inv(A):
    """The inverse, as the solution of A X = I."""
    n = _check_square(A, "inv")
    return _solve(A, eye(n, dtype=A.dtype).expand(tuple(A.shape)), True, "inv")[0]


_SolveEx = namedtuple("solve_ex", ["result", "info"])
_InvEx = namedtuple("inv_ex", ["inverse", "info"])


def solve_ex(A, B, *, left=True, check_errors=False):
    """(result, info): solve's result without the singularity check (a singular A gives
    inf or NaN), and info (0, or the 1-based index of the first zero pivot)."""
    X, U = _solve(A, B, left, "solve_ex", check_errors)
    return _SolveEx(X, _info(U, A.shape[-1]))


def inv_ex(A, *, check_errors=False):
    """(inverse, info) as solve_ex with B the identity."""
    n = _check_square(A, "inv_ex")
    X, U = _solve(A, eye(n, dtype=A.dtype).expand(tuple(A.shape)), True, "inv_ex", check_errors)
    return _InvEx(X, _info(U, n))


def logdet(A):
    """log det A: NaN where the determinant is negative, -inf where it is 0."""
    sign, logabs = slogdet(A)
    return _C.where(sign < 0, math.nan, _C.where(sign == 0, -math.inf, logabs))


inverse = inv


def _qr_some(A, some=True):
    """PyTorch's older qr(A, some=True): the reduced factors, or the complete ones."""
    return qr(A, "reduced" if some else "complete")


def pinverse(A, rcond=1e-15):
    return pinv(A, rtol=rcond)


_SvdV = namedtuple("svd", ["U", "S", "V"])


def _svd_v(A, some=True, compute_uv=True):
    """PyTorch's older svd(A, some=True): (U, S, V) with V itself (not its transpose); with
    compute_uv=False, U and V are zeros of their shapes."""
    U, S, Vh = svd(A, full_matrices=not some)
    if not compute_uv:
        return _SvdV(zeros(tuple(U.shape), dtype=A.dtype), S.detach() * 0 + S, zeros(tuple(Vh.shape), dtype=A.dtype))
    return _SvdV(U, S, Vh.transpose(-2, -1))


def _cholesky_upper(A, upper=False):
    return cholesky(A, upper=upper)


for _name in ("det", "slogdet", "logdet", "inverse", "pinverse", "cholesky_inverse"):
    setattr(_C.Tensor, _name, globals()[_name])
_C.Tensor.cholesky = _cholesky_upper
_C.Tensor.cholesky_solve = lambda self, L, upper=False: cholesky_solve(self, L, upper)
_C.Tensor.qr = _qr_some
_C.Tensor.matrix_exp = matrix_exp
_C.Tensor.orgqr = householder_product
_C.Tensor.svd = _svd_v
