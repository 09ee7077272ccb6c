"""The distributions of distributions/_more.py against NumPy: densities written from the
textbook formulas, entropies and KL divergences by numerical integration (or a sum, for the
Geometric), the multivariate normal against its formula with explicit inverses and
determinants, sample moments within five standard errors, gradients, and the errors."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore import distributions as D
from dlcore.autograd import gradcheck
from dlcore.linalg import LinAlgError


def t(a, grad=False):
    return dl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def to_np(x):
    return x.detach().numpy()


def integrate(f, lo, hi, n=2_000_001):
    x = np.linspace(lo, hi, n)
    y = f(x)
    return float(((y[1:] + y[:-1]) / 2 * np.diff(x)).sum())


LGAMMA = np.vectorize(math.lgamma)
UNIVARIATE = {  # (distribution, its NumPy log-density, integration range)
    "lognormal": (lambda: D.LogNormal(t(0.3), t(0.7)),
                  lambda x: -np.log(x * 0.7 * np.sqrt(2 * np.pi)) - (np.log(x) - 0.3) ** 2 / (2 * 0.49), 1e-9, 200),
    "halfnormal": (lambda: D.HalfNormal(t(1.3)),
                   lambda x: np.log(np.sqrt(2 / np.pi) / 1.3) - x * x / (2 * 1.69), 0, 30),
    "cauchy": (lambda: D.Cauchy(t(0.2), t(1.5)),
               lambda x: -np.log(np.pi * 1.5 * (1 + ((x - 0.2) / 1.5) ** 2)), -2e4, 2e4),
    "gumbel": (lambda: D.Gumbel(t(0.4), t(2.0)),
               lambda x: -np.log(2.0) - (x - 0.4) / 2.0 - np.exp(-(x - 0.4) / 2.0), -30, 120),
    "studentt": (lambda: D.StudentT(t(3.5), t(0.2), t(1.7)),
                 lambda x: (LGAMMA(2.25) - LGAMMA(1.75) - 0.5 * np.log(3.5 * np.pi) - np.log(1.7)
                            - 2.25 * np.log1p(((x - 0.2) / 1.7) ** 2 / 3.5)), -3e3, 3e3),
    "chi2": (lambda: D.Chi2(t(4.5)),
             lambda x: (2.25 - 1) * np.log(x) - x / 2 - 2.25 * np.log(2) - math.lgamma(2.25), 1e-12, 200),
}


@pytest.mark.parametrize("name", list(UNIVARIATE))
def test_univariate_densities_and_entropies(name):
    make, logpdf, lo, hi = UNIVARIATE[name]
    d = make()
    x = np.linspace(max(lo, 0.05) if lo >= 0 else -4.0, 6.0, 13)
    np.testing.assert_allclose(to_np(d.log_prob(t(x))), logpdf(x), rtol=1e-12, atol=1e-12)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if name == "cauchy":  # heavy tails: over theta, x = loc + scale tan(theta), p dx = dtheta / pi
            want = integrate(lambda th: -logpdf(0.2 + 1.5 * np.tan(th)) / np.pi, -np.pi / 2 + 1e-9,
                             np.pi / 2 - 1e-9, 4_000_001)
        else:
            def integrand(v):
                lp = logpdf(v)
                return np.where(np.isfinite(lp), -np.exp(lp) * lp, 0.0)
            want = integrate(integrand, lo, hi, 4_000_001)
    np.testing.assert_allclose(to_np(d.entropy()), want, rtol=2e-5 if name == "studentt" else 1e-6)


@pytest.mark.parametrize("name", ["lognormal", "halfnormal", "gumbel", "studentt", "chi2"])
def test_univariate_sample_moments(name):
    dl.manual_seed(5)
    d = UNIVARIATE[name][0]()
    n = 200_000
    s = to_np(d.sample((n,)))
    mean, var = float(to_np(d.mean)), float(to_np(d.variance))
    assert abs(s.mean() - mean) < 5 * math.sqrt(var / n) * (3 if name == "studentt" else 1)


def test_cauchy_and_geometric_samples_and_geometric_pmf():
    dl.manual_seed(2)
    c = to_np(D.Cauchy(t(0.2), t(1.5)).sample((100_000,)))
    assert abs(np.median(c) - 0.2) < 0.05 and abs(np.mean(np.abs(c - 0.2) < 1.5) - 0.5) < 0.01  # quartiles at +-scale
    g = D.Geometric(t(0.3))
    k = np.arange(6.0)
    np.testing.assert_allclose(to_np(g.log_prob(t(k))), k * np.log(0.7) + np.log(0.3), rtol=1e-12)
    pmf = 0.3 * 0.7 ** np.arange(2000)
    np.testing.assert_allclose(to_np(g.entropy()), -(pmf * np.log(pmf)).sum(), rtol=1e-10)
    s = to_np(g.sample((200_000,)))
    assert abs(s.mean() - 0.7 / 0.3) < 5 * math.sqrt(0.7 / 0.09 / 200_000)
    q = D.Geometric(t(0.6))
    k2 = np.arange(2000)
    want = (pmf * ((np.log(0.3) + k2 * np.log(0.7)) - (np.log(0.6) + k2 * np.log(0.4)))).sum()
    np.testing.assert_allclose(to_np(D.kl_divergence(g, q)), want, rtol=1e-10)


def test_univariate_kl_divergences():
    def kl(p_log, q_log, lo, hi):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            def f(v):
                lp = p_log(v)
                return np.where(np.isfinite(lp), np.exp(lp) * (lp - q_log(v)), 0.0)
            return integrate(f, lo, hi, 4_000_001)

    def gumbel_log(m, b):
        return lambda v: -np.log(b) - (v - m) / b - np.exp(-(v - m) / b)

    def halfnormal_log(s):
        return lambda v: np.log(np.sqrt(2 / np.pi) / s) - v * v / (2 * s * s)

    def lognormal_log(m, s):
        return lambda v: -np.log(v * s * np.sqrt(2 * np.pi)) - (np.log(v) - m) ** 2 / (2 * s * s)

    np.testing.assert_allclose(to_np(D.kl_divergence(D.Gumbel(t(0.4), t(2.0)), D.Gumbel(t(-0.3), t(1.2)))),
                               kl(gumbel_log(0.4, 2.0), gumbel_log(-0.3, 1.2), -30, 150), rtol=1e-6)
    np.testing.assert_allclose(to_np(D.kl_divergence(D.HalfNormal(t(1.3)), D.HalfNormal(t(0.5)))),
                               kl(halfnormal_log(1.3), halfnormal_log(0.5), 0, 30), rtol=1e-6)
    np.testing.assert_allclose(to_np(D.kl_divergence(D.LogNormal(t(0.3), t(0.7)), D.LogNormal(t(-0.2), t(1.1)))),
                               kl(lognormal_log(0.3, 0.7), lognormal_log(-0.2, 1.1), 1e-9, 300), rtol=1e-6)


def spd(rng, k, shift):
    a = rng.normal(size=(k, k))
    return a @ a.T + shift * np.eye(k)


def mvn_logpdf(x, mu, cov):
    k = len(mu)
    d = x - mu
    return -0.5 * (np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d) + k * np.log(2 * np.pi)
                   + np.log(np.linalg.det(cov)))


def test_multivariate_normal(rng):
    mu, cov = rng.normal(size=3), spd(rng, 3, 1.0)
    x = rng.normal(size=(5, 3))
    for kw in (dict(covariance_matrix=t(cov)), dict(precision_matrix=t(np.linalg.inv(cov))),
               dict(scale_tril=t(np.linalg.cholesky(cov)))):
        d = D.MultivariateNormal(t(mu), **kw)
        np.testing.assert_allclose(to_np(d.log_prob(t(x))), mvn_logpdf(x, mu, cov), rtol=1e-10)
        np.testing.assert_allclose(to_np(d.covariance_matrix), cov, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(to_np(d.entropy()), 0.5 * np.log(np.linalg.det(2 * np.pi * np.e * cov)),
                                   rtol=1e-12)
    mu2, cov2 = rng.normal(size=3), spd(rng, 3, 2.0)
    p, q = D.MultivariateNormal(t(mu), t(cov)), D.MultivariateNormal(t(mu2), t(cov2))
    inv2 = np.linalg.inv(cov2)
    want = 0.5 * (np.trace(inv2 @ cov) + (mu2 - mu) @ inv2 @ (mu2 - mu) - 3
                  + np.log(np.linalg.det(cov2) / np.linalg.det(cov)))
    np.testing.assert_allclose(to_np(D.kl_divergence(p, q)), want, rtol=1e-10)
    # Batches: a batch of means against one covariance.
    mus = rng.normal(size=(4, 3))
    b = D.MultivariateNormal(t(mus), t(cov))
    assert b.batch_shape == (4,) and b.event_shape == (3,)
    np.testing.assert_allclose(to_np(b.log_prob(t(x[:4]))), [mvn_logpdf(x[i], mus[i], cov) for i in range(4)],
                               rtol=1e-10)
    dl.manual_seed(0)
    s = to_np(p.sample((200_000,)))
    np.testing.assert_allclose(np.cov(s.T), cov, atol=5 * np.sqrt(2 * np.max(np.diag(cov)) ** 2 / 200_000) * 3)
    assert gradcheck(lambda m, c: D.MultivariateNormal(m, c @ c.mT + dl.eye(3, dtype=dl.float64)).log_prob(t(x)),
                     (t(mu, True), t(rng.normal(size=(3, 3)), True)))
    with pytest.raises(LinAlgError, match="not positive-definite"):
        D.MultivariateNormal(t(mu), t(-cov))
    with pytest.raises(ValueError, match="MultivariateNormal: give exactly one of covariance_matrix"):
        D.MultivariateNormal(t(mu))
    with pytest.raises(ValueError, match=r"MultivariateNormal: the matrix must be \(..., 3, 3\)"):
        D.MultivariateNormal(t(mu), t(np.eye(2)))


def test_one_hot_categorical_and_mixture():
    dl.manual_seed(1)
    probs = np.array([0.2, 0.5, 0.3])
    oh = D.OneHotCategorical(t(probs))
    s = to_np(oh.sample((50_000,)))
    assert s.shape == (50_000, 3) and (s.sum(1) == 1).all()
    np.testing.assert_allclose(s.mean(0), probs, atol=5 * np.sqrt(0.25 / 50_000))
    np.testing.assert_allclose(to_np(oh.log_prob(t(np.eye(3)))), np.log(probs), rtol=1e-12)
    w, m, sd = np.array([0.3, 0.7]), np.array([-1.0, 2.0]), np.array([0.5, 1.5])
    mix = D.MixtureSameFamily(D.Categorical(t(w)), D.Normal(t(m), t(sd)))
    x = np.linspace(-3, 5, 9)
    dens = (w * np.exp(-(x[:, None] - m) ** 2 / (2 * sd * sd)) / (sd * np.sqrt(2 * np.pi))).sum(1)
    np.testing.assert_allclose(to_np(mix.log_prob(t(x))), np.log(dens), rtol=1e-12)
    np.testing.assert_allclose(to_np(mix.mean), (w * m).sum(), rtol=1e-12)
    draws = to_np(mix.sample((100_000,)))
    var = (w * (sd ** 2 + m ** 2)).sum() - (w * m).sum() ** 2
    assert abs(draws.mean() - (w * m).sum()) < 5 * np.sqrt(var / 100_000)
    with pytest.raises(ValueError, match=r"MixtureSameFamily: the component distribution's batch shape \(3,\)"):
        D.MixtureSameFamily(D.Categorical(t(w)), D.Normal(t([0.0, 1.0, 2.0]), t([1.0, 1.0, 1.0])))
