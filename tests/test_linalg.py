"""dlcore.linalg against NumPy's np.linalg (LAPACK, an independent implementation):
determinants, inverses and solves with pivoting, batches and broadcasting; singular
matrices; float64 gradchecks (first order, and the determinant's second); norms,
multi_dot and the small helpers; and every error."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore import linalg as LA
from dlcore.autograd import gradcheck


def t(a, dtype=np.float64, grad=False):
    return dl.tensor(np.asarray(a).astype(dtype), requires_grad=grad)


def to_np(x):
    return x.detach().numpy()


@pytest.mark.parametrize("batch", [(), (3,), (2, 3)])
@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_det_slogdet_inv_against_numpy(batch, n, rng):
    A = rng.normal(size=batch + (n, n))
    for dtype, tol in [(np.float64, 1e-10), (np.float32, 2e-4)]:
        At = t(A, dtype)
        np.testing.assert_allclose(to_np(LA.det(At)), np.linalg.det(A), rtol=tol, atol=tol)
        sign, logabs = LA.slogdet(At)
        want_sign, want_log = np.linalg.slogdet(A)
        np.testing.assert_array_equal(to_np(sign), want_sign)
        np.testing.assert_allclose(to_np(logabs), want_log, rtol=tol, atol=tol)
        # the inverse's error grows with the condition number (below 1e3 for these draws)
        np.testing.assert_allclose(to_np(LA.inv(At)), np.linalg.inv(A), rtol=0, atol=tol * 100)


def test_a_zero_leading_pivot_is_swapped_away():
    A = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 3.0], [4.0, -3.0, 8.0]])
    At = t(A)
    np.testing.assert_allclose(to_np(LA.det(At)), np.linalg.det(A), atol=1e-12)
    np.testing.assert_allclose(to_np(LA.inv(At)), np.linalg.inv(A), atol=1e-12)
    assert to_np(dl.det(t([[0.0, 1.0], [1.0, 0.0]]))) == -1.0


def test_singular_matrices():
    S = t([[[1.0, 2.0], [2.0, 4.0]], [[1.0, 0.0], [0.0, 1.0]]])
    np.testing.assert_array_equal(np.abs(to_np(LA.det(S))), [0.0, 1.0])
    sign, logabs = LA.slogdet(S)
    assert to_np(sign).tolist() == [0.0, 1.0] and to_np(logabs).tolist() == [-math.inf, 0.0]
    assert np.isneginf(to_np(dl.logdet(S))[0]) and math.isnan(to_np(dl.logdet(t([[-2.0]])))[()])
    with pytest.raises(LA.LinAlgError, match="linalg.inv: the input is singular: in matrix 0 of the batch, "
                                             "pivot 1 of its LU factorisation is zero"):
        LA.inv(S)
    with pytest.raises(RuntimeError, match="linalg.solve: the input is singular"):  # LinAlgError is one
        LA.solve(S, t(np.ones((2, 2))))
    # the determinant's gradient at a singular matrix is its adjugate, finite
    assert gradcheck(LA.det, (t([[1.0, 2.0], [2.0, 4.0]], grad=True),))


def test_solve_shapes_broadcasting_and_sides(rng):
    A = rng.normal(size=(2, 1, 4, 4)) + 4 * np.eye(4)
    B = rng.normal(size=(3, 4, 2))
    X = LA.solve(t(A), t(B))
    assert tuple(X.shape) == (2, 3, 4, 2)
    np.testing.assert_allclose(to_np(X), np.linalg.solve(A, B), atol=1e-12)
    b = rng.normal(size=4)  # one vector
    np.testing.assert_allclose(to_np(LA.solve(t(A[0, 0]), t(b))), np.linalg.solve(A[0, 0], b), atol=1e-12)
    C = rng.normal(size=(5, 4))  # X A = C
    np.testing.assert_allclose(to_np(LA.solve(t(A[1, 0]), t(C), left=False)), C @ np.linalg.inv(A[1, 0]),
                               atol=1e-12)
    assert tuple(LA.solve(t(np.zeros((2, 0, 0))), t(np.zeros((2, 0, 3)))).shape) == (2, 0, 3)
    assert to_np(LA.det(t(np.zeros((0, 0))))) == 1.0


def test_gradients_against_finite_differences(rng):
    A = rng.normal(size=(2, 4, 4)) + 2 * np.eye(4)
    B = rng.normal(size=(2, 4, 3))
    assert gradcheck(LA.det, (t(A, grad=True),))
    assert gradcheck(lambda a: LA.slogdet(a).logabsdet, (t(A, grad=True),))
    assert gradcheck(LA.inv, (t(A, grad=True),))
    assert gradcheck(LA.solve, (t(A, grad=True), t(B, grad=True)))
    assert gradcheck(lambda a, b: LA.solve(a, b, left=False), (t(A, grad=True), t(B.swapaxes(-1, -2), grad=True)))
    # the determinant's gradient is det A^-T; its own gradient (second order) by differences
    a = t(A[0], grad=True)
    (g,) = dl.autograd.grad(LA.det(a), a, create_graph=True)
    np.testing.assert_allclose(to_np(g), np.linalg.det(A[0]) * np.linalg.inv(A[0]).T, atol=1e-10)
    # second order: d/dA of sum(C * grad det A) against central differences of the NumPy
    # expression sum(C * det(A) A^-T)
    C = rng.normal(size=(4, 4))
    (h,) = dl.autograd.grad((g * t(C)).sum(), a)
    f = lambda m: (C * np.linalg.det(m) * np.linalg.inv(m).T).sum()  # noqa: E731
    want = np.zeros((4, 4))
    for i in range(4):
        for j in range(4):
            e = np.zeros((4, 4))
            e[i, j] = 1e-6
            want[i, j] = (f(A[0] + e) - f(A[0] - e)) / 2e-6
    np.testing.assert_allclose(to_np(h), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("ord", [2, 1, math.inf, -math.inf, 0, 3.5])
def test_vector_norm_against_numpy(ord, rng):
    x = rng.normal(size=(3, 4, 5))
    x[0, 0, :2] = 0.0
    np.testing.assert_allclose(to_np(LA.vector_norm(t(x), ord)), np.linalg.norm(x.ravel(), ord), rtol=1e-12)
    np.testing.assert_allclose(to_np(LA.vector_norm(t(x), ord, dim=(0, 2), keepdim=True)),
                               np.linalg.norm(np.moveaxis(x, 1, 0).reshape(4, -1), ord, axis=1).reshape(1, 4, 1),
                               rtol=1e-12)
    assert LA.vector_norm(t(x, np.float32), ord, dtype=dl.float64).dtype == dl.float64


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
def test_matrix_norm_and_norm_against_numpy(ord, rng):
    A = rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(to_np(LA.matrix_norm(t(A), ord)), np.linalg.norm(A, ord, axis=(-2, -1)), rtol=1e-12)
    np.testing.assert_allclose(to_np(LA.matrix_norm(t(A), ord, dim=(0, 2), keepdim=True)),
                               np.linalg.norm(A, ord, axis=(0, 2), keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(to_np(LA.norm(t(A[0]), ord)), np.linalg.norm(A[0], ord), rtol=1e-12)
    assert gradcheck(lambda a: LA.matrix_norm(a, ord), (t(A, grad=True),))


def test_norm_dispatch(rng):
    A = rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(to_np(LA.norm(t(A))), np.linalg.norm(A.ravel()), rtol=1e-12)
    np.testing.assert_allclose(to_np(LA.norm(t(A), 1, dim=2)), np.abs(A).sum(2), rtol=1e-12)
    np.testing.assert_allclose(to_np(LA.norm(t(A), dim=(1, 2))), np.linalg.norm(A, axis=(1, 2)), rtol=1e-12)
    np.testing.assert_allclose(to_np(LA.norm(t(A[0, 0]), 3)), np.linalg.norm(A[0, 0], 3), rtol=1e-12)


def test_products_and_helpers(rng):
    mats = [rng.normal(size=s) for s in [(7,), (7, 30), (30, 2), (2, 40), (40,)]]
    np.testing.assert_allclose(to_np(LA.multi_dot([t(m) for m in mats])), np.linalg.multi_dot(mats), rtol=1e-12)
    np.testing.assert_allclose(to_np(LA.multi_dot([t(m) for m in mats[1:4]])), np.linalg.multi_dot(mats[1:4]),
                               rtol=1e-12)
    x, y = rng.normal(size=(4, 3)), rng.normal(size=(3,))
    np.testing.assert_allclose(to_np(LA.vecdot(t(x), t(y))), x @ y, rtol=1e-12)
    np.testing.assert_allclose(to_np(LA.cross(t(x), t(y))), np.cross(x, y), rtol=1e-12)
    A = rng.normal(size=(2, 3, 4))
    np.testing.assert_array_equal(to_np(LA.diagonal(t(A), offset=1)), np.diagonal(A, 1, -2, -1))
    np.testing.assert_array_equal(to_np(LA.matmul(t(A[0]), t(A[1].T))), A[0] @ A[1].T)


def test_errors():
    with pytest.raises(ValueError, match=r"linalg.det: expected square matrices \(..., n, n\), got shape \(2, 3\)"):
        LA.det(t(np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"linalg.inv: expected square matrices .* got shape \(3,\)"):
        LA.inv(t(np.ones(3)))
    with pytest.raises(TypeError, match="linalg.slogdet: expected a floating tensor, got dlcore.int64"):
        LA.slogdet(dl.tensor([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match=r"linalg.solve: A of shape \(3, 3\) and B of shape \(2, 1\): B needs 3 rows"):
        LA.solve(t(np.eye(3)), t(np.ones((2, 1))))
    with pytest.raises(ValueError, match="linalg.matrix_norm: ord must be one of 'fro', 'nuc', 2, -2, 1, -1, inf, "
                                         "-inf, got 3"):
        LA.matrix_norm(t(np.eye(2)), 3)
    with pytest.raises(ValueError, match="linalg.matrix_norm: dim must be two different dims"):
        LA.matrix_norm(t(np.eye(2)), dim=(1, 1))
    with pytest.raises(ValueError, match=r"linalg.norm: with an ord and no dim, A must be 1-D or 2-D, got shape"):
        LA.norm(t(np.ones((2, 2, 2))), 1)
    with pytest.raises(ValueError, match="linalg.multi_dot: expected at least 2 tensors, got 1"):
        LA.multi_dot([t(np.eye(2))])
    with pytest.raises(ValueError, match=r"linalg.multi_dot: tensor 0 of shape \(2, 3\) cannot multiply tensor 1 "
                                         r"of shape \(2, 2\)"):
        LA.multi_dot([t(np.ones((2, 3))), t(np.eye(2))])
