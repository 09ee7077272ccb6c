"""The distributions of distributions/_extra.py against NumPy: densities written from the
textbook formulas, means, variances and entropies by numerical integration (sums for the
counts), sample moments within five standard errors, reparametrised gradients, and the
errors."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore import distributions as D
from dlcore.autograd import gradcheck
from test_distributions_more import LGAMMA, integrate, t, to_np


def integrate_log(f, lo, hi, n=2_000_001):
    """The integral of f over [lo, hi] (0 < lo) as one over y = log x: f(e^y) e^y dy, which
    resolves a density's singularity at 0 and its long tail on one grid."""
    return integrate(lambda y: f(np.exp(y)) * np.exp(y), math.log(lo), math.log(hi), n)


def log_binom(n, k):
    return LGAMMA(n + 1) - LGAMMA(k + 1) - LGAMMA(n - k + 1)


# (distribution, NumPy log-density, support for the integrals, points to compare log_prob)
CONTINUOUS = {
    "weibull": (lambda: D.Weibull(t(1.5), t(0.8)),
                lambda x: np.log(0.8 / 1.5) + (0.8 - 1) * np.log(x / 1.5) - (x / 1.5) ** 0.8, 1e-30, 600,
                [0.1, 0.5, 2.0, 5.0]),
    "pareto": (lambda: D.Pareto(t(1.2), t(4.5)),
               lambda x: np.log(4.5) + 4.5 * np.log(1.2) - 5.5 * np.log(x), 1.2, 1e12, [1.3, 2.0, 10.0]),
    "kumaraswamy": (lambda: D.Kumaraswamy(t(2.0), t(3.5)),
                    lambda x: np.log(2.0 * 3.5) + np.log(x) + 2.5 * np.log1p(-x ** 2), 1e-12, 1 - 1e-12,
                    [0.1, 0.5, 0.9]),
    "fisher": (lambda: D.FisherSnedecor(t(3.0), t(9.0)),
               lambda x: (1.5 * np.log(3 / 9) + 0.5 * np.log(x) - 6 * np.log1p(x / 3)
                          - (math.lgamma(1.5) + math.lgamma(4.5) - math.lgamma(6.0))), 1e-30, 1e12,
               [0.2, 1.0, 4.0]),
    "halfcauchy": (lambda: D.HalfCauchy(t(1.7)),
                   lambda x: np.log(2 / (np.pi * 1.7)) - np.log1p((x / 1.7) ** 2), 0, None, [0.0, 0.5, 3.0]),
    "vonmises": (lambda: D.VonMises(t(0.3), t(2.5)),
                 lambda x: 2.5 * np.cos(x - 0.3) - np.log(2 * np.pi * np.i0(2.5)), -np.pi, np.pi, [-3.0, 0.0, 1.0]),
}


@pytest.mark.parametrize("name", list(CONTINUOUS))
def test_continuous_densities_moments_and_entropies(name):
    make, logpdf, lo, hi, points = CONTINUOUS[name]
    d = make()
    np.testing.assert_allclose(to_np(d.log_prob(t(points))), logpdf(np.array(points)), rtol=1e-12, atol=1e-13)
    if name == "halfcauchy":  # x = scale tan(theta): the integrals over theta in [0, pi/2)
        want = integrate(lambda th: -logpdf(1.7 * np.tan(th)) * 2 / np.pi, 0, np.pi / 2 - 1e-9, 4_000_001)
        np.testing.assert_allclose(to_np(d.entropy()), want, rtol=1e-6)
        assert np.isinf(to_np(d.mean)) and np.isinf(to_np(d.variance))
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        def p(x):
            return np.exp(logpdf(x))

        # Over log x on the positive supports (a singularity at 0, long tails), else plainly.
        over = integrate_log if lo > 0 and name != "kumaraswamy" else integrate
        entropy = over(lambda x: np.where(p(x) > 0, -p(x) * logpdf(x), 0.0), lo, hi, 4_000_001)
        if name == "vonmises":  # mean is loc, variance the circular variance 1 - E cos(x - loc)
            mean, var = 0.3, 1 - integrate(lambda x: p(x) * np.cos(x - 0.3), lo, hi)
        else:
            mean = over(lambda x: x * p(x), lo, hi, 4_000_001)
            var = over(lambda x: (x - mean) ** 2 * p(x), lo, hi, 4_000_001)
    np.testing.assert_allclose(to_np(d.mean), mean, rtol=1e-5)
    np.testing.assert_allclose(to_np(d.variance), var, rtol=1e-4)
    if name not in ("fisher", "vonmises"):  # (as in PyTorch, these have no entropy)
        np.testing.assert_allclose(to_np(d.entropy()), entropy, rtol=1e-5)


