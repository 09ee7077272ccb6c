"""Probability distributions (``dlcore.distributions``) with PyTorch's names and shapes:
``Normal Uniform Exponential Laplace Bernoulli Categorical Gamma Beta Dirichlet Poisson
Independent``, and from _more.py ``MultivariateNormal LogNormal HalfNormal
Cauchy Gumbel Geometric OneHotCategorical Chi2 StudentT MixtureSameFamily``, from
_extra.py ``Weibull Pareto HalfCauchy Kumaraswamy FisherSnedecor VonMises
ContinuousBernoulli RelaxedBernoulli RelaxedOneHotCategorical Binomial NegativeBinomial
Multinomial LowRankMultivariateNormal``; ``TransformedDistribution`` with the
``transforms`` and ``constraints`` submodules;
``kl_divergence`` and ``register_kl``.

A distribution has a ``batch_shape`` (its parameters broadcast together) and an
``event_shape`` (one draw's shape); ``sample(sample_shape)`` returns
``sample_shape + batch_shape + event_shape`` values drawn from dlcore's default generator
without gradient, and ``rsample`` (where the distribution has one) the same by
reparametrisation, so gradients reach the parameters. ``log_prob``, ``entropy``, ``mean``,
``variance`` and ``stddev`` are composed of ops. Parameters are checked on construction
(``validate_args=False`` skips it): a bad one raises ValueError naming it.
"""
import math

import numpy as np

from .. import _C
from .._composite import broadcast_tensors, finfo
from .._random import bernoulli as _bernoulli
from ..creation import full, rand, randint, randn, tensor
from ..grad_mode import no_grad
from ..special import digamma, lgamma

__all__ = ["Distribution", "Normal", "Uniform", "Exponential", "Laplace", "Bernoulli", "Categorical",
           "Gamma", "Beta", "Dirichlet", "Poisson", "Independent", "kl_divergence", "register_kl"]


def _as_tensor(x, like=None):
    if isinstance(x, _C.Tensor):
        return x if x.dtype.is_floating_point else x.to(_C._get_default_dtype())
    dtype = like.dtype if like is not None else None
    return tensor(float(x), dtype=dtype)


def _params(*values):
    """The parameters as floating tensors broadcast together."""
    ts = [v for v in values if isinstance(v, _C.Tensor)]
    like = ts[0] if ts else None
    return broadcast_tensors(*[_as_tensor(v, like) for v in values])


def _check(ok, cls, name, what, value):
    if not bool(ok.all().item()):
        raise ValueError(f"{cls}: {name} must be {what}, got {value}")


class Distribution:
    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def sample(self, sample_shape=()):
        with no_grad():
            return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparametrised sample (rsample)")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def __repr__(self):
        return f"{type(self).__name__}(batch_shape={self._batch_shape}, event_shape={self._event_shape})"


