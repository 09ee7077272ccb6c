"""Symmetric eigendecompositions and singular value decompositions for ``dlcore.linalg``,
and what is built on them (svdvals, pinv, matrix_rank, cond, the 2- and nuclear norms).

The factorisations themselves come from NumPy's LAPACK (numpy.linalg.eigh and .svd, in
float64, rounded to the input's dtype); their gradients are written here with dlcore's
ops (as PyTorch defines them), so they are differentiable once more under
create_graph=True:

- eigh, A = V diag(L) V^T (L ascending, A read from one triangle):
      gA = V (diag(gL) + F o (V^T gV - gV^T V) / 2) V^T,  F_ij = 1 / (L_j - L_i), i != j,
  the symmetric gradient PyTorch gives. Repeated eigenvalues make the eigenvector part
  infinite (the eigenvectors are not unique there); eigenvalues alone stay finite.
- svd, A = U diag(S) V^T (S descending):
      gA = U (J S + diag(gS) + S K) V^T + (I - U U^T) gU S^-1 V^T + U S^-1 gV^T (I - V V^T),
      J = F o (U^T gU - gU^T U),  K = F o (V^T gV - gV^T V),  F_ij = 1 / (S_j^2 - S_i^2),
  finite for distinct non-zero singular values; S alone (svdvals) is always differentiable.
"""
import builtins
from collections import namedtuple

import numpy as np

from . import _C
from .autograd.function import Function
from .creation import eye

Tensor = _C.Tensor


def _check(A, name, square=False):
    if not A.dtype.is_floating_point:
        raise TypeError(f"linalg.{name}: expected a floating tensor, got {A.dtype!r}")
    if A.ndim < 2 or (square and A.shape[-1] != A.shape[-2]):
        want = "square matrices (..., n, n)" if square else "matrices (..., m, n)"
        raise ValueError(f"linalg.{name}: expected {want}, got shape {tuple(A.shape)}")


def _to(array, like):
    return _C.from_numpy(np.ascontiguousarray(array)).to(like.dtype)


def _off_diagonal_reciprocal(d):
    """F (..., k, k): 1 / (d_j - d_i) off the diagonal, 0 on it."""
    diff = d.unsqueeze(-2) - d.unsqueeze(-1)
    k = d.shape[-1]
    off = ~eye(k, dtype=_C.dtype.bool)
    return _C.where(off, 1.0 / _C.where(off, diff, 1.0), 0.0)


def _mT(x):
    return x.transpose(-2, -1)


def _diag(v):
    return v.unsqueeze(-1) * eye(v.shape[-1], dtype=v.dtype)


def _nonfinite(A, name):
    if not bool((A - A == 0).all().item()):  # inf - inf and NaN are NaN
        from .linalg import LinAlgError

        raise LinAlgError(f"linalg.{name}: the input has NaN or infinite values")


