"""The scans cumprod, cummax, cummin and logcumsumexp beyond their op_specs rows: indices
at ties and NaN, every dtype, gradients where x holds zeros or -inf, no overflow, and a
backward that is itself differentiated. References: tests/reference/ops.py, and the
Jacobians written out below from their definitions."""
import numpy as np
import pytest

import dlcore as dl
from reference import ops as ref

NAN = float("nan")


def grad_of_sum(fn, x, g):
    t = dl.tensor(x, requires_grad=True)
    (fn(t) * dl.tensor(g)).sum().backward()
    return t.grad.numpy()


@pytest.mark.parametrize("is_max", [True, False])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cummax_cummin_values_and_indices(is_max, dim, rng):
    fn = dl.cummax if is_max else dl.cummin
    floats = rng.integers(-2, 3, size=(6, 7)).astype(np.float64)  # many ties
    floats[2, 3] = floats[4, 1] = floats[4, 5] = NAN
    cases = [floats, floats.astype(np.float32), rng.integers(-3, 4, size=(5, 6)), rng.random((4, 5)) > 0.5]
    for x in cases:
        out = fn(dl.tensor(x), dim)
        want_v, want_i = ref.cum_extreme(x, dim, is_max)
        assert out.values.dtype == dl.tensor(x).dtype and out.indices.dtype == dl.int64
        np.testing.assert_array_equal(out.values.numpy(), want_v)
        np.testing.assert_array_equal(out.indices.numpy(), want_i)


def test_cummax_sends_the_gradient_to_the_element_reached():
    x = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    # indices 0 1 1 3 3: element 1 carries steps 1 and 2, element 3 steps 3 and 4
    np.testing.assert_array_equal(grad_of_sum(lambda t: t.cummax(0).values, x, np.ones(5)), [1, 2, 0, 2, 0])
    np.testing.assert_array_equal(grad_of_sum(lambda t: t.cummin(0).values, x, np.arange(5.0)), [10, 0, 0, 0, 0])


def cumprod_jacobian_product(x, g):
    """dx[i] = sum_{j >= i} g[j] prod_{k <= j, k != i} x[k], along the last axis."""
    dx = np.zeros_like(x)
    for i in range(x.shape[-1]):
        for j in range(i, x.shape[-1]):
            others = np.delete(x[..., : j + 1], i, axis=-1)
            dx[..., i] += g[..., j] * np.prod(others, axis=-1)
    return dx


@pytest.mark.parametrize("zeros", [0, 1, 2])
def test_cumprod_gradient_is_exact_with_zeros(zeros, rng):
    x = rng.uniform(-2, 2, size=(3, 6))
    for z in range(zeros):
        x[:, [1, 4][z]] = 0.0
    g = rng.normal(size=x.shape)
    np.testing.assert_allclose(grad_of_sum(lambda t: t.cumprod(-1), x, g), cumprod_jacobian_product(x, g),
                               rtol=1e-12, atol=1e-12)
    assert dl.autograd.gradcheck(lambda t: dl.cumprod(t, 1), [dl.tensor(x, requires_grad=True)])


def test_cumprod_of_integers_and_bools_is_int64():
    out = dl.tensor([[3, -2, 5], [1, 0, 7]]).cumprod(1)
    assert out.dtype == dl.int64 and out.tolist() == [[3, -6, -30], [1, 0, 0]]
    b = dl.tensor([True, True, False, True]).cumprod(0)
    assert b.dtype == dl.int64 and b.tolist() == [1, 1, 0, 0]
    assert dl.cumprod(dl.tensor(2.5), 0).item() == 2.5 and dl.cumprod(dl.tensor(4), 0).dtype == dl.int64


def test_logcumsumexp_does_not_overflow_and_keeps_infinities():
    got = dl.tensor([1000.0, 1000.0, -1000.0], dtype=dl.float64).logcumsumexp(0).numpy()
    np.testing.assert_allclose(got, [1000.0, 1000.0 + np.log(2), 1000.0 + np.log(2)], rtol=1e-15)
    inf = float("inf")
    np.testing.assert_array_equal(dl.tensor([-inf, -inf, 0.0, inf, 1.0]).logcumsumexp(0).numpy(),
                                  [-inf, -inf, 0.0, inf, inf])
    ints = dl.tensor([[0, 1], [2, 3]]).logcumsumexp(1)
    assert ints.dtype == dl.get_default_dtype()
    np.testing.assert_allclose(ints.numpy(), ref.logcumsumexp(np.array([[0, 1], [2, 3]]), 1), rtol=1e-6)


def test_logcumsumexp_gradient_with_minus_infinity(rng):
    x = np.array([[-np.inf, 0.5, -1.0, -np.inf, 2.0]])
    g = rng.normal(size=x.shape)
    y = ref.logcumsumexp(x, 1)
    want = np.zeros_like(x)  # dx[i] = sum_{j >= i} g[j] exp(x[i] - y[j]); -inf takes no part
    for i in np.flatnonzero(np.isfinite(x[0])):
        for j in range(i, 5):
            want[0, i] += g[0, j] * np.exp(x[0, i] - y[0, j])
    np.testing.assert_allclose(grad_of_sum(lambda t: t.logcumsumexp(1), x, g), want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("op", ["cumprod", "logcumsumexp", "cummax"])
def test_twice_differentiable(op, rng):
    """A backward taken with create_graph=True is itself differentiable: the gradient of the
    first gradient checks out against finite differences, and the first gradient equals the
    kernels'."""
    x = rng.uniform(-1.5, 1.5, size=(2, 5))
    x[0, 2] = 0.0  # a zero in cumprod's row
    r = dl.tensor(rng.normal(size=x.shape))
    fn = {"cumprod": lambda t: t.cumprod(1), "logcumsumexp": lambda t: t.logcumsumexp(1),
          "cummax": lambda t: t.cummax(1).values}[op]

    def first_grad(t):
        with dl.enable_grad():
            t = t if t.requires_grad else t.detach().requires_grad_()
            (g,) = dl.autograd.grad((fn(t) * fn(t) * r).sum(), [t], create_graph=True)
        return g

    xt = dl.tensor(x, requires_grad=True)
    assert dl.autograd.gradcheck(first_grad, [xt])
    plain = dl.tensor(x, requires_grad=True)
    (fn(plain) * fn(plain) * r).sum().backward()
    np.testing.assert_allclose(first_grad(xt).detach().numpy(), plain.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["cumprod", "cummax", "cummin", "logcumsumexp"])
def test_bad_dim_names_it(name):
    msg = rf"{name}: dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"
    with pytest.raises(IndexError, match=msg):
        getattr(dl, name)(dl.ones(2, 3), 2)