class Normal(Distribution):
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _params(loc, scale)
        if validate_args is not False:
            _check(self.scale > 0, "Normal", "scale", "positive", scale)
        super().__init__(tuple(self.loc.shape))

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)
    variance = property(lambda self: self.scale * self.scale)
    stddev = property(lambda self: self.scale)

    def rsample(self, sample_shape=()):
        eps = randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        z = (value - self.loc) / self.scale
        return -0.5 * z * z - self.scale.log() - 0.5 * math.log(2 * math.pi)

    def cdf(self, value):
        return 0.5 * (1 + _C.erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()


class Uniform(Distribution):
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = _params(low, high)
        if validate_args is not False:
            _check(self.low < self.high, "Uniform", "low", "below high", f"low={low}, high={high}")
        super().__init__(tuple(self.low.shape))

    mean = property(lambda self: (self.low + self.high) / 2)
    variance = property(lambda self: (self.high - self.low) ** 2 / 12)

    def rsample(self, sample_shape=()):
        u = rand(*self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        inside = (value >= self.low) & (value < self.high)
        return _C.where(inside, -(self.high - self.low).log(), -math.inf)

    def cdf(self, value):
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def entropy(self):
        return (self.high - self.low).log()


class Exponential(Distribution):
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = _params(rate)
        if validate_args is not False:
            _check(self.rate > 0, "Exponential", "rate", "positive", rate)
        super().__init__(tuple(self.rate.shape))

    mean = property(lambda self: 1 / self.rate)
    variance = property(lambda self: self.rate ** -2)

    def rsample(self, sample_shape=()):
        u = rand(*self._extended_shape(sample_shape), dtype=self.rate.dtype)
        return -(-u).log1p() / self.rate  # u in [0, 1): -log(1 - u) is finite

    def log_prob(self, value):
        return _C.where(value >= 0, self.rate.log() - self.rate * value, -math.inf)

    def cdf(self, value):
        return 1 - (-self.rate * value.clamp(0, None)).exp()

    def entropy(self):
        return 1 - self.rate.log()


class Laplace(Distribution):
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _params(loc, scale)
        if validate_args is not False:
            _check(self.scale > 0, "Laplace", "scale", "positive", scale)
        super().__init__(tuple(self.loc.shape))

    mean = property(lambda self: self.loc)
    variance = property(lambda self: 2 * self.scale * self.scale)

    def rsample(self, sample_shape=()):
        # u in (-1, 1): loc - scale sign(u) log(1 - |u|)
        u = rand(*self._extended_shape(sample_shape), dtype=self.loc.dtype) * 2 - 1
        u = u.clamp(-1 + 1e-7, 1 - 1e-7) if u.dtype == _C.dtype.float32 else u.clamp(-1 + 1e-16, 1 - 1e-16)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def entropy(self):
        return 1 + (2 * self.scale).log()


class Bernoulli(Distribution):
    """1 with probability ``probs`` (or ``sigmoid(logits)``), else 0; exactly one of the two."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: give exactly one of probs and logits")
        if probs is not None:
            (self.probs,) = _params(probs)
            if validate_args is not False:
                _check((self.probs >= 0) & (self.probs <= 1), "Bernoulli", "probs", "in [0, 1]", probs)
            # logit(p), with p kept a float32/float64 epsilon from 0 and 1 (as PyTorch does)
            eps = finfo(self.probs.dtype).eps
            p = self.probs.clamp(eps, 1 - eps)
            self.logits = p.log() - (-p).log1p()
        else:
            (self.logits,) = _params(logits)
            self.probs = self.logits.sigmoid()
        super().__init__(tuple(self.probs.shape))

    mean = property(lambda self: self.probs)
    variance = property(lambda self: self.probs * (1 - self.probs))

    def sample(self, sample_shape=()):
        with no_grad():
            return _bernoulli(self.probs.detach().expand(self._extended_shape(sample_shape)).contiguous())

    def log_prob(self, value):
        # value log p + (1 - value) log(1 - p) = value logits - softplus(logits)
        logits, value = broadcast_tensors(self.logits, _as_tensor(value, self.logits))
        return value * logits - _softplus(logits)

    def entropy(self):
        return _softplus(self.logits) - self.probs * self.logits


def _softplus(x):
    return x.clamp(0, None) + (-x.abs()).exp().log1p()


class Categorical(Distribution):
    """Category indices 0 .. K-1 along the last dim of ``probs`` (rows normalised) or
    ``logits`` (log-softmax taken); exactly one of the two."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: give exactly one of probs and logits")
        source = probs if probs is not None else logits
        if not isinstance(source, _C.Tensor) or source.ndim < 1:
            raise ValueError("Categorical: probs or logits must be a tensor of at least 1 dim")
        if probs is not None:
            probs = _as_tensor(probs)
            if validate_args is not False:
                _check(probs >= 0, "Categorical", "probs", "non-negative", "a tensor with a negative entry")
                _check(probs.sum(-1) > 0, "Categorical", "probs", "rows with a positive sum", "a zero row")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self.logits = self.probs.clamp(finfo(self.probs.dtype).tiny, None).log()
        else:
            logits = _as_tensor(logits)
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self.probs = self.logits.exp()
        self._num_events = source.shape[-1]
        super().__init__(tuple(source.shape[:-1]))

    mean = property(lambda self: full(self._batch_shape, math.nan, dtype=self.probs.dtype))
    variance = mean

    def sample(self, sample_shape=()):
        if isinstance(sample_shape, int):
            sample_shape = (sample_shape,)
        n = math.prod(sample_shape)
        with no_grad():
            rows = self.probs.detach().reshape(-1, self._num_events)
            draws = _C.multinomial(rows, n, True) if n else rows[:, :0].to(_C.dtype.int64)
            return draws.t().contiguous().reshape(tuple(sample_shape) + self._batch_shape)

    def log_prob(self, value):
        if not isinstance(value, _C.Tensor):
            value = tensor(value)
        value = value.to(_C.dtype.int64)
        if bool(((value < 0) | (value >= self._num_events)).any().item()):
            raise ValueError(f"Categorical.log_prob: values must be indices in [0, {self._num_events}), "
                             f"got {value.min().item()}..{value.max().item()}")
        v, logits = broadcast_tensors(value.unsqueeze(-1), self.logits)
        return logits.gather(-1, v[..., :1]).squeeze(-1)

    def entropy(self):
        return -(self.probs * self.logits.clamp(finfo(self.logits.dtype).min, None)).sum(-1)


def _standard_gamma(alpha):
    """Gamma(alpha, 1) draws for a float64 NumPy array of shapes alpha > 0 (Marsaglia and
    Tsang's squeeze method, its draws from dlcore's default generator; alpha < 1 through
    Gamma(alpha + 1) U^(1 / alpha))."""
    a = np.asarray(alpha, dtype=np.float64)
    boost = a < 1
    shape = np.where(boost, a + 1, a)
    d = shape - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    out = np.empty_like(d)
    todo = np.arange(d.size)
    flat_d, flat_c = d.reshape(-1), c.reshape(-1)
    while todo.size:
        x = randn(todo.size, dtype=_C.dtype.float64).numpy()
        u = rand(todo.size, dtype=_C.dtype.float64).numpy()
        v = (1 + flat_c[todo] * x) ** 3
        with np.errstate(divide="ignore", invalid="ignore"):
            ok = (v > 0) & (np.log(u) < 0.5 * x * x + flat_d[todo] - flat_d[todo] * v + flat_d[todo] * np.log(v))
        out.reshape(-1)[todo[ok]] = (flat_d[todo] * v)[ok]
        todo = todo[~ok]
    if boost.any():
        u = rand(*a.shape, dtype=_C.dtype.float64).numpy() if a.shape else rand(1, dtype=_C.dtype.float64).numpy()[0]
        out = np.where(boost, out * np.power(u, 1.0 / np.where(boost, a, 1.0)), out)
    return out


def _draw(sampler, dist, sample_shape, *params):
    """sampler's NumPy draws for parameters expanded to the sample's shape, as a tensor of
    the distribution's dtype."""
    shape = dist._extended_shape(sample_shape)
    arrays = [p.detach().to(_C.dtype.float64).expand(shape).contiguous().numpy() for p in params]
    with no_grad():
        return tensor(sampler(*arrays), dtype=params[0].dtype)


class Gamma(Distribution):
    """Gamma(concentration, rate): density x^(a-1) exp(-rate x) rate^a / Gamma(a)."""

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = _params(concentration, rate)
        if validate_args is not False:
            _check(self.concentration > 0, "Gamma", "concentration", "positive", concentration)
            _check(self.rate > 0, "Gamma", "rate", "positive", rate)
        super().__init__(tuple(self.rate.shape))

    mean = property(lambda self: self.concentration / self.rate)
    variance = property(lambda self: self.concentration / (self.rate * self.rate))

    def sample(self, sample_shape=()):
        return _draw(lambda a, r: _standard_gamma(a) / r, self, sample_shape, self.concentration, self.rate)

    def log_prob(self, value):
        a, r = self.concentration, self.rate
        logx = _C.where(value > 0, value, 1.0).log()
        lp = a * r.log() + (a - 1) * logx - r * value - lgamma(a)
        return _C.where(value > 0, lp, -math.inf)

    def entropy(self):
        a = self.concentration
        return a - self.rate.log() + lgamma(a) + (1 - a) * digamma(a)


class Beta(Distribution):
    """Beta(concentration1, concentration0) on [0, 1]."""

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = _params(concentration1, concentration0)
        if validate_args is not False:
            _check(self.concentration1 > 0, "Beta", "concentration1", "positive", concentration1)
            _check(self.concentration0 > 0, "Beta", "concentration0", "positive", concentration0)
        super().__init__(tuple(self.concentration1.shape))

    mean = property(lambda self: self.concentration1 / (self.concentration1 + self.concentration0))

    @property
    def variance(self):
        a, b = self.concentration1, self.concentration0
        t = a + b
        return a * b / (t * t * (t + 1))

    def sample(self, sample_shape=()):
        def draw(a, b):
            x, y = _standard_gamma(a), _standard_gamma(b)
            return x / (x + y)
        return _draw(draw, self, sample_shape, self.concentration1, self.concentration0)

    def _log_beta(self):
        a, b = self.concentration1, self.concentration0
        return lgamma(a) + lgamma(b) - lgamma(a + b)

    def log_prob(self, value):
        a, b = self.concentration1, self.concentration0
        inside = (value >= 0) & (value <= 1)
        v = _C.where(inside, value, 0.5)
        lp = (a - 1) * v.log() + (b - 1) * (-v).log1p() - self._log_beta()
        return _C.where(inside, lp, -math.inf)

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        return self._log_beta() - (a - 1) * digamma(a) - (b - 1) * digamma(b) + (a + b - 2) * digamma(a + b)


class Dirichlet(Distribution):
    """Dirichlet(concentration): points of the simplex along the last dim."""

    def __init__(self, concentration, validate_args=None):
        c = _as_tensor(concentration)
        if c.ndim < 1:
            raise ValueError("Dirichlet: concentration must have at least 1 dim")
        if validate_args is not False:
            _check(c > 0, "Dirichlet", "concentration", "positive", "a tensor with an entry <= 0")
        self.concentration = c
        super().__init__(tuple(c.shape[:-1]), tuple(c.shape[-1:]))

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def variance(self):
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0 * c0 * (c0 + 1))

    def sample(self, sample_shape=()):
        def draw(c):
            g = _standard_gamma(c)
            return g / g.sum(-1, keepdims=True)
        return _draw(draw, self, sample_shape, self.concentration)

    def log_prob(self, value):
        c = self.concentration
        return ((c - 1) * value.log()).sum(-1) + lgamma(c.sum(-1)) - lgamma(c).sum(-1)

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        c0 = c.sum(-1)
        return lgamma(c).sum(-1) - lgamma(c0) + (c0 - k) * digamma(c0) - ((c - 1) * digamma(c)).sum(-1)


