"""More of torch.distributions, built on distributions.py: ``Weibull Pareto HalfCauchy
Kumaraswamy FisherSnedecor VonMises ContinuousBernoulli RelaxedBernoulli
RelaxedOneHotCategorical`` (continuous), ``Binomial NegativeBinomial Multinomial``
(counts) and ``LowRankMultivariateNormal``. Densities, means and entropies are composed of
ops (gradients reach the parameters); samples come from dlcore's default generator.
"""
import math

import numpy as np

from .. import _C
from .._composite import finfo
from ..creation import rand, randn, tensor, zeros
from . import Categorical, Distribution, Gamma, Poisson, _as_tensor, _check, _draw, _params, \
    _softplus, _standard_gamma
from ..grad_mode import no_grad
from ..special import digamma, i0e, i1e, lgamma

_EULER = 0.5772156649015329


def _tiny(t):
    return 1e-300 if t.dtype == _C.dtype.float64 else 1e-38


def _uniform(dist, sample_shape, like):
    """Uniform draws in (0, 1) of the sample's shape (the ends clamped away, for logs)."""
    u = rand(*dist._extended_shape(sample_shape), dtype=like.dtype)
    return u.clamp(_tiny(like), 1 - (1e-16 if like.dtype == _C.dtype.float64 else 1e-7))


def _probs_or_logits(cls, probs, logits, validate_args):
    """(probs, logits) from exactly one of them, broadcast together with nothing else."""
    if (probs is None) == (logits is None):
        raise ValueError(f"{cls}: give exactly one of probs and logits")
    if probs is not None:
        (probs,) = _params(probs)
        if validate_args is not False:
            _check((probs >= 0) & (probs <= 1), cls, "probs", "in [0, 1]", "a value outside")
        # the logits of probs kept eps away from 0 and 1 (finite at p = 0 or 1), as PyTorch's
        eps = finfo(probs.dtype).eps
        clamped = probs.clamp(eps, 1 - eps)
        return probs, clamped.log() - (-clamped).log1p()
    (logits,) = _params(logits)
    return logits.sigmoid(), logits


# ---- continuous ------------------------------------------------------------------------

class Weibull(Distribution):
    """Weibull(scale, concentration k): density (k / scale) (x / scale)^(k-1) exp(-(x / scale)^k)."""

    has_rsample = True

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = _params(scale, concentration)
        if validate_args is not False:
            _check(self.scale > 0, "Weibull", "scale", "positive", scale)
            _check(self.concentration > 0, "Weibull", "concentration", "positive", concentration)
        super().__init__(tuple(self.scale.shape))

    mean = property(lambda self: self.scale * lgamma(1 + 1 / self.concentration).exp())

    @property
    def variance(self):
        k = self.concentration
        return self.scale ** 2 * (lgamma(1 + 2 / k).exp() - lgamma(1 + 1 / k).exp() ** 2)

    def rsample(self, sample_shape=()):
        u = _uniform(self, sample_shape, self.scale)
        return self.scale * (-(-u).log1p()).pow(1 / self.concentration)

    def log_prob(self, value):
        x = _as_tensor(value, self.scale)
        inside = x >= 0
        z = _C.where(inside, x, 1.0) / self.scale
        k = self.concentration
        lp = k.log() - self.scale.log() + (k - 1) * z.log() - z.pow(k)
        return _C.where(inside, lp, -math.inf)

    def cdf(self, value):
        x = _as_tensor(value, self.scale).clamp(0, None)
        return -(-(x / self.scale).pow(self.concentration)).expm1()

    def entropy(self):
        k = self.concentration
        return _EULER * (1 - 1 / k) + (self.scale / k).log() + 1