@pytest.mark.parametrize("name", ["weibull", "pareto", "kumaraswamy", "fisher"])
def test_continuous_sample_moments(name):
    dl.manual_seed(7)
    d = CONTINUOUS[name][0]()
    n = 200_000
    s = to_np(d.sample((n,)))
    mean, var = float(to_np(d.mean)), float(to_np(d.variance))
    assert abs(s.mean() - mean) < 5 * math.sqrt(var / n)
    assert abs(s.var() / var - 1) < 0.05


def test_von_mises_samples_have_the_circular_mean_and_variance():
    dl.manual_seed(3)
    for loc, k in [(3.0, 0.5), (-1.0, 8.0)]:
        d = D.VonMises(t(loc), t(k))
        s = to_np(d.sample((200_000,)))
        assert s.min() >= -np.pi and s.max() < np.pi
        resultant = np.exp(1j * s).mean()
        assert abs(np.angle(resultant * np.exp(-1j * loc))) < 0.02
        assert abs((1 - abs(resultant)) - float(to_np(d.variance))) < 0.01


def test_half_cauchy_quartile_and_cdfs():
    dl.manual_seed(4)
    s = to_np(D.HalfCauchy(t(1.7)).sample((100_000,)))
    assert s.min() >= 0 and abs(np.median(s) - 1.7) < 0.05  # the median of |Cauchy(0, s)| is s
    np.testing.assert_allclose(to_np(D.HalfCauchy(t(1.7)).cdf(t([1.7]))), [0.5], rtol=1e-12)
    np.testing.assert_allclose(to_np(D.Weibull(t(1.5), t(0.8)).cdf(t([1.5]))), [1 - math.exp(-1)], rtol=1e-12)
    np.testing.assert_allclose(to_np(D.Pareto(t(1.2), t(4.5)).cdf(t([2.4, 1.0]))), [1 - 0.5 ** 4.5, 0.0], rtol=1e-12)


@pytest.mark.parametrize("probs", [0.2, 0.5, 0.5004, 0.93])
def test_continuous_bernoulli(probs):
    d = D.ContinuousBernoulli(t(probs))
    lam = probs
    c = 2.0 if lam == 0.5 else 2 * math.atanh(1 - 2 * lam) / (1 - 2 * lam)

    def logpdf(x):
        return math.log(c) + x * math.log(lam) + (1 - x) * math.log(1 - lam)

    x = np.array([0.0, 0.3, 0.95])
    np.testing.assert_allclose(to_np(d.log_prob(t(x))), logpdf(x), rtol=1e-11, atol=1e-15)
    mean = integrate(lambda v: v * np.exp(logpdf(v)), 0, 1)
    var = integrate(lambda v: (v - mean) ** 2 * np.exp(logpdf(v)), 0, 1)
    ent = integrate(lambda v: -np.exp(logpdf(v)) * logpdf(v), 0, 1)
    np.testing.assert_allclose(to_np(d.mean), mean, rtol=1e-9)
    np.testing.assert_allclose(to_np(d.variance), var, rtol=1e-8)
    np.testing.assert_allclose(to_np(d.entropy()), ent, rtol=1e-8, atol=1e-12)
    dl.manual_seed(1)
    s = to_np(d.rsample((200_000,)))
    assert s.min() >= 0 and s.max() <= 1 and abs(s.mean() - mean) < 5 * math.sqrt(var / 200_000)