class Poisson(Distribution):
    """Counts with mean ``rate``; draws from NumPy's Poisson sampler seeded from dlcore's
    default generator (reproducible under dl.manual_seed)."""

    def __init__(self, rate, validate_args=None):
        (self.rate,) = _params(rate)
        if validate_args is not False:
            _check(self.rate >= 0, "Poisson", "rate", "non-negative", rate)
        super().__init__(tuple(self.rate.shape))

    mean = property(lambda self: self.rate)
    variance = property(lambda self: self.rate)

    def sample(self, sample_shape=()):
        rng = np.random.default_rng(int(randint(0, 2 ** 62, (1,)).item()))
        return _draw(lambda r: np.asarray(rng.poisson(r), dtype=np.float64), self, sample_shape, self.rate)

    def log_prob(self, value):
        r = self.rate
        safe = _C.where(r > 0, r, 1.0)
        lp = value * safe.log() - r - lgamma(value + 1)
        return _C.where(r > 0, lp, _C.where(value == 0, 0.0, -math.inf))


class Independent(Distribution):
    """``base`` with its last ``reinterpreted_batch_ndims`` batch dims taken as event dims:
    log_prob and entropy sum over them."""

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        b = base_distribution.batch_shape
        if not 0 <= reinterpreted_batch_ndims <= len(b):
            raise ValueError(f"Independent: reinterpreted_batch_ndims must be in [0, {len(b)}] for batch shape "
                             f"{b}, got {reinterpreted_batch_ndims}")
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, reinterpreted_batch_ndims
        cut = len(b) - reinterpreted_batch_ndims
        super().__init__(b[:cut], b[cut:] + base_distribution.event_shape)
        self.has_rsample = base_distribution.has_rsample

    mean = property(lambda self: self.base_dist.mean)
    variance = property(lambda self: self.base_dist.variance)

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def _sum(self, x):
        n = self.reinterpreted_batch_ndims
        return x.sum(tuple(range(x.ndim - n, x.ndim))) if n else x

    def log_prob(self, value):
        return self._sum(self.base_dist.log_prob(value))

    def entropy(self):
        return self._sum(self.base_dist.entropy())


