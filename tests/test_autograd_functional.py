"""dlcore.autograd.functional against NumPy: Jacobians and Hessians against central
differences of the same functions written in NumPy, the products (vjp, jvp, vhp, hvp)
against those matrices, create_graph, strict, and the errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore.autograd import functional as AF


def t(a):
    return dl.tensor(np.asarray(a, dtype=np.float64))


def to_np(x):
    return x.detach().numpy()


def numeric_jacobian(f, xs, eps=1e-6):
    """d f(xs) / d xs[k] by central differences: one array of shape out.shape + xs[k].shape
    per input."""
    out = np.asarray(f(*xs))
    jac = []
    for k, x in enumerate(xs):
        j = np.zeros(out.shape + x.shape)
        for idx in np.ndindex(x.shape):
            hi = [a.copy() for a in xs]
            lo = [a.copy() for a in xs]
            hi[k][idx] += eps
            lo[k][idx] -= eps
            j[(Ellipsis,) + idx] = (np.asarray(f(*hi)) - np.asarray(f(*lo))) / (2 * eps)
        jac.append(j)
    return jac


def test_jacobian_of_one_input_and_output(rng):
    x = rng.normal(size=(2, 3))
    got = AF.jacobian(lambda v: v.sin() * v * v, t(x))
    (want,) = numeric_jacobian(lambda v: np.sin(v) * v * v, [x])
    assert tuple(got.shape) == (2, 3, 2, 3)
    np.testing.assert_allclose(to_np(got), want, rtol=1e-7, atol=1e-9)


def test_jacobian_of_tuples(rng):
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3,))
    got = AF.jacobian(lambda p, q: (p @ q, (p * p).sum()), (t(a), t(b)))
    for i, f in enumerate([lambda p, q: p @ q, lambda p, q: (p * p).sum()]):
        want = numeric_jacobian(f, [a, b])
        for k in range(2):
            np.testing.assert_allclose(to_np(got[i][k]), want[k], rtol=1e-7, atol=1e-9)


def test_hessian_and_products(rng):
    x = rng.normal(size=4)

    def f_np(v):
        return (v ** 2).sum() * v[0] + np.sin(v).prod()

    def grad_np(v):
        (j,) = numeric_jacobian(f_np, [v], eps=1e-5)
        return j

    def f(v):
        return (v * v).sum() * v[0] + v.sin().prod()

    H = AF.hessian(f, t(x))
    (want_h,) = numeric_jacobian(grad_np, [x], eps=1e-4)
    np.testing.assert_allclose(to_np(H), want_h, rtol=1e-5, atol=1e-6)
    v = rng.normal(size=4)
    val, hv = AF.hvp(f, t(x), t(v))
    np.testing.assert_allclose(to_np(val), f_np(x), rtol=1e-12)
    np.testing.assert_allclose(to_np(hv), to_np(H) @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(to_np(AF.vhp(f, t(x), t(v))[1]), v @ to_np(H), rtol=1e-10, atol=1e-12)
    # vjp and jvp against the Jacobian of a vector function
    def g(u):
        return u.exp()[:3] * u[1:]

    J = to_np(AF.jacobian(g, t(x)))
    w = rng.normal(size=3)
    out, vj = AF.vjp(g, t(x), t(w))
    np.testing.assert_allclose(to_np(out), np.exp(x[:3]) * x[1:], rtol=1e-12)
    np.testing.assert_allclose(to_np(vj), w @ J, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(to_np(AF.jvp(g, t(x), t(v))[1]), J @ v, rtol=1e-12, atol=1e-14)
    # one-element outputs and inputs need no v
    np.testing.assert_allclose(to_np(AF.vjp(f, t(x))[1]), grad_np(x), rtol=1e-6)
    np.testing.assert_allclose(to_np(AF.jvp(lambda s: s * s, t(3.0))[1]), 6.0)


def test_create_graph_keeps_the_results_differentiable(rng):
    x0 = rng.normal(size=3)
    x = t(x0).requires_grad_()
    J = AF.jacobian(lambda v: v ** 3, x, create_graph=True)  # diag(3 x^2)
    assert J.requires_grad
    (g,) = dl.autograd.grad(J.sum(), x)
    np.testing.assert_allclose(g.numpy(), 6 * x0, rtol=1e-12)
    assert not AF.jacobian(lambda v: v ** 3, x).requires_grad


def test_unused_inputs_and_strict():
    a, b = t([1.0, 2.0]), t([3.0])
    ja, jb = AF.jacobian(lambda p, q: p * 2, (a, b))
    np.testing.assert_array_equal(to_np(jb), np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"jacobian: the outputs do not depend on input 1 \(strict=True\)"):
        AF.jacobian(lambda p, q: p * 2, (a, b), strict=True)
    np.testing.assert_array_equal(to_np(AF.jacobian(lambda p: t([1.0, 1.0]), a)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"jacobian: the outputs do not depend on the inputs \(strict=True\)"):
        AF.jacobian(lambda p: t([1.0, 1.0]), a, strict=True)


def test_errors():
    x = t([1.0, 2.0])
    with pytest.raises(TypeError, match="jacobian: inputs must be tensors, got list at position 0"):
        AF.jacobian(lambda v: v, ([1.0],))
    with pytest.raises(TypeError, match="vjp: input 0 must be a floating tensor, got dlcore.int64"):
        AF.vjp(lambda v: v, dl.tensor([1, 2]))
    with pytest.raises(ValueError, match=r"vjp: v can be left out only for outputs of one element, got shape \(2,\)"):
        AF.vjp(lambda v: v * 2, x)
    with pytest.raises(ValueError, match=r"jvp: v 0 has shape \(3,\), expected \(2,\)"):
        AF.jvp(lambda v: v * 2, x, t([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"hessian: func must return one tensor of one element, got shape \(2,\)"):
        AF.hessian(lambda v: v * 2, x)
    with pytest.raises(TypeError, match="jacobian: the outputs of func must be tensors, got float"):
        AF.jacobian(lambda v: 1.0, x)
