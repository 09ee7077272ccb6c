"""dlcore.distributions against NumPy: densities, entropies and moments from the textbook
formulas; samples' moments and frequencies within five standard errors; gradients of rsample
and log_prob; KL divergences against numerical integration (or direct sums) in NumPy;
shapes; and errors."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore import distributions as D
from dlcore.autograd import gradcheck


def t(a, dtype=np.float64, grad=False):
    return dl.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def to_np(x):
    return x.detach().numpy()


# (distribution, its NumPy density, mean, variance, entropy) for continuous cases
CONTINUOUS = {
    "normal": (lambda: D.Normal(t([0.5, -1.0]), t([1.5, 0.3])),
               lambda x, m=np.array([0.5, -1.0]), s=np.array([1.5, 0.3]):
               np.exp(-(x - m) ** 2 / (2 * s * s)) / (s * np.sqrt(2 * np.pi)),
               [0.5, -1.0], [2.25, 0.09], 0.5 * np.log(2 * np.pi * np.e * np.array([2.25, 0.09]))),
    "uniform": (lambda: D.Uniform(t([0.0, -2.0]), t([3.0, -1.5])),
                lambda x, lo=np.array([0.0, -2.0]), hi=np.array([3.0, -1.5]):
                np.where((x >= lo) & (x < hi), 1 / (hi - lo), 0.0),
                [1.5, -1.75], [0.75, 0.25 / 12], np.log([3.0, 0.5])),
    "exponential": (lambda: D.Exponential(t([0.5, 4.0])),
                    lambda x, r=np.array([0.5, 4.0]): np.where(x >= 0, r * np.exp(-r * x), 0.0),
                    [2.0, 0.25], [4.0, 1 / 16], 1 - np.log([0.5, 4.0])),
    "laplace": (lambda: D.Laplace(t([1.0, 0.0]), t([0.5, 2.0])),
                lambda x, m=np.array([1.0, 0.0]), b=np.array([0.5, 2.0]): np.exp(-np.abs(x - m) / b) / (2 * b),
                [1.0, 0.0], [0.5, 8.0], 1 + np.log([1.0, 4.0])),
}


@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_continuous_density_moments_and_samples(name):
    make, pdf, mean, var, ent = CONTINUOUS[name]
    d = make()
    x = np.array([[0.7, -1.6], [2.9, -1.9], [0.0, 0.1]])
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(to_np(d.log_prob(t(x))), np.log(pdf(x)), rtol=1e-12)
    np.testing.assert_allclose(to_np(d.mean), mean, rtol=1e-12)
    np.testing.assert_allclose(to_np(d.variance), var, rtol=1e-12)
    np.testing.assert_allclose(to_np(d.stddev), np.sqrt(var), rtol=1e-12)
    np.testing.assert_allclose(to_np(d.entropy()), ent, rtol=1e-12)
    dl.manual_seed(0)
    n = 200_000
    s = to_np(d.sample((n,)))
    assert s.shape == (n, 2)
    assert np.all(np.abs(s.mean(0) - mean) < 5 * np.sqrt(np.array(var) / n))
    # the sample variance's standard error is sqrt((mu4 - var^2) / n); mu4 <= 6 var^2 for all four
    assert np.all(np.abs(s.var(0) - var) < 5 * np.sqrt(5 * np.array(var) ** 2 / n))


def test_rsample_and_log_prob_gradients(rng):
    loc, scale = t([0.5, -1.0], grad=True), t([1.5, 0.3], grad=True)
    d = D.Normal(loc, scale)
    x = d.rsample((4,))
    x.sum().backward()
    np.testing.assert_allclose(to_np(loc.grad), [4.0, 4.0])
    np.testing.assert_allclose(to_np(scale.grad), ((to_np(x) - [0.5, -1.0]) / [1.5, 0.3]).sum(0), rtol=1e-12)
    assert D.Normal(0.0, 1.0).sample().requires_grad is False
    v = rng.normal(size=(3, 2))
    for cls, p0, p1 in [(D.Normal, [0.5, -1.0], [1.5, 0.3]), (D.Laplace, [1.0, 0.0], [0.5, 2.0])]:
        assert gradcheck(lambda a, b, x: cls(a, b).log_prob(x), (t(p0, grad=True), t(p1, grad=True), t(v, grad=True)))
        assert gradcheck(lambda a, b: cls(a, b).entropy(), (t(p0, grad=True), t(p1, grad=True)))
    assert gradcheck(lambda r, x: D.Exponential(r).log_prob(x), (t([0.5, 4.0], grad=True), t(np.abs(v), grad=True)))
    assert gradcheck(lambda lg: D.Bernoulli(logits=lg).log_prob(t([[1.0, 0.0]])), (t([0.3, -2.0], grad=True),))
    assert gradcheck(lambda lg: D.Categorical(logits=lg).entropy(), (t(rng.normal(size=(2, 4)), grad=True),))


def test_bernoulli(rng):
    p = np.array([0.2, 0.9, 0.0])
    for d in (D.Bernoulli(probs=t(p)), D.Bernoulli(logits=t(np.log(p + 1e-300) - np.log1p(-p)))):
        x = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        with np.errstate(divide="ignore", invalid="ignore"):
            want = np.where(x == 1, np.log(p), np.log1p(-p))
        np.testing.assert_allclose(to_np(d.log_prob(t(x))), want, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(to_np(d.mean), p, atol=1e-15)
        np.testing.assert_allclose(to_np(d.variance), p * (1 - p), atol=1e-15)
        with np.errstate(divide="ignore", invalid="ignore"):
            ent = -np.nan_to_num(p * np.log(p)) - np.nan_to_num((1 - p) * np.log1p(-p))
        np.testing.assert_allclose(to_np(d.entropy()), ent, atol=1e-12)
    dl.manual_seed(1)
    n = 100_000
    s = to_np(D.Bernoulli(probs=t(p)).sample((n,)))
    assert set(np.unique(s)) <= {0.0, 1.0}
    assert np.all(np.abs(s.mean(0) - p) <= 5 * np.sqrt(p * (1 - p) / n))


def test_categorical(rng):
    logits = rng.normal(size=(3, 5))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    for d in (D.Categorical(logits=t(logits)), D.Categorical(probs=t(probs * 7.0))):  # rows need no normalising
        np.testing.assert_allclose(to_np(d.probs), probs, rtol=1e-12)
        idx = np.array([[0, 4, 2], [1, 1, 3]])
        np.testing.assert_allclose(to_np(d.log_prob(dl.tensor(idx))), np.log(probs[np.arange(3), idx]), rtol=1e-12)
        np.testing.assert_allclose(to_np(d.entropy()), -(probs * np.log(probs)).sum(-1), rtol=1e-12)
        assert d.batch_shape == (3,) and d.event_shape == ()
    dl.manual_seed(2)
    n = 60_000
    s = D.Categorical(logits=t(logits)).sample((n,)).numpy()
    assert s.shape == (n, 3) and s.dtype == np.int64
    freq = np.stack([(s == k).mean(0) for k in range(5)], -1)
    assert np.all(np.abs(freq - probs) <= 5 * np.sqrt(probs * (1 - probs) / n))
    # a zero probability: never drawn, entropy ignores it, log_prob -inf-like (very negative)
    z = D.Categorical(probs=t([0.5, 0.0, 0.5]))
    assert 1 not in set(z.sample((1000,)).numpy().tolist())
    np.testing.assert_allclose(to_np(z.entropy()), np.log(2), rtol=1e-12)


def test_shapes_broadcast_and_independent():
    d = D.Normal(t(np.zeros((3, 1))), t(np.ones(2)))
    assert d.batch_shape == (3, 2) and tuple(d.sample(4).shape) == (4, 3, 2)
    assert tuple(d.rsample((5, 1)).shape) == (5, 1, 3, 2)
    i = D.Independent(D.Normal(t(np.zeros((4, 3))), t(np.ones((4, 3)))), 1)
    assert i.batch_shape == (4,) and i.event_shape == (3,) and i.has_rsample
    x = np.random.default_rng(3).normal(size=(2, 4, 3))
    np.testing.assert_allclose(to_np(i.log_prob(t(x))), (-0.5 * x * x - 0.5 * np.log(2 * np.pi)).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(to_np(i.entropy()), np.full(4, 3 * 0.5 * np.log(2 * np.pi * np.e)), rtol=1e-12)
    assert "Normal(batch_shape=(3, 2), event_shape=())" == repr(d)


def _integrate(f, lo, hi, n=2_000_001):
    x = np.linspace(lo, hi, n)
    y = f(x)
    return float(((y[1:] + y[:-1]) / 2 * np.diff(x)).sum())


def test_kl_divergence_against_integration_and_sums():
    def kl_pdf(p_pdf, q_pdf, lo, hi):
        def f(x):
            p, q = p_pdf(x), q_pdf(x)
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
        return _integrate(f, lo, hi)

    def normal_pdf(m, s):
        return lambda x: np.exp(-(x - m) ** 2 / (2 * s * s)) / (s * np.sqrt(2 * np.pi))

    def laplace_pdf(m, b):
        return lambda x: np.exp(-np.abs(x - m) / b) / (2 * b)

    def exp_pdf(r):
        return lambda x: np.where(x >= 0, r * np.exp(-r * np.clip(x, 0, None)), 0.0)

    cases = [
        (D.Normal(0.3, 0.8), D.Normal(-0.5, 1.7), normal_pdf(0.3, 0.8), normal_pdf(-0.5, 1.7), -30, 30),
        (D.Laplace(0.3, 0.8), D.Laplace(-0.5, 1.7), laplace_pdf(0.3, 0.8), laplace_pdf(-0.5, 1.7), -60, 60),
        (D.Exponential(2.0), D.Exponential(0.7), exp_pdf(2.0), exp_pdf(0.7), 0, 60),
    ]
    for p, q, pp, qp, lo, hi in cases:
        np.testing.assert_allclose(to_np(D.kl_divergence(p, q)), kl_pdf(pp, qp, lo, hi), rtol=1e-6)
    np.testing.assert_allclose(to_np(D.kl_divergence(D.Uniform(t(1.0), t(2.0)), D.Uniform(t(0.0), t(4.0)))),
                               np.log(4.0), rtol=1e-12)
    assert to_np(D.kl_divergence(D.Uniform(0.0, 2.0), D.Uniform(1.0, 4.0))) == math.inf
    p, q = np.array([0.1, 0.0, 0.6, 0.3]), np.array([0.25, 0.25, 0.25, 0.25])
    want = sum(a * math.log(a / b) for a, b in zip(p, q) if a > 0)
    np.testing.assert_allclose(to_np(D.kl_divergence(D.Categorical(probs=t(p)), D.Categorical(probs=t(q)))), want,
                               rtol=1e-12)
    a, b = 0.3, 0.8
    want = a * math.log(a / b) + (1 - a) * math.log((1 - a) / (1 - b))
    np.testing.assert_allclose(to_np(D.kl_divergence(D.Bernoulli(probs=t(a)), D.Bernoulli(probs=t(b)))), want,
                               rtol=1e-12)
    i = D.kl_divergence(D.Independent(D.Normal(t([0.3, 0.0]), t([0.8, 1.0])), 1),
                        D.Independent(D.Normal(t([-0.5, 0.0]), t([1.7, 1.0])), 1))
    np.testing.assert_allclose(to_np(i), kl_pdf(normal_pdf(0.3, 0.8), normal_pdf(-0.5, 1.7), -30, 30), rtol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="Normal: scale must be positive, got -1"):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="Uniform: low must be below high"):
        D.Uniform(2.0, 1.0)
    with pytest.raises(ValueError, match="Exponential: rate must be positive"):
        D.Exponential(t([1.0, 0.0]))
    with pytest.raises(ValueError, match="Bernoulli: give exactly one of probs and logits"):
        D.Bernoulli()
    with pytest.raises(ValueError, match="Bernoulli: probs must be in \\[0, 1\\], got 1.5"):
        D.Bernoulli(probs=1.5)
    with pytest.raises(ValueError, match="Categorical: give exactly one of probs and logits"):
        D.Categorical(probs=t([0.5, 0.5]), logits=t([0.0, 0.0]))
    with pytest.raises(ValueError, match="Categorical: probs must be non-negative"):
        D.Categorical(probs=t([0.5, -0.1]))
    with pytest.raises(ValueError, match=r"Categorical.log_prob: values must be indices in \[0, 2\), got 0..2"):
        D.Categorical(probs=t([0.5, 0.5])).log_prob(dl.tensor([0, 2]))
    with pytest.raises(ValueError, match=r"Independent: reinterpreted_batch_ndims must be in \[0, 1\]"):
        D.Independent(D.Normal(t([0.0]), t([1.0])), 2)
    with pytest.raises(NotImplementedError, match="Bernoulli has no reparametrised sample"):
        D.Bernoulli(probs=0.5).rsample()
    with pytest.raises(NotImplementedError, match="kl_divergence: no formula for Normal and Laplace"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Laplace(0.0, 1.0))
    assert D.Normal(0.0, -1.0, validate_args=False).scale.item() == -1.0


def _lgamma(v):
    return np.vectorize(math.lgamma)(v)


def test_gamma_beta_dirichlet_poisson_densities_and_moments():
    a, r = np.array([0.5, 2.0, 9.0]), np.array([1.0, 3.0, 0.5])
    g = D.Gamma(t(a), t(r))
    x = np.array([[0.3, 1.0, 20.0], [2.0, 0.1, 5.0]])
    np.testing.assert_allclose(to_np(g.log_prob(t(x))), a * np.log(r) + (a - 1) * np.log(x) - r * x - _lgamma(a),
                               rtol=1e-12)
    np.testing.assert_allclose(to_np(g.mean), a / r, rtol=1e-15)
    np.testing.assert_allclose(to_np(g.variance), a / r ** 2, rtol=1e-15)
    b1, b0 = np.array([0.5, 2.0]), np.array([0.7, 5.0])
    be = D.Beta(t(b1), t(b0))
    y = np.array([[0.2, 0.9], [0.6, 0.05]])
    lbeta = _lgamma(b1) + _lgamma(b0) - _lgamma(b1 + b0)
    np.testing.assert_allclose(to_np(be.log_prob(t(y))), (b1 - 1) * np.log(y) + (b0 - 1) * np.log1p(-y) - lbeta,
                               rtol=1e-12)
    c = np.array([1.5, 2.0, 3.0])
    di = D.Dirichlet(t(c))
    p = np.array([0.2, 0.3, 0.5])
    want = ((c - 1) * np.log(p)).sum() + math.lgamma(c.sum()) - _lgamma(c).sum()
    np.testing.assert_allclose(to_np(di.log_prob(t(p))), want, rtol=1e-12)
    assert di.batch_shape == () and di.event_shape == (3,)
    lam = np.array([0.5, 4.0, 0.0])
    po = D.Poisson(t(lam))
    k = np.array([[0.0, 3.0, 0.0], [2.0, 7.0, 1.0]])
    with np.errstate(divide="ignore"):
        want = np.where(lam > 0, k * np.log(np.where(lam > 0, lam, 1)) - lam - _lgamma(k + 1),
                        np.where(k == 0, 0.0, -np.inf))
    np.testing.assert_allclose(to_np(po.log_prob(t(k))), want, rtol=1e-12)
    # draws: moments within five standard errors; a sample variance's relative standard error
    # is sqrt((kurtosis - 1) / n), the kurtosis at most 15 here (Gamma of shape 1/2)
    dl.manual_seed(3)
    n = 100_000
    for dist, mean, var in [(g, a / r, a / r ** 2), (be, b1 / (b1 + b0), b1 * b0 / ((b1 + b0) ** 2 * (b1 + b0 + 1))),
                            (D.Poisson(t(lam[:2])), lam[:2], lam[:2])]:
        s = to_np(dist.sample((n,)))
        assert np.all(np.abs(s.mean(0) - mean) < 5 * np.sqrt(var / n))
        assert np.all(np.abs(s.var(0) / var - 1) < 5 * np.sqrt(14.0 / n))
    s = to_np(di.sample((n,)))
    assert s.shape == (n, 3) and np.allclose(s.sum(-1), 1.0)
    c0 = c.sum()
    assert np.all(np.abs(s.mean(0) - c / c0) < 5 * np.sqrt(c * (c0 - c) / (c0 ** 2 * (c0 + 1)) / n))


def test_entropies_and_kl_of_the_gamma_family():
    def integrate_kl(p_logpdf, q_logpdf, lo, hi):
        x = np.linspace(lo, hi, 2_000_001)[1:-1]
        lp = p_logpdf(x)
        return _integrate_values(x, np.exp(lp) * (lp - q_logpdf(x)))

    def gamma_logpdf(a, r):
        return lambda x: a * math.log(r) + (a - 1) * np.log(x) - r * x - math.lgamma(a)

    def beta_logpdf(a, b):
        return lambda x: (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - (math.lgamma(a) + math.lgamma(b)
                                                                        - math.lgamma(a + b))

    got = to_np(D.kl_divergence(D.Gamma(t(2.5), t(1.5)), D.Gamma(t(4.0), t(0.7))))
    np.testing.assert_allclose(got, integrate_kl(gamma_logpdf(2.5, 1.5), gamma_logpdf(4.0, 0.7), 0, 80), rtol=1e-6)
    got = to_np(D.kl_divergence(D.Beta(t(2.5), t(3.5)), D.Beta(t(4.0), t(1.7))))
    np.testing.assert_allclose(got, integrate_kl(beta_logpdf(2.5, 3.5), beta_logpdf(4.0, 1.7), 0, 1), rtol=1e-6)
    # entropies: -E[log p] by the same integration
    for dist, logpdf, hi in [(D.Gamma(t(2.5), t(1.5)), gamma_logpdf(2.5, 1.5), 80),
                             (D.Beta(t(2.5), t(3.5)), beta_logpdf(2.5, 3.5), 1)]:
        x = np.linspace(0, hi, 2_000_001)[1:-1]
        lp = logpdf(x)
        np.testing.assert_allclose(to_np(dist.entropy()), -_integrate_values(x, np.exp(lp) * lp), rtol=1e-6)
    # Poisson by direct sums, Dirichlet's entropy and KL against the Beta's (two categories)
    k = np.arange(200.0)
    lp, lq = k * math.log(3.0) - 3.0 - _lgamma(k + 1), k * math.log(5.5) - 5.5 - _lgamma(k + 1)
    np.testing.assert_allclose(to_np(D.kl_divergence(D.Poisson(t(3.0)), D.Poisson(t(5.5)))),
                               (np.exp(lp) * (lp - lq)).sum(), rtol=1e-12)
    np.testing.assert_allclose(to_np(D.Dirichlet(t([2.5, 3.5])).entropy()), to_np(D.Beta(t(2.5), t(3.5)).entropy()),
                               rtol=1e-12)
    np.testing.assert_allclose(to_np(D.kl_divergence(D.Dirichlet(t([2.5, 3.5])), D.Dirichlet(t([4.0, 1.7])))),
                               to_np(D.kl_divergence(D.Beta(t(2.5), t(3.5)), D.Beta(t(4.0), t(1.7)))), rtol=1e-12)
    assert dl.autograd.gradcheck(lambda a, r: D.Gamma(a, r).log_prob(t([0.5, 2.0])),
                                 (t([1.5, 3.0], grad=True), t([2.0, 0.5], grad=True)))


def _integrate_values(x, y):
    return float(((y[1:] + y[:-1]) / 2 * np.diff(x)).sum())


def test_gamma_family_errors():
    with pytest.raises(ValueError, match="Gamma: concentration must be positive"):
        D.Gamma(0.0, 1.0)
    with pytest.raises(ValueError, match="Beta: concentration0 must be positive"):
        D.Beta(1.0, -1.0)
    with pytest.raises(ValueError, match="Dirichlet: concentration must be positive"):
        D.Dirichlet(t([1.0, 0.0]))
    with pytest.raises(ValueError, match="Poisson: rate must be non-negative"):
        D.Poisson(-1.0)


@pytest.mark.parametrize("make", [lambda: D.Normal(0.0, 1.0), lambda: D.Uniform(0.0, 1.0), lambda: D.Exponential(2.0),
                                  lambda: D.Laplace(0.0, 1.0), lambda: D.Bernoulli(0.3),
                                  lambda: D.Categorical(probs=t([0.2, 0.8])), lambda: D.Gamma(0.5, 1.0),
                                  lambda: D.Beta(0.5, 2.0), lambda: D.Poisson(3.0),
                                  lambda: D.Dirichlet(t([1.0, 2.0]))])
def test_sample_shapes_of_scalar_parameters(make):
    d = make()
    assert tuple(d.sample().shape) == d.event_shape
    assert tuple(d.sample((4, 2)).shape) == (4, 2) + d.event_shape
    assert tuple(d.sample(3).shape) == (3,) + d.event_shape