_KL = {}


def register_kl(type_p, type_q):
    """Decorator: ``fn(p, q)`` computes KL(p || q) for p of type_p and q of type_q."""
    def wrap(fn):
        _KL[(type_p, type_q)] = fn
        return fn
    return wrap


def kl_divergence(p, q):
    """KL(p || q), elementwise over the batch."""
    for (tp, tq), fn in _KL.items():
        if isinstance(p, tp) and isinstance(q, tq):
            return fn(p, q)
    raise NotImplementedError(f"kl_divergence: no formula for {type(p).__name__} and {type(q).__name__}")


@register_kl(Normal, Normal)
def _kl_normal(p, q):
    r = p.scale / q.scale
    d = (p.loc - q.loc) / q.scale
    return 0.5 * (r * r + d * d - 1) - r.log()


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli(p, q):
    # p (logit_p - logit_q) + softplus(logit_q) - softplus(logit_p)
    return p.probs * (p.logits - q.logits) + _softplus(q.logits) - _softplus(p.logits)


@register_kl(Categorical, Categorical)
def _kl_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    return _C.where(p.probs == 0, 0.0, t).sum(-1)


@register_kl(Exponential, Exponential)
def _kl_exponential(p, q):
    r = q.rate / p.rate
    return r - r.log() - 1