class Pareto(Distribution):
    """Pareto(scale, alpha): density alpha scale^alpha / x^(alpha + 1) for x >= scale."""

    has_rsample = True

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = _params(scale, alpha)
        if validate_args is not False:
            _check(self.scale > 0, "Pareto", "scale", "positive", scale)
            _check(self.alpha > 0, "Pareto", "alpha", "positive", alpha)
        super().__init__(tuple(self.scale.shape))

    @property
    def mean(self):
        a = self.alpha
        return _C.where(a > 1, a * self.scale / (a - 1).clamp(_tiny(a), None), math.inf)

    @property
    def variance(self):
        a = self.alpha
        v = self.scale ** 2 * a / ((a - 1) ** 2 * (a - 2)).clamp(_tiny(a), None)
        return _C.where(a > 2, v, math.inf)

    def rsample(self, sample_shape=()):
        u = _uniform(self, sample_shape, self.scale)
        return self.scale * (-u.log() / self.alpha).exp()

    def log_prob(self, value):
        x = _as_tensor(value, self.scale)
        inside = x >= self.scale
        lp = self.alpha.log() + self.alpha * self.scale.log() - (self.alpha + 1) * _C.where(inside, x, self.scale).log()
        return _C.where(inside, lp, -math.inf)

    def cdf(self, value):
        x = _as_tensor(value, self.scale)
        return _C.where(x >= self.scale, 1 - (self.scale / x.clamp(_tiny(x), None)).pow(self.alpha), 0.0)

    def entropy(self):
        return (self.scale / self.alpha).log() + 1 / self.alpha + 1


class HalfCauchy(Distribution):
    """|X| for X ~ Cauchy(0, scale): density 2 / (pi scale (1 + (x / scale)^2)) on x >= 0."""

    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (self.scale,) = _params(scale)
        if validate_args is not False:
            _check(self.scale > 0, "HalfCauchy", "scale", "positive", scale)
        super().__init__(tuple(self.scale.shape))

    mean = property(lambda self: self.scale * 0 + math.inf)
    variance = mean

    def rsample(self, sample_shape=()):
        u = _uniform(self, sample_shape, self.scale)
        return self.scale * (math.pi * (u - 0.5)).tan().abs()

    def log_prob(self, value):
        x = _as_tensor(value, self.scale)
        z = x / self.scale
        lp = math.log(2 / math.pi) - self.scale.log() - (z * z).log1p()
        return _C.where(x >= 0, lp, -math.inf)

    def cdf(self, value):
        x = _as_tensor(value, self.scale).clamp(0, None)
        return (x / self.scale).atan() * (2 / math.pi)

    def entropy(self):
        return (2 * math.pi * self.scale).log()


class Kumaraswamy(Distribution):
    """Kumaraswamy(a = concentration1, b = concentration0) on [0, 1]: density
    a b x^(a-1) (1 - x^a)^(b-1)."""

    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = _params(concentration1, concentration0)
        if validate_args is not False:
            _check(self.concentration1 > 0, "Kumaraswamy", "concentration1", "positive", concentration1)
            _check(self.concentration0 > 0, "Kumaraswamy", "concentration0", "positive", concentration0)
        super().__init__(tuple(self.concentration1.shape))

    def _moment(self, n):
        """E[X^n] = b B(1 + n / a, b)."""
        a, b = self.concentration1, self.concentration0
        return (b.log() + lgamma(1 + n / a) + lgamma(b) - lgamma(1 + n / a + b)).exp()

    mean = property(lambda self: self._moment(1))
    variance = property(lambda self: self._moment(2) - self._moment(1) ** 2)

    def rsample(self, sample_shape=()):
        u = _uniform(self, sample_shape, self.concentration1)
        a, b = self.concentration1, self.concentration0
        return (-((-u).log1p() / b).expm1()).pow(1 / a)

    def log_prob(self, value):
        x = _as_tensor(value, self.concentration1)
        a, b = self.concentration1, self.concentration0
        inside = (x > 0) & (x < 1)
        v = _C.where(inside, x, 0.5)
        lp = a.log() + b.log() + (a - 1) * v.log() + (b - 1) * (-v.pow(a)).log1p()
        return _C.where(inside, lp, -math.inf)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        harmonic_b = digamma(b + 1) + _EULER
        return (1 - 1 / b) + (1 - 1 / a) * harmonic_b - a.log() - b.log()


