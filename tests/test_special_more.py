"""dlcore.special's polygamma, zeta, gammainc/gammaincc, i0/i0e/i1/i1e, xlog1py and
multigammaln against references written independently (direct sums, quadrature, NumPy's
i0, closed forms), float64 gradients, the edge values and the Tensor methods."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore import special
from dlcore.autograd import gradcheck
from reference import ops as ref


def t(a, grad=False, dtype=np.float64):
    return dl.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def test_polygamma_against_direct_sums_and_closed_forms(rng):
    x = np.concatenate([rng.uniform(0.05, 25, 30), [0.5, 1.0, 3.7, 60.0]])
    for n in (1, 2, 3, 5):
        want = (-1) ** (n + 1) * math.factorial(n) * ref.hurwitz_zeta(np.full_like(x, n + 1.0), x)
        np.testing.assert_allclose(special.polygamma(n, t(x)).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(special.polygamma(1, t([1.0, 0.5])).numpy(), [math.pi ** 2 / 6, math.pi ** 2 / 2],
                               rtol=1e-14)
    np.testing.assert_allclose(float(special.polygamma(3, t(1.0))), math.pi ** 4 / 15, rtol=1e-14)
    xn = np.array([-0.5, -2.3, -7.9])  # negative: the recurrence psi'(x) = psi'(x + 1) + 1 / x^2
    np.testing.assert_allclose(special.polygamma(1, t(xn)).numpy(),
                               special.polygamma(1, t(xn + 1)).numpy() + 1 / xn ** 2, rtol=1e-12)
    np.testing.assert_array_equal(special.polygamma(0, t(x)).numpy(), special.digamma(t(x)).numpy())
    poles = special.polygamma(1, t([0.0, -3.0])).numpy(), special.polygamma(2, t([0.0, -3.0])).numpy()
    np.testing.assert_array_equal(poles[0], [np.inf, np.inf])
    np.testing.assert_array_equal(poles[1], [-np.inf, -np.inf])
    np.testing.assert_allclose(t(x).polygamma(2).numpy(), special.polygamma(2, t(x)).numpy())
    np.testing.assert_array_equal(special.polygamma(1, t([np.inf, np.nan])).numpy(), [0.0, np.nan])
    np.testing.assert_array_equal(special.polygamma(0, t([np.inf, np.nan])).numpy(), [np.inf, np.nan])  # digamma
    np.testing.assert_array_equal(special.zeta(2.0, t([np.inf])).numpy(), [0.0])
    assert dl.polygamma(1, dl.tensor([1.0])).dtype == dl.float32
    assert gradcheck(lambda a: special.polygamma(2, a), (t(rng.uniform(0.3, 12, 5), True),))
    with pytest.raises(ValueError, match="n must be a non-negative int"):
        special.polygamma(-1, t(1.0))
    with pytest.raises(ValueError, match="arguments below -10000 are not supported"):
        special.polygamma(1, t(-20000.5))


def test_zeta(rng):
    s, q = rng.uniform(1.2, 9, 30), rng.uniform(0.02, 30, 30)
    np.testing.assert_allclose(special.zeta(t(s), t(q)).numpy(), ref.hurwitz_zeta(s, q), rtol=1e-12)
    np.testing.assert_allclose(special.zeta(t([2.0, 4.0]), 1.0).numpy(), [math.pi ** 2 / 6, math.pi ** 4 / 90],
                               rtol=1e-15)
    np.testing.assert_allclose(special.zeta(t(s), t(q)).numpy() - special.zeta(t(s), t(q + 1)).numpy(), q ** -s,
                               rtol=1e-10)
    edge = special.zeta(t([1.0, 2.0, 0.5, 2.5]), t([1.0, -2.0, 1.0, -1.5])).numpy()
    assert edge[0] == np.inf and edge[1] == np.inf and np.isnan(edge[2]) and np.isnan(edge[3])
    assert gradcheck(lambda a: special.zeta(3.0, a), (t(rng.uniform(0.5, 5, 4), True),))


def test_gammainc_and_gammaincc(rng):
    # integer and half-integer a on both sides of x = a + 1 (the series and the fraction)
    a = np.repeat(np.arange(1, 61) / 2, 3)
    x = a * rng.uniform(0.02, 2.5, a.size)
    P = special.gammainc(t(a), t(x)).numpy()
    want = np.array([ref.gammainc_closed_form(u, v) for u, v in zip(a, x)])
    np.testing.assert_allclose(P, want, rtol=1e-10, atol=1e-14)
    Q = special.gammaincc(t(a), t(x)).numpy()
    np.testing.assert_allclose(Q, 1 - want, rtol=1e-9, atol=1e-14)
    # any a: the recurrence P(a + 1, x) = P(a, x) - x^a e^-x / Gamma(a + 1)
    b, y = rng.uniform(0.2, 30, 40), rng.uniform(0.05, 50, 40)
    step = np.exp(b * np.log(y) - y - np.vectorize(math.lgamma)(b + 1))
    np.testing.assert_allclose(special.gammainc(t(b + 1), t(y)).numpy(),
                               special.gammainc(t(b), t(y)).numpy() - step, rtol=1e-10, atol=1e-14)
    # large a near x (thousands of terms): the Wilson-Hilferty normal approximation, whose
    # error at a = 1e6 is far below the tolerance
    big_a = np.array([1e6, 1e6, 2.5e5])
    big_x = np.array([1e6 - 500, 1e6 + 700, 2.5e5])
    z = ((big_x / big_a) ** (1 / 3) - (1 - 1 / (9 * big_a))) / np.sqrt(1 / (9 * big_a))
    approx = 0.5 * np.vectorize(math.erfc)(-z / math.sqrt(2))
    np.testing.assert_allclose(special.gammainc(t(big_a), t(big_x)).numpy(), approx, atol=1e-5)
    assert np.isnan(special.gammainc(t([1e9]), t([1e9])).item())  # past the term budget: NaN, not a guess
    # the edges (PyTorch's values)
    ea = t([0.0, 0.0, np.inf, np.inf, 5.0, 1.0, -1.0, 1.0])
    ex = t([0.0, np.inf, 1.0, np.inf, np.inf, 0.0, 1.0, -1.0])
    np.testing.assert_array_equal(special.gammainc(ea, ex).numpy(), [np.nan, 1, 0, np.nan, 1, 0, np.nan, np.nan])
    np.testing.assert_array_equal(dl.igammac(ea, ex).numpy(), [np.nan, 0, 1, np.nan, 0, 1, np.nan, np.nan])
    # d/dx P(a, x) = x^(a-1) e^-x / Gamma(a)
    av, xv = t([0.7, 3.0, 12.0]), t([0.4, 5.0, 9.0], True)
    special.gammainc(av, xv).sum().backward()
    want = np.exp((av.numpy() - 1) * np.log(xv.detach().numpy()) - xv.detach().numpy()
                  - np.vectorize(math.lgamma)(av.numpy()))
    np.testing.assert_allclose(xv.grad.numpy(), want, rtol=1e-9)
    assert gradcheck(lambda v: t([2.5, 7.0]).igamma(v), (t([1.0, 9.0], True),))
    assert special.gammainc(t(np.zeros(0)), t(np.zeros(0))).shape == (0,)
    assert special.gammaincc(t(np.zeros((0, 3))), 1.0).shape == (0, 3)


def test_modified_bessel(rng):
    x = np.concatenate([rng.uniform(-40, 40, 40), [0.0, 29.99, 30.01, -30.5, 1e-4]])
    i0, i1 = ref.bessel_i(0, x), ref.bessel_i(1, x)
    np.testing.assert_allclose(special.i0(t(x)).numpy(), np.i0(x), rtol=1e-13)
    np.testing.assert_allclose(special.i0(t(x)).numpy(), i0, rtol=1e-12)
    np.testing.assert_allclose(special.i1(t(x)).numpy(), i1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(special.i0e(t(x)).numpy(), np.exp(-np.abs(x)) * i0, rtol=1e-12)
    np.testing.assert_allclose(special.i1e(t(x)).numpy(), np.exp(-np.abs(x)) * i1, rtol=1e-12, atol=1e-15)
    big = special.i0e(t([700.0, 5000.0])).numpy()  # no overflow: about 1 / sqrt(2 pi x)
    np.testing.assert_allclose(big, 1 / np.sqrt(2 * np.pi * np.array([700.0, 5000.0])), rtol=2e-4)
    assert special.i0(t(800.0)).item() == np.inf
    edges = [getattr(special, f)(t([np.inf, -np.inf, np.nan])).numpy() for f in ("i0", "i0e", "i1", "i1e")]
    np.testing.assert_array_equal(edges, [[np.inf, np.inf, np.nan], [0, 0, np.nan], [np.inf, -np.inf, np.nan],
                                          [0, 0, np.nan]])
    np.testing.assert_array_equal(t(x).i0().numpy(), special.i0(t(x)).numpy())
    # i0' = i1, i1' = i0 - i1 / x
    xv = t([0.7, -4.0, 35.0], True)
    special.i0(xv).sum().backward()
    np.testing.assert_allclose(xv.grad.numpy(), special.i1(xv.detach()).numpy(), rtol=1e-12)
    assert gradcheck(special.i1e, (t([-33.0, -2.0, 0.5, 31.0], True),))
    assert special.i0(dl.tensor([1.0])).dtype == dl.float32


def test_xlog1py_and_multigammaln():
    got = special.xlog1py(t([0.0, 0.0, 2.0, 1.5]), t([np.nan, -1.0, 3.0, -0.5])).numpy()
    np.testing.assert_array_equal(np.isnan(got), [True, False, False, False])
    np.testing.assert_allclose(got[1:], [0.0, 2 * math.log(4.0), 1.5 * math.log(0.5)], rtol=1e-15)
    a = np.array([2.5, 4.0])
    want = 3 * 2 / 4 * math.log(math.pi) + sum(np.vectorize(math.lgamma)(a - j / 2) for j in range(3))
    np.testing.assert_allclose(special.multigammaln(t(a), 3).numpy(), want, rtol=1e-13)