def test_relaxed_distributions():
    # RelaxedBernoulli: the logit of a sample is (logits + logistic noise) / T, so
    # P(x > 1/2) = p; log_prob integrates to 1.
    d = D.RelaxedBernoulli(t(0.6), t(0.3))
    # over y = logit(x), dx = x (1 - x) dy: the density's singularities at 0 and 1 resolved

    def density_dy(y):
        x = 1 / (1 + np.exp(-y))
        return np.exp(to_np(d.log_prob(t(x)))) * x * (1 - x)

    total = integrate(density_dy, -30, 30, 200_001)  # the mass past |y| = 30 is below 1e-7
    np.testing.assert_allclose(total, 1.0, rtol=1e-6)
    dl.manual_seed(2)
    s = to_np(d.rsample((200_000,)))
    assert abs((s > 0.5).mean() - 0.3) < 5 * math.sqrt(0.21 / 200_000)
    # RelaxedOneHotCategorical: the argmax of a sample is Categorical(probs) (Gumbel-max);
    # with 2 categories it is a RelaxedBernoulli of the first one's logit difference.
    p = np.array([0.2, 0.5, 0.3])
    r = D.RelaxedOneHotCategorical(t(0.5), t(p))
    s = to_np(r.rsample((200_000,)))
    np.testing.assert_allclose(s.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.bincount(s.argmax(-1)) / 200_000, p, atol=5 * math.sqrt(0.25 / 200_000))
    two = D.RelaxedOneHotCategorical(t(0.7), logits=t([0.4, -0.3]))
    one = D.RelaxedBernoulli(t(0.7), logits=t(0.7))
    x = np.array([0.2, 0.6, 0.9])
    # A density over the first coordinate x of (x, 1 - x): the simplex's measure dx, as
    # PyTorch's log_prob over the first K - 1 coordinates.
    np.testing.assert_allclose(to_np(two.log_prob(t(np.stack([x, 1 - x], -1)))), to_np(one.log_prob(t(x))),
                               rtol=1e-12)


def test_binomial_and_negative_binomial():
    b = D.Binomial(t(10.0), t(0.3))
    k = np.arange(11.0)
    pmf = np.exp(log_binom(10, k) + k * np.log(0.3) + (10 - k) * np.log(0.7))
    np.testing.assert_allclose(np.exp(to_np(b.log_prob(t(k)))), pmf, rtol=1e-12)
    np.testing.assert_allclose(to_np(b.entropy()), -(pmf * np.log(pmf)).sum(), rtol=1e-12)
    np.testing.assert_allclose(to_np(D.Binomial(t(4.0), t(1.0)).log_prob(t([4.0]))), [0.0], atol=1e-12)
    dl.manual_seed(5)
    s = to_np(D.Binomial(t([5.0, 600.0]), t([0.5, 0.01])).sample((20_000,)))
    assert s.min() >= 0 and (s[:, 0] <= 5).all() and (s == np.round(s)).all()
    np.testing.assert_allclose(s.mean(0), [2.5, 6.0], atol=5 * math.sqrt(6 / 20_000))

    nb = D.NegativeBinomial(t(4.0), t(0.35))
    k = np.arange(400.0)
    pmf = np.exp(LGAMMA(k + 4) - LGAMMA(4.0) - LGAMMA(k + 1) + k * np.log(0.35) + 4 * np.log(0.65))
    np.testing.assert_allclose(np.exp(to_np(nb.log_prob(t(k[:20])))), pmf[:20], rtol=1e-12)
    mean = (k * pmf).sum()
    np.testing.assert_allclose(to_np(nb.mean), mean, rtol=1e-12)
    np.testing.assert_allclose(to_np(nb.variance), ((k - mean) ** 2 * pmf).sum(), rtol=1e-10)
    dl.manual_seed(6)
    s = to_np(nb.sample((200_000,)))
    assert abs(s.mean() - mean) < 5 * math.sqrt(float(to_np(nb.variance)) / 200_000)


def test_multinomial():
    p = np.array([0.2, 0.5, 0.3])
    m = D.Multinomial(7, t(p))
    x = np.array([[2.0, 1.0, 4.0], [0.0, 0.0, 7.0]])
    want = LGAMMA(8.0) - LGAMMA(x + 1).sum(-1) + (x * np.log(p)).sum(-1)
    np.testing.assert_allclose(to_np(m.log_prob(t(x))), want, rtol=1e-12)
    np.testing.assert_allclose(to_np(m.log_prob(t([7.0, 0.0, 0.0]))), 7 * np.log(0.2), rtol=1e-12)
    dl.manual_seed(8)
    s = to_np(m.sample((50_000,)))
    assert s.shape == (50_000, 3) and (s.sum(-1) == 7).all()
    np.testing.assert_allclose(s.mean(0), 7 * p, atol=5 * math.sqrt(7 * 0.25 / 50_000))
    np.testing.assert_allclose(to_np(m.variance), 7 * p * (1 - p), rtol=1e-12)
    assert tuple(D.Multinomial(3, t(np.full((4, 5), 0.2))).sample((2,)).shape) == (2, 4, 5)


