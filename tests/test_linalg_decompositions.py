"""dlcore.linalg's triangular solves, Cholesky, QR, lstsq (composed of ops) against NumPy's
LAPACK, and eigh/svd (NumPy's LAPACK inside) against matrices built from known factors
and the defining identities; float64 finite-difference gradients for all; the errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore.autograd import gradcheck
from dlcore.linalg import LinAlgError


def t(a, grad=False, dtype=np.float64):
    return dl.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def check(got, want, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=rtol, atol=atol)


def spd(rng, *shape):
    n = shape[-1]
    M = rng.normal(size=shape)
    return M @ np.swapaxes(M, -1, -2) + n * np.eye(n)


def orthogonal(rng, n):
    """An orthogonal matrix by Gram-Schmidt on a normal sample, written plainly."""
    M = rng.normal(size=(n, n))
    Q = np.zeros((n, n))
    for j in range(n):
        v = M[:, j] - Q[:, :j] @ (Q[:, :j].T @ M[:, j])
        Q[:, j] = v / np.sqrt(v @ v)
    return Q


def test_solve_triangular(rng):
    A = np.tril(rng.normal(size=(2, 4, 4))) + 3 * np.eye(4)
    B = rng.normal(size=(2, 4, 3))
    check(dl.linalg.solve_triangular(t(A), t(B), upper=False), np.linalg.solve(A, B))
    U = np.swapaxes(A, -1, -2)
    check(dl.linalg.solve_triangular(t(U), t(B), upper=True), np.linalg.solve(U, B))
    Bl = rng.normal(size=(2, 3, 4))
    check(dl.linalg.solve_triangular(t(A), t(Bl), upper=False, left=False),
          np.swapaxes(np.linalg.solve(np.swapaxes(A, -1, -2), np.swapaxes(Bl, -1, -2)), -1, -2))
    unit = np.tril(A, -1) + np.eye(4)
    check(dl.linalg.solve_triangular(t(A), t(B), upper=False, unitriangular=True), np.linalg.solve(unit, B))
    check(dl.linalg.solve_triangular(t(A[0]), t(B), upper=False), np.linalg.solve(A[0], B))  # batch broadcast
    assert gradcheck(lambda a, b: dl.linalg.solve_triangular(a, b, upper=False), (t(A[0], True), t(B[0], True)))
    with pytest.raises(ValueError, match=r"linalg.solve_triangular: B must have at least 2 dims \(..., n, k\), "
                                         r"got shape \(4,\)"):
        dl.linalg.solve_triangular(t(A[0]), t(B[0, :, 0]), upper=False)


def test_cholesky(rng):
    A = spd(rng, 3, 5, 5)
    L = dl.linalg.cholesky(t(A))
    check(L, np.linalg.cholesky(A))
    check(dl.linalg.cholesky(t(A), upper=True), np.swapaxes(np.linalg.cholesky(A), -1, -2))
    upper_garbage = A + np.triu(np.full((5, 5), 7.0), 1)  # only the lower triangle is read
    check(dl.linalg.cholesky(t(upper_garbage)), np.linalg.cholesky(A))
    assert gradcheck(lambda x: dl.linalg.cholesky(x @ x.mT + 4 * dl.eye(4, dtype=dl.float64)),
                     (t(rng.normal(size=(4, 4)), True),))
    B = rng.normal(size=(3, 5, 2))
    check(dl.linalg.cholesky_solve(t(B), L), np.linalg.solve(A, B))
    check(dl.cholesky_solve(t(B), dl.linalg.cholesky(t(A), upper=True), upper=True), np.linalg.solve(A, B))
    check(dl.cholesky_inverse(L), np.linalg.inv(A))
    check(t(A).cholesky(), np.linalg.cholesky(A))
    assert gradcheck(lambda b, f: dl.linalg.cholesky_solve(b, f), (t(B[0], True), t(np.linalg.cholesky(A[0]), True)))
    not_pd = A.copy()
    not_pd[1, 2, 2] = -50.0
    with pytest.raises(LinAlgError, match="linalg.cholesky: the input is not positive-definite: in matrix 1 of the "
                                          "batch, the leading minor of order 3 is not positive-definite"):
        dl.linalg.cholesky(t(not_pd))
    with pytest.raises(LinAlgError, match="the leading minor of order 2 is not positive-definite"):
        dl.linalg.cholesky(t([[1.0, 2.0], [2.0, 1.0]]))
    L_ex, info = dl.linalg.cholesky_ex(t(not_pd))
    np.testing.assert_array_equal(info.numpy(), [0, 3, 0])
    check(L_ex[0], np.linalg.cholesky(A[0]))
    with pytest.raises(ValueError, match=r"linalg.cholesky: expected square matrices \(..., n, n\), got shape "
                                         r"\(2, 3\)"):
        dl.linalg.cholesky(t(np.ones((2, 3))))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 6, 4)])
def test_qr(rng, shape):
    A = rng.normal(size=shape)
    Q, R = dl.linalg.qr(t(A))
    Qn, Rn = np.linalg.qr(A)
    check(Q, Qn)
    check(R, Rn)
    Qc, Rc = dl.linalg.qr(t(A), mode="complete")
    Qcn, Rcn = np.linalg.qr(A, mode="complete")
    check(Qc, Qcn)
    check(Rc, Rcn)
    check(dl.linalg.qr(t(A), mode="r").R, np.linalg.qr(A, mode="r"))
    if len(shape) == 2:
        assert gradcheck(lambda x: dl.linalg.qr(x), (t(A, True),))


def test_qr_of_triangular_and_rank_deficient_columns(rng):
    # A column already zero below the diagonal is left as it is (LAPACK's convention).
    T = np.triu(rng.normal(size=(4, 4)))
    Q, R = dl.linalg.qr(t(T))
    Qn, Rn = np.linalg.qr(T)
    check(Q, Qn)
    check(R, Rn)
    Z = rng.normal(size=(5, 3))
    Z[:, 1] = 0.0
    Q, R = dl.linalg.qr(t(Z))
    check(Q @ R, Z)
    check(Q.mT @ Q, np.eye(3), atol=1e-12)
    with pytest.raises(ValueError, match="linalg.qr: mode must be 'reduced', 'complete' or 'r', got 'full'"):
        dl.linalg.qr(t(T), mode="full")
    Qs, Rs = dl.qr(t(Z), some=False)
    assert Qs.shape == (5, 5) and Rs.shape == (5, 3)


def test_lstsq(rng):
    A, B = rng.normal(size=(7, 3)), rng.normal(size=(7, 2))
    res = dl.linalg.lstsq(t(A), t(B))
    want, resid, _, _ = np.linalg.lstsq(A, B, rcond=None)
    check(res.solution, want)
    assert res.residuals.shape == (0,) and res.rank.item() == 3 and res.singular_values.shape == (0,)
    res = dl.linalg.lstsq(t(A), t(B), driver="gelsd")
    check(res.residuals, resid)
    check(res.singular_values, np.linalg.svd(A, compute_uv=False))
    check(dl.linalg.lstsq(t(A), t(B[:, 0])).solution, want[:, 0])
    W, C = rng.normal(size=(3, 6)), rng.normal(size=(3, 2))
    check(dl.linalg.lstsq(t(W), t(C)).solution, np.linalg.lstsq(W, C, rcond=None)[0])  # least norm
    batch = rng.normal(size=(2, 6, 3))
    got = dl.linalg.lstsq(t(batch), t(B[:6])).solution
    for i in range(2):
        check(got[i], np.linalg.lstsq(batch[i], B[:6], rcond=None)[0])
    assert gradcheck(lambda a, b: dl.linalg.lstsq(a, b).solution, (t(A, True), t(B, True)))
    assert gradcheck(lambda a, b: dl.linalg.lstsq(a, b).solution, (t(W, True), t(C, True)))
    deficient = np.column_stack([A[:, 0], A[:, 1], A[:, 0] + A[:, 1]])
    with pytest.raises(LinAlgError, match="linalg.lstsq: A is rank-deficient"):
        dl.linalg.lstsq(t(deficient), t(B))
    with pytest.raises(ValueError, match="linalg.lstsq: driver must be one of"):
        dl.linalg.lstsq(t(A), t(B), driver="lapack")


def test_eigh_from_known_factors(rng):
    Q = orthogonal(rng, 5)
    lam = np.array([-3.0, -0.5, 0.25, 2.0, 7.5])
    A = Q @ np.diag(lam) @ Q.T
    w, V = dl.linalg.eigh(t(A))
    check(w, lam)
    # Each eigenvector is Q's column up to its sign.
    signs = np.sign(np.sum(V.numpy() * Q, 0))
    check(V, Q * signs)
    check(dl.linalg.eigvalsh(t(np.triu(A) + np.tril(np.full((5, 5), 9.0), -1)), UPLO="U"), lam)
    assert gradcheck(lambda x: dl.linalg.eigh(x + x.mT), (t(rng.normal(size=(4, 4)), True),))
    assert gradcheck(lambda x: dl.linalg.eigvalsh(x + x.mT), (t(rng.normal(size=(3, 4, 4)), True),))
    w32 = dl.linalg.eigvalsh(t(A, dtype=np.float32))
    assert w32.dtype == dl.float32
    check(w32, lam, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="linalg.eigh: UPLO must be 'L' or 'U', got 'X'"):
        dl.linalg.eigh(t(A), UPLO="X")
    with pytest.raises(LinAlgError, match="linalg.eigh: the input has NaN or infinite values"):
        dl.linalg.eigh(t(np.full((2, 2), np.nan)))


@pytest.mark.parametrize("m,n", [(6, 4), (4, 6), (5, 5)])
def test_svd_from_known_factors(rng, m, n):
    k = min(m, n)
    U0, V0 = orthogonal(rng, m)[:, :k], orthogonal(rng, n)[:, :k]
    s0 = np.array([9.0, 4.0, 2.5, 1.0, 0.5][:k])
    A = U0 @ np.diag(s0) @ V0.T
    U, S, Vh = dl.linalg.svd(t(A), full_matrices=False)
    check(S, s0)
    signs = np.sign(np.sum(U.numpy() * U0, 0))
    check(U, U0 * signs)
    check(Vh, (V0 * signs).T)
    Uf, Sf, Vhf = dl.linalg.svd(t(A))
    assert Uf.shape == (m, m) and Vhf.shape == (n, n)
    check(Uf.mT @ Uf, np.eye(m))
    check(Vhf @ Vhf.mT, np.eye(n))
    check(dl.linalg.svdvals(t(A)), s0)
    check(dl.linalg.matrix_norm(t(A), 2), s0[0])
    check(dl.linalg.matrix_norm(t(A), -2), s0[-1])
    check(dl.linalg.matrix_norm(t(A), "nuc"), s0.sum())
    check(dl.linalg.cond(t(A)), s0[0] / s0[-1])
    X = t(rng.normal(size=(m, n)), True)
    assert gradcheck(lambda x: dl.linalg.svd(x, full_matrices=False), (X,))
    assert gradcheck(dl.linalg.svdvals, (X,))
    Us, Ss, Vs = dl.svd(t(A))  # PyTorch's older svd: V itself
    check((Us * Ss.unsqueeze(-2)) @ Vs.mT, A)


def test_svd_full_matrices_backward():
    A = t(np.arange(6.0).reshape(3, 2) + np.eye(3, 2), True)
    U, S, Vh = dl.linalg.svd(A)
    (S.sum() + U[:, :2].sum()).backward()  # the completing column carries no gradient: fine
    assert A.grad is not None
    A.grad = None
    U, S, Vh = dl.linalg.svd(A)
    with pytest.raises(RuntimeError, match="linalg.svd: the backward of full_matrices=True needs"):
        U.sum().backward()


def test_pinv_and_matrix_rank(rng):
    U0, V0 = orthogonal(rng, 6)[:, :2], orthogonal(rng, 4)[:, :2]
    A = U0 @ np.diag([3.0, 0.5]) @ V0.T  # rank 2
    P = dl.linalg.pinv(t(A)).numpy()
    check(t(A @ P @ A), A)  # the Moore-Penrose conditions
    check(t(P @ A @ P), P)
    check(t(A @ P), (A @ P).T)
    check(t(P @ A), (P @ A).T)
    check(t(P), V0 @ np.diag([1 / 3.0, 2.0]) @ U0.T)
    assert dl.linalg.matrix_rank(t(A)).item() == 2
    assert dl.linalg.matrix_rank(t(A), atol=1.0).item() == 1
    S = A.T @ A
    check(dl.linalg.pinv(t(S), hermitian=True), np.linalg.pinv(S), rtol=1e-8, atol=1e-10)
    assert dl.linalg.matrix_rank(t(S), hermitian=True).item() == 2
    full = rng.normal(size=(5, 3))
    check(dl.pinverse(t(full)), np.linalg.solve(full.T @ full, full.T))
    assert gradcheck(dl.linalg.pinv, (t(full, True),))