@register_kl(Uniform, Uniform)
def _kl_uniform(p, q):
    inside = (q.low <= p.low) & (p.high <= q.high)
    return _C.where(inside, ((q.high - q.low) / (p.high - p.low)).log(), math.inf)


@register_kl(Laplace, Laplace)
def _kl_laplace(p, q):
    # log(b_q / b_p) + |mu_p - mu_q| / b_q + (b_p / b_q) exp(-|mu_p - mu_q| / b_p) - 1
    d = (p.loc - q.loc).abs()
    return (q.scale / p.scale).log() + d / q.scale + (p.scale / q.scale) * (-d / p.scale).exp() - 1


@register_kl(Independent, Independent)
def _kl_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independent distributions with different event dims")
    return p._sum(kl_divergence(p.base_dist, q.base_dist))


@register_kl(Gamma, Gamma)
def _kl_gamma(p, q):
    ap, bp, aq, bq = p.concentration, p.rate, q.concentration, q.rate
    return ((ap - aq) * digamma(ap) - lgamma(ap) + lgamma(aq) + aq * (bp.log() - bq.log())
            + ap * (bq - bp) / bp)


@register_kl(Beta, Beta)
def _kl_beta(p, q):
    a, b, c, d = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    return (q._log_beta() - p._log_beta() + (a - c) * digamma(a) + (b - d) * digamma(b)
            + (c - a + d - b) * digamma(a + b))


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet(p, q):
    a, b = p.concentration, q.concentration
    a0 = a.sum(-1)
    return (lgamma(a0) - lgamma(a).sum(-1) - lgamma(b.sum(-1)) + lgamma(b).sum(-1)
            + ((a - b) * (digamma(a) - digamma(a0).unsqueeze(-1))).sum(-1))


@register_kl(Poisson, Poisson)
def _kl_poisson(p, q):
    return p.rate * (p.rate.log() - q.rate.log()) - p.rate + q.rate


from ._more import (  # noqa: E402  (they build on the classes above)
    Cauchy,
    Chi2,
    Geometric,
    Gumbel,
    HalfNormal,
    LogNormal,
    MixtureSameFamily,
    MultivariateNormal,
    OneHotCategorical,
    StudentT,
)

from ._extra import (  # noqa: E402
    Binomial,
    ContinuousBernoulli,
    FisherSnedecor,
    HalfCauchy,
    Kumaraswamy,
    LowRankMultivariateNormal,
    Multinomial,
    NegativeBinomial,
    Pareto,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
    VonMises,
    Weibull,
)

from . import constraints, transforms  # noqa: E402
from .transformed import TransformedDistribution  # noqa: E402

__all__ += ["MultivariateNormal", "LogNormal", "HalfNormal", "Cauchy", "Gumbel", "Geometric", "OneHotCategorical",
            "Chi2", "StudentT", "MixtureSameFamily", "Weibull", "Pareto", "HalfCauchy", "Kumaraswamy",
            "FisherSnedecor", "VonMises", "ContinuousBernoulli", "RelaxedBernoulli", "RelaxedOneHotCategorical",
            "Binomial", "NegativeBinomial", "Multinomial", "LowRankMultivariateNormal", "TransformedDistribution",
            "constraints", "transforms"]