class FisherSnedecor(Distribution):
    """The F distribution with df1 and df2 degrees of freedom: (X1 / df1) / (X2 / df2) for
    independent chi-squared X1, X2."""

    def __init__(self, df1, df2, validate_args=None):
        self.df1, self.df2 = _params(df1, df2)
        if validate_args is not False:
            _check(self.df1 > 0, "FisherSnedecor", "df1", "positive", df1)
            _check(self.df2 > 0, "FisherSnedecor", "df2", "positive", df2)
        super().__init__(tuple(self.df1.shape))

    @property
    def mean(self):
        d2 = self.df2
        return _C.where(d2 > 2, d2 / (d2 - 2).clamp(_tiny(d2), None), math.nan)

    @property
    def variance(self):
        d1, d2 = self.df1, self.df2
        v = 2 * d2 ** 2 * (d1 + d2 - 2) / (d1 * (d2 - 2) ** 2 * (d2 - 4)).clamp(_tiny(d1), None)
        return _C.where(d2 > 4, v, math.nan)

    def sample(self, sample_shape=()):
        def draw(d1, d2):
            return (_standard_gamma(d1 / 2) / d1) / (_standard_gamma(d2 / 2) / d2)

        return _draw(draw, self, sample_shape, self.df1, self.df2)

    def log_prob(self, value):
        x = _as_tensor(value, self.df1)
        d1, d2 = self.df1, self.df2
        inside = x > 0
        v = _C.where(inside, x, 1.0)
        lp = (0.5 * d1 * (d1 / d2).log() + (0.5 * d1 - 1) * v.log() - 0.5 * (d1 + d2) * (d1 / d2 * v).log1p()
              - (lgamma(d1 / 2) + lgamma(d2 / 2) - lgamma((d1 + d2) / 2)))
        return _C.where(inside, lp, -math.inf)


class VonMises(Distribution):
    """The von Mises (circular normal) distribution on [-pi, pi): density
    exp(k cos(x - loc)) / (2 pi I0(k)). mean is loc; variance the circular variance
    1 - I1(k) / I0(k). Samples by Best and Fisher's rejection method."""

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = _params(loc, concentration)
        if validate_args is not False:
            _check(self.concentration > 0, "VonMises", "concentration", "positive", concentration)
        super().__init__(tuple(self.loc.shape))

    mean = property(lambda self: self.loc)
    mode = mean
    variance = property(lambda self: 1 - i1e(self.concentration) / i0e(self.concentration))

    def log_prob(self, value):
        k = self.concentration
        # log I0(k) = log(i0e(k)) + k
        return k * ((_as_tensor(value, self.loc) - self.loc).cos() - 1) - math.log(2 * math.pi) - i0e(k).log()

    def sample(self, sample_shape=()):
        def draw(loc, k):
            tau = 1 + np.sqrt(1 + 4 * k * k)
            rho = (tau - np.sqrt(2 * tau)) / (2 * k)
            r = (1 + rho * rho) / (2 * rho)
            out = np.empty_like(k)
            flat_r, flat_k = r.reshape(-1), k.reshape(-1)
            todo = np.arange(k.size)
            while todo.size:
                u1, u2, u3 = (rand(todo.size, dtype=_C.dtype.float64).numpy() for _ in range(3))
                z = np.cos(np.pi * u1)
                f = (1 + flat_r[todo] * z) / (flat_r[todo] + z)
                c = flat_k[todo] * (flat_r[todo] - f)
                with np.errstate(divide="ignore", invalid="ignore"):
                    ok = (c * (2 - c) - u2 > 0) | (np.log(c / u2) + 1 - c >= 0)
                theta = np.sign(u3 - 0.5) * np.arccos(np.clip(f, -1, 1))
                out.reshape(-1)[todo[ok]] = theta[ok]
                todo = todo[~ok]
            return np.mod(out + loc + np.pi, 2 * np.pi) - np.pi

        return _draw(draw, self, sample_shape, self.loc, self.concentration)