class _Eigh(Function):
    @staticmethod
    def forward(ctx, A, uplo):
        _nonfinite(A, "eigh")
        w, v = np.linalg.eigh(A.detach().numpy().astype(np.float64), UPLO=uplo)
        L, V = _to(w, A), _to(v, A)
        ctx.save_for_backward(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        M = _mT(V) @ gV
        inner = _diag(gL) + _off_diagonal_reciprocal(L) * (M - _mT(M)) * 0.5
        return V @ inner @ _mT(V), None


class _Svd(Function):
    @staticmethod
    def forward(ctx, A, full_matrices):
        _nonfinite(A, "svd")
        u, s, vh = np.linalg.svd(A.detach().numpy().astype(np.float64), full_matrices=full_matrices)
        U, S, Vh = _to(u, A), _to(s, A), _to(vh, A)
        ctx.k = s.shape[-1]
        ctx.full = full_matrices
        ctx.save_for_backward(U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        k = ctx.k
        if ctx.full:
            if builtins.any(bool((g != 0).any().item()) for g in (gU[..., :, k:], gVh[..., k:, :]) if g.numel()):
                raise RuntimeError("linalg.svd: the backward of full_matrices=True needs U's and Vh's completing "
                                   "columns to carry no gradient; use full_matrices=False")
            U, gU, Vh, gVh = U[..., :, :k], gU[..., :, :k], Vh[..., :k, :], gVh[..., :k, :]
        V, gV = _mT(Vh), _mT(gVh)
        F = _off_diagonal_reciprocal(S * S)
        J = F * (_mT(U) @ gU - _mT(gU) @ U)
        K = F * (_mT(V) @ gV - _mT(gV) @ V)
        Sd = _diag(S)
        gA = U @ (J @ Sd + _diag(gS) + Sd @ K) @ Vh
        m, n = U.shape[-2], V.shape[-2]
        inv_s = 1.0 / S
        if m > k:
            gA = gA + (gU - U @ (_mT(U) @ gU)) * inv_s.unsqueeze(-2) @ Vh
        if n > k:
            gA = gA + (U * inv_s.unsqueeze(-2)) @ (_mT(gV) - (_mT(gV) @ V) @ Vh)
        return gA, None


_Eigh_result = namedtuple("eigh", ["eigenvalues", "eigenvectors"])
_Svd_result = namedtuple("svd", ["U", "S", "Vh"])


def eigh(A, UPLO="L"):
    """(eigenvalues ascending, eigenvectors as columns) of symmetric A, read from its lower
    (UPLO='L') or upper triangle."""
    _check(A, "eigh", square=True)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return _Eigh_result(*_Eigh.apply(A, UPLO))


def eigvalsh(A, UPLO="L"):
    """The eigenvalues (ascending) of symmetric A."""
    _check(A, "eigvalsh", square=True)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigvalsh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return _Eigh.apply(A, UPLO)[0]


def svd(A, full_matrices=True):
    """(U, S, Vh) with A = U diag(S) Vh, S descending; with full_matrices U is (..., m, m)
    and Vh (..., n, n), else (..., m, k) and (..., k, n), k = min(m, n)."""
    _check(A, "svd")
    return _Svd_result(*_Svd.apply(A, full_matrices))


def svdvals(A):
    """The singular values, descending."""
    _check(A, "svdvals")
    return _Svd.apply(A, False)[1]


def _tolerance(S, m, n, atol, rtol):
    """The threshold below which singular values count as zero (PyTorch's rule: the larger
    of atol and rtol times the largest; rtol defaults to eps max(m, n) where atol is not
    given, else to 0)."""
    if rtol is None:
        eps = np.finfo(np.float64 if S.dtype == _C.dtype.float64 else np.float32).eps
        rtol = eps * builtins.max(m, n) if atol is None or atol == 0 else 0.0
    largest = S.amax(-1, keepdim=True) if S.shape[-1] else S.sum(-1, keepdim=True)
    tol = largest * rtol
    if atol is not None:
        tol = _C.maximum(tol, tol * 0 + atol)
    return tol


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse, V diag(1/S) U^T over the singular values above the
    tolerance (see matrix_rank); hermitian uses eigh of the symmetric A instead."""
    _check(A, "pinv", square=hermitian)
    if hermitian:
        L, V = eigh(A)
        keep = L.abs() > _tolerance(L.abs(), A.shape[-2], A.shape[-1], atol, rtol)
        inv_l = _C.where(keep, 1.0 / _C.where(keep, L, 1.0), 0.0)
        return (V * inv_l.unsqueeze(-2)) @ _mT(V)
    U, S, Vh = svd(A, full_matrices=False)
    keep = S > _tolerance(S, A.shape[-2], A.shape[-1], atol, rtol)
    inv_s = _C.where(keep, 1.0 / _C.where(keep, S, 1.0), 0.0)
    return (_mT(Vh) * inv_s.unsqueeze(-2)) @ _mT(U)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values (|eigenvalues| with hermitian) above
    max(atol, rtol * the largest)."""
    _check(A, "matrix_rank", square=hermitian)
    S = eigvalsh(A).abs() if hermitian else svdvals(A)
    S = S.detach()
    return (S > _tolerance(S, A.shape[-2], A.shape[-1], atol, rtol)).sum(-1)


def cond(A, p=None):
    """The condition number in the p-norm: the ratio of the largest to the smallest singular
    value for p None or 2 (-2: its inverse); else norm(A, p) * norm(inv(A), p)."""
    from .linalg import inv, matrix_norm

    _check(A, "cond", square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        S = svdvals(A)
        big, small = S[..., 0], S[..., -1]
        return big / small if p != -2 else small / big
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def spectral_norm_values(A, ord):
    """matrix_norm's ord 2, -2 and 'nuc' over the last two dims: the largest or smallest
    singular value, or their sum."""
    S = svdvals(A)
    if ord == "nuc":
        return S.sum(-1)
    return S.amax(-1) if ord == 2 else S.amin(-1)