def test_low_rank_multivariate_normal(rng):
    loc, w, d = rng.normal(size=4), rng.normal(size=(4, 2)), rng.uniform(0.5, 2.0, size=4)
    dist = D.LowRankMultivariateNormal(t(loc), t(w), t(d))
    cov = w @ w.T + np.diag(d)
    x = rng.normal(size=(3, 4))
    diff = x - loc
    want = -0.5 * (4 * np.log(2 * np.pi) + np.linalg.slogdet(cov)[1]
                   + np.einsum("bi,ij,bj->b", diff, np.linalg.inv(cov), diff))
    np.testing.assert_allclose(to_np(dist.log_prob(t(x))), want, rtol=1e-12)
    np.testing.assert_allclose(to_np(dist.covariance_matrix), cov, rtol=1e-14)
    np.testing.assert_allclose(to_np(dist.variance), np.diag(cov), rtol=1e-14)
    np.testing.assert_allclose(to_np(dist.entropy()), 0.5 * (4 * (1 + np.log(2 * np.pi)) + np.linalg.slogdet(cov)[1]),
                               rtol=1e-12)
    dl.manual_seed(9)
    s = to_np(dist.rsample((200_000,)))
    assert np.abs(np.cov(s.T) - cov).max() < 0.05
    with pytest.raises(ValueError, match="event size"):
        D.LowRankMultivariateNormal(t(loc), t(w[:3]), t(d))
    with pytest.raises(ValueError, match="cov_diag"):
        D.LowRankMultivariateNormal(t(loc), t(w), t(-d))


def test_reparametrised_gradients():
    dl.manual_seed(11)

    def mean_sample(make):
        def f(*params):
            dl.manual_seed(11)
            return make(*params).rsample((64,)).mean()
        return f

    for make, params in [(lambda s, k: D.Weibull(s, k), (1.5, 0.8)), (lambda s, a: D.Pareto(s, a), (1.2, 4.5)),
                         (lambda a, b: D.Kumaraswamy(a, b), (2.0, 3.5)), (lambda s: D.HalfCauchy(s), (1.7,)),
                         (lambda p: D.ContinuousBernoulli(p), (0.3,)),
                         (lambda tt, p: D.RelaxedBernoulli(tt, p), (0.6, 0.3))]:
        assert gradcheck(mean_sample(make), tuple(t(v, grad=True) for v in params))
    assert gradcheck(lambda lam: D.Binomial(t(6.0), lam).log_prob(t([0.0, 2.0, 6.0])).sum(), (t(0.3, grad=True),))
    assert gradcheck(lambda k: D.VonMises(t(0.1), k).log_prob(t([1.0, -2.0])).sum(), (t(2.5, grad=True),))


def test_extra_distribution_errors():
    with pytest.raises(ValueError, match="Weibull: concentration must be positive"):
        D.Weibull(t(1.0), t(-1.0))
    with pytest.raises(ValueError, match="Pareto: alpha must be positive"):
        D.Pareto(t(1.0), t(0.0))
    with pytest.raises(ValueError, match="exactly one of probs and logits"):
        D.Binomial(t(3.0), probs=t(0.2), logits=t(0.1))
    with pytest.raises(ValueError, match="total_count must be a non-negative integer"):
        D.Binomial(t(2.5), t(0.2))
    with pytest.raises(ValueError, match="probs must be in \\[0, 1\\]"):
        D.ContinuousBernoulli(t(1.5))
    with pytest.raises(ValueError, match="total_count must be a non-negative int"):
        D.Multinomial(2.5, t([0.5, 0.5]))
    with pytest.raises(ValueError, match="temperature must be positive"):
        D.RelaxedBernoulli(t(0.0), t(0.5))