class ContinuousBernoulli(Distribution):
    """The continuous Bernoulli on [0, 1] (Loaiza-Ganem and Cunningham, 2019): density
    C(l) l^x (1 - l)^(1 - x) with C normalising; give probs l or logits. Near l = 1/2 the
    normaliser, mean and variance use their Taylor series in the logit."""

    has_rsample = True
    _NEAR = 1e-2  # |logit| below which the series are used

    def __init__(self, probs=None, logits=None, validate_args=None):
        self.probs, self.logits = _probs_or_logits("ContinuousBernoulli", probs, logits, validate_args)
        super().__init__(tuple(self.probs.shape))

    def _near_half(self):
        return self.logits.abs() < self._NEAR

    def _far(self, eta):
        """The logit with the values near 0 moved out of the series' range (the series
        replace those results; this keeps the exact formulas finite there)."""
        return _C.where(self._near_half(), self._NEAR * 2, eta)

    def _log_normaliser(self):
        eta = self.logits
        far = self._far(eta)
        # C = eta / tanh(eta / 2)
        exact = (far / (far / 2).tanh()).abs().log()
        eta2 = eta * eta
        return _C.where(self._near_half(), math.log(2.0) + eta2 / 12 - 7 * eta2 * eta2 / 1440, exact)

    @property
    def mean(self):
        eta = self.logits
        far = self._far(eta)
        exact = -1 / (-far).expm1() - 1 / far
        return _C.where(self._near_half(), 0.5 + eta / 12 - eta ** 3 / 720 + eta ** 5 / 30240, exact)

    @property
    def variance(self):
        eta = self.logits
        far = self._far(eta)
        exact = 1 / far ** 2 - 1 / (4 * (far / 2).sinh() ** 2)
        eta2 = eta * eta
        return _C.where(self._near_half(), 1 / 12 - eta2 / 240 + eta2 * eta2 / 6048, exact)

    def log_prob(self, value):
        x = _as_tensor(value, self.probs)
        # x log l + (1 - x) log(1 - l) = x eta + log(1 - l) = x eta - softplus(eta)
        eta = self.logits
        return x * eta - _softplus(eta) + self._log_normaliser()

    def rsample(self, sample_shape=()):
        u = _uniform(self, sample_shape, self.probs)
        eta = self.logits
        far = self._far(eta)
        # F^-1(u) = log1p(u (e^eta - 1)) / eta
        exact = (u * far.expm1()).log1p() / far
        return _C.where(self._near_half(), u, exact)

    def entropy(self):
        eta = self.logits
        return -(self.mean * eta - _softplus(eta) + self._log_normaliser())


class RelaxedBernoulli(Distribution):
    """The binary Concrete (Gumbel-sigmoid) distribution at a temperature: sigmoid((logits +
    log U - log(1 - U)) / temperature), on (0, 1); give probs or logits."""

    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        probs, logits = _probs_or_logits("RelaxedBernoulli", probs, logits, validate_args)
        self.temperature, self.logits = _params(temperature, logits)
        self.probs = self.logits.sigmoid()
        if validate_args is not False:
            _check(self.temperature > 0, "RelaxedBernoulli", "temperature", "positive", temperature)
        super().__init__(tuple(self.logits.shape))

    def rsample(self, sample_shape=()):
        u = _uniform(self, sample_shape, self.logits)
        return ((self.logits + u.log() - (-u).log1p()) / self.temperature).sigmoid()

    def log_prob(self, value):
        x = _as_tensor(value, self.logits)
        y = x.log() - (-x).log1p()  # the logit the sample came from
        diff = self.logits - y * self.temperature
        return self.temperature.log() + diff - 2 * _softplus(diff) - x.log() - (-x).log1p()


class RelaxedOneHotCategorical(Distribution):
    """The Concrete (Gumbel-softmax) distribution at a temperature: softmax((logits + G) /
    temperature) for Gumbel noise G, points of the simplex along the last dim."""

    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        c = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        self.logits, self.probs = c.logits, c.probs
        (self.temperature,) = _params(temperature)
        if validate_args is not False:
            _check(self.temperature > 0, "RelaxedOneHotCategorical", "temperature", "positive", temperature)
        super().__init__(tuple(self.logits.shape[:-1]), tuple(self.logits.shape[-1:]))

    def rsample(self, sample_shape=()):
        u = _uniform(self, sample_shape, self.logits)
        gumbel = -(-u.log()).log()
        return ((self.logits + gumbel) / self.temperature.unsqueeze(-1)).softmax(-1)

    def log_prob(self, value):
        x = _as_tensor(value, self.logits)
        k = self.logits.shape[-1]
        t = self.temperature
        logx = x.log()
        score = self.logits - logx * t.unsqueeze(-1)
        score = (score - score.logsumexp(-1, keepdim=True)).sum(-1)
        return score + math.lgamma(k) + (k - 1) * t.log() - logx.sum(-1)


# ---- counts ----------------------------------------------------------------------------

