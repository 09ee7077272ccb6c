"""dlcore.special against Python's math module (erfc-based normal CDF, written plainly),
NumPy, and float64 finite differences."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore import special


def t(a, grad=False):
    return dl.tensor(np.asarray(a, np.float64), requires_grad=grad)


def test_aliases_match_numpy(rng):
    x = rng.normal(size=20)
    np.testing.assert_allclose(special.expit(t(x)).numpy(), 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(special.exp2(t(x)).numpy(), np.exp2(x), rtol=1e-12)
    np.testing.assert_allclose(special.log1p(t(np.abs(x))).numpy(), np.log1p(np.abs(x)), rtol=1e-12)
    np.testing.assert_allclose(special.logsumexp(t(x), 0).item(), np.log(np.exp(x).sum()), rtol=1e-12)
    np.testing.assert_allclose(special.softmax(t(x), 0).numpy(), np.exp(x) / np.exp(x).sum(), rtol=1e-12)
    np.testing.assert_allclose(special.erfc(t(x)).numpy(), [math.erfc(v) for v in x], rtol=1e-12)


def test_entr(rng):
    x = np.array([0.0, 0.5, 2.0, -1.0, np.nan])
    got = special.entr(t(x)).numpy()
    np.testing.assert_allclose(got[:3], [0.0, -0.5 * np.log(0.5), -2 * np.log(2.0)], rtol=1e-12)
    assert got[3] == -np.inf and np.isnan(got[4])
    assert dl.autograd.gradcheck(special.entr, [t(rng.uniform(0.1, 3, size=5), True)])


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-10), (np.float32, 2e-6)])
def test_ndtr_and_log_ndtr_into_the_lower_tail(dtype, rtol):
    x = np.array([-60.0, -38.0, -20.0, -10.5, -9.5, -5.0, -1.0, 0.0, 0.5, 3.0, 8.0])
    want_cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    # log of the CDF: from the CDF where it is a normal float, else the series written out
    want_log = []
    for v in x:
        p = 0.5 * math.erfc(-v / math.sqrt(2))
        if v > 0:
            want_log.append(math.log1p(-0.5 * math.erfc(v / math.sqrt(2))))
        elif p > 1e-300:
            want_log.append(math.log(p))
        else:
            terms = sum((-1) ** k * math.prod(range(1, 2 * k, 2)) / v ** (2 * k) for k in range(8))
            want_log.append(-v * v / 2 - math.log(-v * math.sqrt(2 * math.pi)) + math.log(terms))
    xt = dl.tensor(x.astype(dtype))
    cdf = special.ndtr(xt).numpy()
    normal = want_cdf > np.finfo(dtype).tiny
    np.testing.assert_allclose(cdf[normal], want_cdf[normal], rtol=rtol * 10)
    np.testing.assert_allclose(special.log_ndtr(xt).numpy(), want_log, rtol=rtol, atol=1e-300)
    assert dl.autograd.gradcheck(special.log_ndtr, [t([-12.0, -3.0, 0.5], True)])


def test_xlogy_logit_sinc_are_the_top_level_ones():
    assert special.xlogy is dl.xlogy and special.logit is dl.logit and special.sinc is dl.sinc


def test_erfinv_inverts_erf():
    x = np.array([1e-10, 0.01, 0.2, 0.45, 0.5, 0.6, 0.9, 0.99, 0.999999, 1 - 1e-12])
    x = np.concatenate([-x, [0.0], x])
    y = special.erfinv(dl.tensor(x)).numpy()
    a = np.abs(x)
    for v, xv, av in zip(y, x, a):
        assert math.copysign(1.0, v) == math.copysign(1.0, xv) or xv == 0
        if av < 0.5:  # erf(y) against |x|, relative
            assert abs(math.erf(abs(v)) - av) <= 4e-16 * max(av, 1e-300)
        else:  # erfc(y) against 1 - |x|, which carries the information near 1
            assert abs(math.erfc(abs(v)) - (1 - av)) <= 4e-15 * (1 - av)
    # float32 against float64 on the same (float32) inputs
    x32 = np.array([-0.9, -0.5, 0.3, 0.7, 0.99, 0.9999, 0.9999999], dtype=np.float32)
    y32 = special.erfinv(dl.tensor(x32)).numpy().astype(np.float64)
    y64 = special.erfinv(dl.tensor(x32.astype(np.float64))).numpy()
    np.testing.assert_allclose(y32, y64, rtol=2e-7)
    # the gradient: sqrt(pi)/2 exp(y^2)
    xt = dl.tensor(np.array([-0.95, -0.3, 0.01, 0.5, 0.99]), requires_grad=True)
    out = dl.erfinv(xt)
    out.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), np.sqrt(np.pi) / 2 * np.exp(out.detach().numpy() ** 2), rtol=1e-12)
    assert dl.autograd.gradcheck(dl.erfinv, (dl.tensor(np.array([-0.95, -0.3, 0.01, 0.5, 0.99]), requires_grad=True),))
    edges = dl.tensor([-1.0, 1.0, 1.5, -2.0, np.nan]).erfinv().numpy()
    assert edges[0] == -np.inf and edges[1] == np.inf and np.isnan(edges[2:]).all()


def test_lgamma_against_math_lgamma():
    x = np.array([1e-8, 0.1, 0.5, 1.0, 1.5, 2.0, 3.3, 7.9, 10.0, 25.5, 171.3, 1e5, -0.5, -1.3, -2.7, -10.5])
    want = np.array([math.lgamma(v) for v in x])
    np.testing.assert_allclose(dl.tensor(x).lgamma().numpy(), want, rtol=2e-13, atol=1e-14)
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(special.gammaln(dl.tensor(x32)).numpy(),
                               [math.lgamma(float(v)) for v in x32], rtol=2e-7, atol=1e-7)
    assert np.all(np.isinf(special.lgamma(dl.tensor([0.0, -1.0, -4.0])).numpy()))


def test_digamma_against_exact_values_and_identities(rng):
    euler = 0.5772156649015329
    points = {1.0: -euler, 2.0: 1 - euler, 5.0: 1 + 1 / 2 + 1 / 3 + 1 / 4 - euler,
              0.5: -euler - 2 * math.log(2), 1.5: 2 - euler - 2 * math.log(2)}
    got = special.digamma(dl.tensor(np.array(list(points)))).numpy()
    np.testing.assert_allclose(got, list(points.values()), rtol=1e-14, atol=1e-15)
    x = np.concatenate([rng.uniform(0.05, 30, 20), rng.uniform(-5, 0, 10)])
    x = x[np.abs(x - np.round(x)) > 0.01]
    psi, psi1 = special.psi(dl.tensor(x)).numpy(), special.digamma(dl.tensor(x + 1)).numpy()
    np.testing.assert_allclose(psi1 - psi, 1 / x, rtol=1e-11, atol=1e-12)  # recurrence
    ref = special.digamma(dl.tensor(1 - x)).numpy() - psi
    np.testing.assert_allclose(ref, np.pi / np.tan(np.pi * x), rtol=1e-10, atol=1e-11)  # reflection
    assert np.all(np.isnan(special.digamma(dl.tensor([0.0, -2.0])).numpy()))
    # lgamma's gradient is digamma; digamma's own by finite differences
    xt = dl.tensor(np.array([0.3, 2.5, 12.0, -0.7]), requires_grad=True)
    xt.lgamma().sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), special.digamma(xt.detach()).numpy(), rtol=1e-12)
    assert dl.autograd.gradcheck(special.digamma, (dl.tensor(np.array([0.3, 2.5, 12.0, -0.7]), requires_grad=True),))
