"""More of dlcore.distributions (imported into it): ``MultivariateNormal``, ``LogNormal``,
``HalfNormal``, ``Cauchy``, ``Gumbel``, ``Geometric``, ``OneHotCategorical``, ``StudentT``,
``Chi2``, ``MixtureSameFamily``, and their KL divergences where a closed form is standard
(MultivariateNormal, LogNormal, HalfNormal, Geometric... as registered below)."""
import math

from .. import _C
from .._composite import broadcast_shapes
from ..creation import rand, randn
from . import Categorical, Distribution, Gamma, Normal, _as_tensor, _check, _params, register_kl
from ..grad_mode import no_grad
from ..linalg import cholesky, inv, solve_triangular
from ..special import digamma, lgamma


class MultivariateNormal(Distribution):
    """N(loc, Sigma) over vectors of loc's last size; Sigma given as covariance_matrix,
    precision_matrix or scale_tril (its lower Cholesky factor L, Sigma = L L^T; exactly one).
    rsample is loc + L eps; log_prob solves with L (no inverse formed)."""

    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise ValueError("MultivariateNormal: give exactly one of covariance_matrix, precision_matrix and "
                             "scale_tril")
        loc = _as_tensor(loc)
        if loc.ndim < 1:
            raise ValueError("MultivariateNormal: loc must have at least one dim (the event's size)")
        m = _as_tensor(given[0], loc)
        k = loc.shape[-1]
        if m.ndim < 2 or tuple(m.shape[-2:]) != (k, k):
            raise ValueError(f"MultivariateNormal: the matrix must be (..., {k}, {k}) for loc {tuple(loc.shape)}, "
                             f"got {tuple(m.shape)}")
        if scale_tril is not None:
            L = m.tril()
            if validate_args is not False:
                _check(L.diagonal(0, -2, -1) > 0, "MultivariateNormal", "scale_tril",
                       "lower triangular with a positive diagonal", "a non-positive diagonal")
        elif covariance_matrix is not None:
            L = cholesky(m)  # raises LinAlgError where it is not positive-definite
        else:
            L = cholesky(inv(m))  # Sigma = P^-1
        batch = tuple(broadcast_shapes(tuple(loc.shape[:-1]), tuple(L.shape[:-2])))
        self.loc = loc.expand(batch + (k,))
        self._unbroadcasted_scale_tril = L
        self.scale_tril = L.expand(batch + (k, k))
        super().__init__(batch, (k,))

    @property
    def covariance_matrix(self):
        return self.scale_tril @ self.scale_tril.transpose(-2, -1)

    @property
    def precision_matrix(self):
        return inv(self.covariance_matrix)

    mean = property(lambda self: self.loc)
    mode = property(lambda self: self.loc)
    variance = property(lambda self: (self.scale_tril ** 2).sum(-1))

    def rsample(self, sample_shape=()):
        eps = randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + (self.scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def _half_log_det(self):
        return self._unbroadcasted_scale_tril.diagonal(0, -2, -1).log().sum(-1)

    def log_prob(self, value):
        diff = _as_tensor(value, self.loc) - self.loc
        shape = tuple(diff.shape[:-1])
        L = self._unbroadcasted_scale_tril.expand(shape + tuple(self._event_shape) * 2)
        z = solve_triangular(L, diff.unsqueeze(-1), upper=False).squeeze(-1)
        k = self._event_shape[0]
        return -0.5 * (z * z).sum(-1) - 0.5 * k * math.log(2 * math.pi) - self._half_log_det()

    def entropy(self):
        k = self._event_shape[0]
        h = 0.5 * k * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return h.expand(self._batch_shape) if self._batch_shape else h


class LogNormal(Distribution):
    """exp(X) for X ~ Normal(loc, scale)."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.base = Normal(loc, scale, validate_args)
        self.loc, self.scale = self.base.loc, self.base.scale
        super().__init__(self.base.batch_shape)

    mean = property(lambda self: (self.loc + self.scale ** 2 / 2).exp())
    mode = property(lambda self: (self.loc - self.scale ** 2).exp())
    variance = property(lambda self: (self.scale ** 2).expm1() * (2 * self.loc + self.scale ** 2).exp())

    def rsample(self, sample_shape=()):
        return self.base.rsample(sample_shape).exp()

    def log_prob(self, value):
        y = _as_tensor(value, self.loc)
        return self.base.log_prob(y.log()) - y.log()

    def entropy(self):
        return self.base.entropy() + self.loc


class HalfNormal(Distribution):
    """|X| for X ~ Normal(0, scale)."""

    has_rsample = True

    def __init__(self, scale, validate_args=None):
        (self.scale,) = _params(scale)
        if validate_args is not False:
            _check(self.scale > 0, "HalfNormal", "scale", "positive", scale)
        super().__init__(tuple(self.scale.shape))

    mean = property(lambda self: self.scale * math.sqrt(2 / math.pi))
    variance = property(lambda self: self.scale ** 2 * (1 - 2 / math.pi))

    def rsample(self, sample_shape=()):
        return (randn(*self._extended_shape(sample_shape), dtype=self.scale.dtype) * self.scale).abs()

    def log_prob(self, value):
        v = _as_tensor(value, self.scale)
        lp = 0.5 * math.log(2 / math.pi) - self.scale.log() - 0.5 * (v / self.scale) ** 2
        return _C.where(v >= 0, lp, -math.inf)

    def entropy(self):
        return 0.5 * math.log(math.pi * math.e / 2) + self.scale.log()


class Cauchy(Distribution):
    """The Cauchy (Lorentz) distribution: loc + scale tan(pi (U - 1/2))."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _params(loc, scale)
        if validate_args is not False:
            _check(self.scale > 0, "Cauchy", "scale", "positive", scale)
        super().__init__(tuple(self.loc.shape))

    mean = property(lambda self: self.loc * math.nan)
    variance = property(lambda self: self.loc * 0 + math.inf)

    def rsample(self, sample_shape=()):
        u = rand(*self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + self.scale * (math.pi * (u - 0.5)).tan()

    def log_prob(self, value):
        z = (_as_tensor(value, self.loc) - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (z * z).log1p()

    def cdf(self, value):
        return ((_as_tensor(value, self.loc) - self.loc) / self.scale).atan() / math.pi + 0.5

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()


class Gumbel(Distribution):
    """The Gumbel (type-I extreme value) distribution: loc - scale log(-log U)."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _params(loc, scale)
        if validate_args is not False:
            _check(self.scale > 0, "Gumbel", "scale", "positive", scale)
        super().__init__(tuple(self.loc.shape))

    mean = property(lambda self: self.loc + self.scale * 0.5772156649015329)
    variance = property(lambda self: (math.pi ** 2 / 6) * self.scale ** 2)

    def rsample(self, sample_shape=()):
        tiny = 1e-300 if self.loc.dtype == _C.dtype.float64 else 1e-38
        u = rand(*self._extended_shape(sample_shape), dtype=self.loc.dtype).clamp(tiny, 1 - 1e-7)
        return self.loc - self.scale * (-(u.log())).log()

    def log_prob(self, value):
        z = (_as_tensor(value, self.loc) - self.loc) / self.scale
        return -(self.scale.log() + z + (-z).exp())

    def entropy(self):
        return self.scale.log() + 1 + 0.5772156649015329


class Geometric(Distribution):
    """The number of failures before the first success of Bernoulli(probs) trials
    (0, 1, 2, ...); give probs or logits."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Geometric: give exactly one of probs and logits")
        if probs is not None:
            (self.probs,) = _params(probs)
            if validate_args is not False:
                _check((self.probs > 0) & (self.probs <= 1), "Geometric", "probs", "in (0, 1]", probs)
        else:
            (logits,) = _params(logits)
            self.probs = logits.sigmoid()
        super().__init__(tuple(self.probs.shape))

    mean = property(lambda self: 1 / self.probs - 1)
    variance = property(lambda self: (1 / self.probs - 1) / self.probs)

    def sample(self, sample_shape=()):
        with no_grad():
            u = rand(*self._extended_shape(sample_shape), dtype=self.probs.dtype)
            tiny = 1e-300 if self.probs.dtype == _C.dtype.float64 else 1e-38
            p = self.probs.detach()
            return (u.clamp(tiny, None).log() / (-p).log1p()).floor()

    def log_prob(self, value):
        v = _as_tensor(value, self.probs)
        p = self.probs
        # k log(1 - p) + log p, with 0 log 0 = 0 where p = 1
        return _C.where((p == 1) & (v == 0), 0.0, v * (-p).log1p()) + p.log()

    def entropy(self):
        p = self.probs
        q = 1 - p
        return -(_C.where(q > 0, q * q.clamp(1e-300, None).log(), 0.0) + p * p.log()) / p


class OneHotCategorical(Distribution):
    """Categorical draws as one-hot vectors (event shape (K,))."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits, validate_args)
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        k = self._categorical._num_events
        super().__init__(self._categorical.batch_shape, (k,))

    mean = property(lambda self: self.probs)
    variance = property(lambda self: self.probs * (1 - self.probs))

    def sample(self, sample_shape=()):
        from ..nn.functional import one_hot

        idx = self._categorical.sample(sample_shape)
        return one_hot(idx, self._event_shape[0]).to(self.probs.dtype)

    def log_prob(self, value):
        v = _as_tensor(value, self.probs)
        return self._categorical.log_prob(v.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()


class Chi2(Gamma):
    """The chi-squared distribution with df degrees of freedom: Gamma(df / 2, 1 / 2)."""

    def __init__(self, df, validate_args=None):
        (self.df,) = _params(df)
        super().__init__(self.df / 2, self.df * 0 + 0.5, validate_args)


class StudentT(Distribution):
    """loc + scale T for T with df degrees of freedom: Normal / sqrt(Chi2(df) / df)."""

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = _params(df, loc, scale)
        if validate_args is not False:
            _check(self.df > 0, "StudentT", "df", "positive", df)
            _check(self.scale > 0, "StudentT", "scale", "positive", scale)
        super().__init__(tuple(self.df.shape))

    mean = property(lambda self: _C.where(self.df > 1, self.loc, math.nan))
    variance = property(lambda self: _C.where(self.df > 2, self.scale ** 2 * self.df / (self.df - 2),
                                              _C.where(self.df > 1, math.inf, math.nan)))

    def sample(self, sample_shape=()):
        with no_grad():
            shape = self._extended_shape(sample_shape)
            chi2 = Chi2(self.df.detach().expand(shape).contiguous()).sample()
            z = randn(*shape, dtype=self.df.dtype)
            return self.loc.detach() + self.scale.detach() * z * (self.df.detach() / chi2).sqrt()

    def log_prob(self, value):
        y = (_as_tensor(value, self.loc) - self.loc) / self.scale
        d = self.df
        return (lgamma((d + 1) / 2) - lgamma(d / 2) - 0.5 * (d * math.pi).log() - self.scale.log()
                - (d + 1) / 2 * (y * y / d).log1p())

    def entropy(self):
        d = self.df
        lbeta = lgamma(d / 2) + lgamma(self.df * 0 + 0.5) - lgamma((d + 1) / 2)
        return (self.scale.log() + (d + 1) / 2 * (digamma((d + 1) / 2) - digamma(d / 2))
                + 0.5 * d.log() + lbeta)


class MixtureSameFamily(Distribution):
    """A mixture: pick a component by mixture_distribution (a Categorical over the last
    batch dim of component_distribution), then draw from it."""

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError("MixtureSameFamily: mixture_distribution must be a Categorical")
        cb = component_distribution.batch_shape
        if not cb or cb[-1] != mixture_distribution._num_events:
            raise ValueError(f"MixtureSameFamily: the component distribution's batch shape {cb} must end with the "
                             f"mixture's {mixture_distribution._num_events} components")
        self.mixture_distribution, self.component_distribution = mixture_distribution, component_distribution
        super().__init__(cb[:-1], component_distribution.event_shape)

    @property
    def mean(self):
        w = self.mixture_distribution.probs
        m = self.component_distribution.mean
        for _ in self._event_shape:
            w = w.unsqueeze(-1)
        return (w * m).sum(-1 - len(self._event_shape))

    def log_prob(self, value):
        v = _as_tensor(value)
        ev = len(self._event_shape)
        v = v.unsqueeze(-1 - ev)  # a components dim, before the event dims
        lp = self.component_distribution.log_prob(v)
        return (lp + self.mixture_distribution.logits).logsumexp(-1)

    def sample(self, sample_shape=()):
        with no_grad():
            if isinstance(sample_shape, int):
                sample_shape = (sample_shape,)
            idx = self.mixture_distribution.sample(sample_shape)  # sample + batch
            comps = self.component_distribution.sample(sample_shape)  # sample + batch + (K,) + event
            ev = len(self._event_shape)
            g = idx
            for _ in range(ev + 1):
                g = g.unsqueeze(-1)
            g = g.expand(tuple(idx.shape) + (1,) + tuple(self._event_shape))
            return comps.gather(len(idx.shape), g).squeeze(len(idx.shape))


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn(p, q):
    # (tr(Sq^-1 Sp) + (mq - mp)^T Sq^-1 (mq - mp) - k + log det Sq - log det Sp) / 2
    k = p.event_shape[0]
    shape = tuple(broadcast_shapes(p.batch_shape, q.batch_shape))
    Lq = q._unbroadcasted_scale_tril.expand(shape + (k, k))
    Lp = p._unbroadcasted_scale_tril.expand(shape + (k, k))
    M = solve_triangular(Lq, Lp, upper=False)
    diff = (q.loc - p.loc).expand(shape + (k,)).unsqueeze(-1)
    z = solve_triangular(Lq, diff, upper=False).squeeze(-1)
    return 0.5 * ((M * M).sum((-2, -1)) + (z * z).sum(-1) - k) + q._half_log_det() - p._half_log_det()


@register_kl(LogNormal, LogNormal)
def _kl_lognormal(p, q):
    from . import kl_divergence

    return kl_divergence(p.base, q.base)


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal(p, q):
    r = p.scale / q.scale
    return 0.5 * (r * r - 1) - r.log()


@register_kl(Gumbel, Gumbel)
def _kl_gumbel(p, q):
    # with c = scale_p / scale_q and d = (loc_p - loc_q) / scale_q:
    # log(scale_q / scale_p) - gamma + c gamma - 1 + d + exp(-d) Gamma(1 + c)
    g = 0.5772156649015329
    c = p.scale / q.scale
    d = (p.loc - q.loc) / q.scale
    return (1 / c).log() + g * (c - 1) - 1 + d + (-d + lgamma(1 + c)).exp()


@register_kl(Geometric, Geometric)
def _kl_geometric(p, q):
    # E_p[log q_k] = log q + E_p[k] log(1 - q), E_p[k] = (1 - p) / p
    return -p.entropy() - q.probs.log() - (1 - p.probs) / p.probs * (-q.probs).log1p()


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehot(p, q):
    from . import kl_divergence

    return kl_divergence(p._categorical, q._categorical)


__all__ = ["MultivariateNormal", "LogNormal", "HalfNormal", "Cauchy", "Gumbel", "Geometric", "OneHotCategorical",
           "Chi2", "StudentT", "MixtureSameFamily"]
