"""dlcore.linalg's LU family (lu_factor, lu, lu_solve, solve_ex, inv_ex), matrix_exp, vander,
householder_product, tensorsolve and tensorinv against NumPy (plain getrf and reflector
products in tests/reference/ops.py, or NumPy's LAPACK), float64 gradients, the errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore.autograd import gradcheck
from dlcore.linalg import LinAlgError
from reference import ops as ref


def t(a, grad=False, dtype=np.float64):
    return dl.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def check(got, want, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=rtol, atol=atol)


@pytest.mark.parametrize("shape", [(4, 4), (3, 5, 5), (6, 3), (3, 6)])
def test_lu_factor_and_lu_against_plain_getrf(shape, rng):
    A = rng.normal(size=shape)
    LU, pivots = dl.linalg.lu_factor(t(A))
    assert pivots.dtype == dl.int32
    flat = A.reshape(-1, *shape[-2:])
    want = [ref.getrf(a) for a in flat]
    check(LU, np.stack([w[0] for w in want]).reshape(LU.shape))
    np.testing.assert_array_equal(pivots.numpy().reshape(len(flat), -1), np.stack([w[1] for w in want]))
    P, L, U = dl.linalg.lu(t(A))
    k = min(shape[-2:])
    assert L.shape == shape[:-1] + (k,) and U.shape == shape[:-2] + (k, shape[-1])
    np.testing.assert_allclose(np.tril(L.numpy(), -1) + np.eye(*L.shape[-2:]), L.numpy(), atol=0)  # unit lower
    check((P @ L @ U), A)  # A = P L U
    perm = P.numpy()
    np.testing.assert_array_equal(perm.sum(-1), 1)
    np.testing.assert_array_equal(perm.sum(-2), 1)


def test_lu_solve_every_side_and_adjoint(rng):
    A, B = rng.normal(size=(3, 4, 4)), rng.normal(size=(3, 4, 2))
    LU, pivots = dl.linalg.lu_factor(t(A))
    At = np.swapaxes(A, -1, -2)
    check(dl.linalg.lu_solve(LU, pivots, t(B)), np.linalg.solve(A, B))
    check(dl.linalg.lu_solve(LU, pivots, t(B), adjoint=True), np.linalg.solve(At, B))
    Bt = np.swapaxes(B, -1, -2)  # X A = B  <=>  A^T X^T = B^T
    check(dl.linalg.lu_solve(LU, pivots, t(Bt), left=False), np.swapaxes(np.linalg.solve(At, B), -1, -2))
    check(dl.linalg.lu_solve(LU, pivots, t(Bt), left=False, adjoint=True), np.swapaxes(np.linalg.solve(A, B), -1, -2))
    one = dl.linalg.lu_factor(t(A[0]))
    check(dl.linalg.lu_solve(one.LU, one.pivots, t(B)), np.linalg.solve(A[0], B))  # A broadcast over B's batch


def test_solve_ex_inv_ex_and_info(rng):
    A, b = rng.normal(size=(2, 3, 3)), rng.normal(size=(2, 3))
    x, info = dl.linalg.solve_ex(t(A), t(b))
    check(x, np.linalg.solve(A, b[..., None])[..., 0])
    np.testing.assert_array_equal(info.numpy(), [0, 0])
    check(dl.linalg.solve_ex(t(A), t(b[:, None, :]), left=False).result,
          np.swapaxes(np.linalg.solve(np.swapaxes(A, -1, -2), b[..., None]), -1, -2))
    inverse, info = dl.linalg.inv_ex(t(A))
    check(inverse, np.linalg.inv(A))
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    # getrf: pivot on 2 (row 1), then column 1 reduces to zero below: the second pivot is 0
    first_zero = int(np.flatnonzero(np.diag(ref.getrf(singular)[0]) == 0)[0]) + 1
    assert int(dl.linalg.lu_factor_ex(t(singular)).info) == first_zero
    x, info = dl.linalg.solve_ex(t(singular), t([1.0, 1.0, 1.0]))
    assert int(info) > 0 and not np.isfinite(x.numpy()).all()
    with pytest.raises(LinAlgError, match="singular"):
        dl.linalg.inv_ex(t(singular), check_errors=True)
    with pytest.raises(LinAlgError, match="singular"):
        dl.linalg.solve(t(singular), t([1.0, 1.0, 1.0]))


def test_lu_gradients(rng):
    A = rng.normal(size=(3, 3)) + 2 * np.eye(3)
    B = rng.normal(size=(3, 2))
    assert gradcheck(lambda a: dl.linalg.lu_factor(a).LU, (t(A, True),))
    assert gradcheck(lambda a: dl.linalg.lu(a).U, (t(A, True),))
    LU, piv = dl.linalg.lu_factor(t(A))
    assert gradcheck(lambda lu, b: dl.linalg.lu_solve(lu, piv, b, adjoint=True), (t(LU.numpy(), True), t(B, True)))
    assert gradcheck(lambda a, b: dl.linalg.solve_ex(a, b).result, (t(A, True), t(B, True)))


def test_matrix_exp(rng):
    M = rng.normal(size=(2, 4, 4)) * 3  # norms past 1/2: the scaling and squaring path
    w, V = np.linalg.eig(M)
    want = np.real(V @ (np.exp(w)[..., None] * np.linalg.inv(V)))
    check(dl.linalg.matrix_exp(t(M)), want, rtol=1e-9, atol=1e-9)
    N = np.triu(rng.normal(size=(3, 3)), 1)  # nilpotent: the series stops at N^2 / 2
    check(dl.linalg.matrix_exp(t(N)), np.eye(3) + N + N @ N / 2)
    check(dl.matrix_exp(t(np.zeros((2, 2)))), np.eye(2), atol=0)
    S = rng.normal(size=(3, 3))
    S = S + S.T
    e, Q = np.linalg.eigh(S)
    check(t(S).matrix_exp(), Q @ np.diag(np.exp(e)) @ Q.T)
    assert gradcheck(dl.linalg.matrix_exp, (t(rng.normal(size=(3, 3)), True),))
    with pytest.raises(ValueError, match="expected square matrices"):
        dl.linalg.matrix_exp(t(np.ones((2, 3))))


def test_vander_householder_tensorsolve_tensorinv(rng):
    x = rng.normal(size=(2, 3))
    check(dl.linalg.vander(t(x)), np.stack([np.vander(r, increasing=True) for r in x]))
    check(dl.linalg.vander(t(x[0]), N=5), np.vander(x[0], 5, increasing=True))
    with pytest.raises(ValueError, match="N must be an int greater than 1"):
        dl.linalg.vander(t(x), N=1)
    A = rng.normal(size=(6, 4))
    h, tau = np.linalg.qr(A, mode="raw")  # LAPACK geqrf: reflectors (transposed) and tau
    check(dl.linalg.householder_product(t(h.T), t(tau)), np.linalg.qr(A)[0])
    V, tau2 = rng.normal(size=(5, 3)), rng.normal(size=2)
    check(dl.linalg.householder_product(t(V), t(tau2)), ref.householder_product(V, tau2))
    check(t(V).orgqr(t(tau2)), ref.householder_product(V, tau2))
    assert gradcheck(dl.linalg.householder_product, (t(V, True), t(tau2, True)))
    with pytest.raises(ValueError, match="at least as many rows as columns"):
        dl.linalg.householder_product(t(np.ones((2, 3))), t([1.0]))
    T, b = rng.normal(size=(6, 2, 3)), rng.normal(size=6)
    check(dl.linalg.tensorsolve(t(T), t(b)), np.linalg.tensorsolve(T, b))
    T2 = rng.normal(size=(2, 3, 6))
    check(dl.linalg.tensorsolve(t(T2), t(b), dims=(0, 1)), np.linalg.tensorsolve(T2, b, axes=(0, 1)))
    Ti = rng.normal(size=(4, 6, 8, 3))
    check(dl.linalg.tensorinv(t(Ti), ind=2), np.linalg.tensorinv(Ti, ind=2), rtol=1e-8)
    with pytest.raises(ValueError, match=r"product of the first 1 dims \(4\) must equal that of the rest \(144\)"):
        dl.linalg.tensorinv(t(Ti), ind=1)


def test_lu_errors():
    A = t(np.eye(3))
    LU, piv = dl.linalg.lu_factor(A)
    with pytest.raises(ValueError, match=r"pivots must be int32 of shape \(3,\)"):
        dl.linalg.lu_solve(LU, piv[:2], t(np.ones((3, 1))))
    with pytest.raises(ValueError, match=r"pivots must lie in 1..3"):
        dl.linalg.lu_solve(LU, piv * 0, t(np.ones((3, 1))))
    with pytest.raises(ValueError, match="expected square matrices"):
        dl.linalg.lu_solve(t(np.ones((3, 2))), piv[:2], t(np.ones((3, 1))))
    with pytest.raises(NotImplementedError, match="pivot=False"):
        dl.linalg.lu_factor(A, pivot=False)
    with pytest.raises(TypeError, match="expected a floating tensor"):
        dl.linalg.lu_factor(dl.ones(2, 2, dtype=dl.int64))
    with pytest.raises(NotImplementedError, match="no complex dtype; for a symmetric matrix use linalg.eigh"):
        dl.linalg.eig(A)