class Binomial(Distribution):
    """The number of successes in total_count Bernoulli(probs) trials; give probs or
    logits. Samples sum the trials' draws (memory and time grow with total_count)."""

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        probs, logits = _probs_or_logits("Binomial", probs, logits, validate_args)
        self.total_count, self.probs, self.logits = _params(total_count, probs, logits)
        if validate_args is not False:
            n = self.total_count
            _check((n >= 0) & (n == n.floor()), "Binomial", "total_count", "a non-negative integer", total_count)
        super().__init__(tuple(self.probs.shape))

    mean = property(lambda self: self.total_count * self.probs)
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    def sample(self, sample_shape=()):
        with no_grad():
            shape = self._extended_shape(sample_shape)
            n = self.total_count.detach().expand(shape)
            p = self.probs.detach().expand(shape)
            most = int(n.max().item()) if n.numel() else 0
            count = zeros(*shape, dtype=p.dtype)
            for start in range(0, most, 256):  # trials in blocks: memory stays 256 per value
                width = min(256, most - start)
                u = rand(*shape, width, dtype=p.dtype)
                trial = tensor(np.arange(start, start + width, dtype=np.float64), dtype=p.dtype)
                hit = (u < p.unsqueeze(-1)) & (trial < n.unsqueeze(-1))
                count = count + hit.to(p.dtype).sum(-1)
            return count

    def log_prob(self, value):
        k = _as_tensor(value, self.probs)
        n, eta = self.total_count, self.logits
        # k log p + (n - k) log(1 - p) = k eta - n softplus(eta), finite at p = 0 or 1
        return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) + k * eta - n * _softplus(eta)

    def entropy(self):
        most = int(self.total_count.max().item())
        k = tensor(np.arange(most + 1, dtype=np.float64), dtype=self.probs.dtype)
        k = k.reshape((most + 1,) + (1,) * len(self._batch_shape))
        lp = self.log_prob(k)
        lp = _C.where(k <= self.total_count, lp, -math.inf)
        return -(lp.exp() * _C.where(lp > -math.inf, lp, 0.0)).sum(0)


class NegativeBinomial(Distribution):
    """The number of successes before total_count failures of Bernoulli(probs) trials;
    give probs (the success probability) or logits."""

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        probs, logits = _probs_or_logits("NegativeBinomial", probs, logits, validate_args)
        self.total_count, self.logits = _params(total_count, logits)
        self.probs = self.logits.sigmoid()
        if validate_args is not False:
            _check(self.total_count > 0, "NegativeBinomial", "total_count", "positive", total_count)
        super().__init__(tuple(self.logits.shape))

    mean = property(lambda self: self.total_count * self.logits.exp())
    variance = property(lambda self: self.mean / (1 - self.probs))

    def sample(self, sample_shape=()):
        with no_grad():
            # Poisson(Gamma(total_count, scale p / (1 - p))): a gamma-mixed Poisson
            rate = Gamma(self.total_count.detach(), (-self.logits.detach()).exp()).sample(sample_shape)
            return Poisson(rate.clamp(_tiny(rate), None), validate_args=False).sample()

    def log_prob(self, value):
        k = _as_tensor(value, self.logits)
        r, eta = self.total_count, self.logits
        # k log p + r log(1 - p) = k eta - (k + r) softplus(eta)
        return lgamma(k + r) - lgamma(r) - lgamma(k + 1) + k * eta - (k + r) * _softplus(eta)


class Multinomial(Distribution):
    """Counts of total_count draws from a Categorical(probs or logits) over the last dim
    (event shape (K,))."""

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if isinstance(total_count, _C.Tensor) or not float(total_count).is_integer() or total_count < 0:
            raise ValueError(f"Multinomial: total_count must be a non-negative int, got {total_count!r}")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        super().__init__(tuple(self.probs.shape[:-1]), tuple(self.probs.shape[-1:]))

    mean = property(lambda self: self.total_count * self.probs)
    variance = property(lambda self: self.total_count * self.probs * (1 - self.probs))

    def sample(self, sample_shape=()):
        with no_grad():
            if isinstance(sample_shape, int):
                sample_shape = (sample_shape,)
            k = self.probs.shape[-1]
            draws = self._categorical.sample((self.total_count,) + tuple(sample_shape))  # (n, *sample, *batch)
            counts = zeros(*(tuple(sample_shape) + self._batch_shape), k, dtype=self.probs.dtype)
            if self.total_count:
                ones = counts.new_ones(draws.shape).unsqueeze(-1)
                for i in range(self.total_count):
                    counts.scatter_add_(-1, draws[i].unsqueeze(-1), ones[i])
            return counts

    def log_prob(self, value):
        x = _as_tensor(value, self.probs)
        logits = self.logits.clamp(-1e300 if x.dtype == _C.dtype.float64 else -3e38, None)
        return lgamma(x.sum(-1) + 1) - lgamma(x + 1).sum(-1) + _C.where(x > 0, x * logits, 0.0).sum(-1)


# ---- multivariate ----------------------------------------------------------------------

class LowRankMultivariateNormal(Distribution):
    """A multivariate normal with covariance cov_factor cov_factor^T + diag(cov_diag):
    cov_factor (..., n, r), cov_diag (..., n). log_prob works through the r x r capacitance
    matrix I + W^T D^-1 W (Woodbury), never the n x n covariance."""

    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        loc, w, d = (_as_tensor(v) for v in (loc, cov_factor, cov_diag))
        if loc.ndim < 1 or w.ndim < 2 or d.ndim < 1:
            raise ValueError("LowRankMultivariateNormal: loc must be at least 1-D, cov_factor 2-D, cov_diag 1-D")
        n = loc.shape[-1]
        if w.shape[-2] != n or d.shape[-1] != n:
            raise ValueError(f"LowRankMultivariateNormal: loc {tuple(loc.shape)}, cov_factor {tuple(w.shape)} and "
                             f"cov_diag {tuple(d.shape)} do not share the event size {n}")
        if validate_args is not False:
            _check(d > 0, "LowRankMultivariateNormal", "cov_diag", "positive", "a tensor with an entry <= 0")
        batch = tuple(np.broadcast_shapes(tuple(loc.shape[:-1]), tuple(w.shape[:-2]), tuple(d.shape[:-1])))
        self.loc = loc.expand(batch + (n,))
        self.cov_factor = w.expand(batch + tuple(w.shape[-2:]))
        self.cov_diag = d.expand(batch + (n,))
        super().__init__(batch, (n,))

    mean = property(lambda self: self.loc)
    mode = mean
    variance = property(lambda self: (self.cov_factor ** 2).sum(-1) + self.cov_diag)

    @property
    def covariance_matrix(self):
        w = self.cov_factor
        return w @ w.transpose(-1, -2) + self.cov_diag.diag_embed()

    def _capacitance_tril(self):
        from .. import linalg

        w = self.cov_factor
        wt_dinv = w.transpose(-1, -2) / self.cov_diag.unsqueeze(-2)
        r = w.shape[-1]
        eye = tensor(np.eye(r), dtype=w.dtype)
        return linalg.cholesky(eye + wt_dinv @ w)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        r = self.cov_factor.shape[-1]
        eps_w = randn(*(shape[:-1] + (r,)), dtype=self.loc.dtype)
        eps_d = randn(*shape, dtype=self.loc.dtype)
        return self.loc + (self.cov_factor @ eps_w.unsqueeze(-1)).squeeze(-1) + self.cov_diag.sqrt() * eps_d

    def _log_det(self, tril):
        return 2 * tril.diagonal(dim1=-2, dim2=-1).log().sum(-1) + self.cov_diag.log().sum(-1)

    def log_prob(self, value):
        from .. import linalg

        diff = _as_tensor(value, self.loc) - self.loc
        tril = self._capacitance_tril()
        dinv_diff = diff / self.cov_diag
        wt = (self.cov_factor.transpose(-1, -2) @ dinv_diff.unsqueeze(-1))  # (..., r, 1)
        tril = tril.expand(tuple(wt.shape[:-2]) + tuple(tril.shape[-2:]))
        z = linalg.solve_triangular(tril, wt, upper=False).squeeze(-1)
        maha = (diff * dinv_diff).sum(-1) - (z * z).sum(-1)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + self._log_det(tril) + maha)

    def entropy(self):
        n = self._event_shape[0]
        return 0.5 * n * (1 + math.log(2 * math.pi)) + 0.5 * self._log_det(self._capacitance_tril())
