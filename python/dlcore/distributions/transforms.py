"""Invertible maps between spaces, for TransformedDistribution, as
torch.distributions.transforms has them: ``y = t(x)``, ``x = t.inv(y)`` and
``t.log_abs_det_jacobian(x, y)`` (log |dy/dx|, summed over the transform's event dims),
with ``domain`` and ``codomain`` constraints. ``cache_size=1`` keeps the last (x, y) pair,
so ``t.inv(t(x))`` returns x itself (a TanhTransform sample near +-1 then keeps its exact
pre-image, where atanh would lose it). Composed of ops: gradients flow through each map.
"""
import math
import weakref

from .. import _C
from . import _softplus, constraints

Tensor = _C.Tensor


def _sum_rightmost(value, dims):
    for _ in range(dims):
        value = value.sum(-1)
    return value


class Transform:
    """The base: subclasses define _call (x -> y), _inverse (y -> x) and
    log_abs_det_jacobian; domain, codomain, bijective and sign describe the map."""

    bijective = False
    domain = constraints.real
    codomain = constraints.real

    def __init__(self, cache_size=0):
        if cache_size not in (0, 1):
            raise ValueError(f"{type(self).__name__}: cache_size must be 0 or 1, got {cache_size}")
        self._cache_size = cache_size
        self._cached = None  # (x, y)
        self._inv = None

    @property
    def event_dim(self):
        return max(self.domain.event_dim, self.codomain.event_dim)

    @property
    def sign(self):
        raise NotImplementedError(f"{type(self).__name__} has no constant sign")

    @property
    def inv(self):
        """The inverse map, a Transform (t.inv.inv is t)."""
        inv = self._inv() if self._inv is not None else None
        if inv is None:
            inv = _InverseTransform(self)
            self._inv = weakref.ref(inv)
        return inv

    def with_cache(self, cache_size=1):
        if cache_size == self._cache_size:
            return self
        raise NotImplementedError(f"{type(self).__name__}.with_cache is not implemented")

    def __call__(self, x):
        return self._through_cache(x, 0, self._call)

    def _inv_call(self, y):
        return self._through_cache(y, 1, self._inverse)

    def _through_cache(self, value, side, compute):
        """compute(value), or with the cache the other side of the last (x, y) pair when
        value is that pair's side `side` (0: x, 1: y); the new pair is cached."""
        if self._cache_size and self._cached is not None and self._cached[side] is value:
            return self._cached[1 - side]
        result = compute(value)
        if self._cache_size:
            self._cached = (value, result) if side == 0 else (result, value)
        return result

    def _call(self, x):
        raise NotImplementedError

    def _inverse(self, y):
        raise NotImplementedError(f"{type(self).__name__} is not invertible")

    def log_abs_det_jacobian(self, x, y):
        raise NotImplementedError

    def forward_shape(self, shape):
        return shape

    def inverse_shape(self, shape):
        return shape

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = object.__hash__

    def __repr__(self):
        return f"{type(self).__name__}()"


class _InverseTransform(Transform):
    """The inverse of a transform: calls its _inverse and negates its log-determinant."""

    def __init__(self, transform):
        super().__init__(cache_size=transform._cache_size)
        self._inv_of = transform

    domain = property(lambda self: self._inv_of.codomain)
    codomain = property(lambda self: self._inv_of.domain)
    bijective = property(lambda self: self._inv_of.bijective)
    sign = property(lambda self: self._inv_of.sign)

    @property
    def inv(self):
        return self._inv_of

    def __call__(self, x):
        return self._inv_of._inv_call(x)

    def log_abs_det_jacobian(self, x, y):
        return -self._inv_of.log_abs_det_jacobian(y, x)

    def forward_shape(self, shape):
        return self._inv_of.inverse_shape(shape)

    def inverse_shape(self, shape):
        return self._inv_of.forward_shape(shape)

    def __eq__(self, other):
        return isinstance(other, _InverseTransform) and self._inv_of == other._inv_of

    __hash__ = object.__hash__

    def __repr__(self):
        return f"_InverseTransform({self._inv_of!r})"


class _Elementwise(Transform):
    """A bijection applied to each value (event_dim 0); equal to another of its class."""

    bijective = True
    sign = 1

    def __eq__(self, other):
        return type(other) is type(self)

    __hash__ = object.__hash__


class ExpTransform(_Elementwise):
    """y = exp(x)."""

    codomain = constraints.positive

    def _call(self, x):
        return x.exp()

    def _inverse(self, y):
        return y.log()

    def log_abs_det_jacobian(self, x, y):
        return x


class SigmoidTransform(_Elementwise):
    """y = 1 / (1 + exp(-x))."""

    codomain = constraints.unit_interval

    def _call(self, x):
        return x.sigmoid()

    def _inverse(self, y):
        tiny = 1e-300 if y.dtype == _C.dtype.float64 else 1e-38
        y = y.clamp(tiny, None)
        return y.log() - (-y).log1p()

    def log_abs_det_jacobian(self, x, y):
        return -_softplus(-x) - _softplus(x)


class TanhTransform(_Elementwise):
    """y = tanh(x); log |dy/dx| = 2 (log 2 - x - softplus(-2 x)), stable for large |x|. With
    cache_size=1 (as a squashed-Gaussian policy uses it) the inverse of a sample is its
    exact pre-image."""

    codomain = constraints.interval(-1.0, 1.0)

    def _call(self, x):
        return x.tanh()

    def _inverse(self, y):
        return y.atanh()

    def log_abs_det_jacobian(self, x, y):
        return 2.0 * (math.log(2.0) - x - _softplus(-2.0 * x))


class SoftplusTransform(_Elementwise):
    """y = log(1 + exp(x))."""

    codomain = constraints.positive

    def _call(self, x):
        return _softplus(x)

    def _inverse(self, y):
        return y + (-(-y).expm1()).log()  # log(exp(y) - 1), without overflow

    def log_abs_det_jacobian(self, x, y):
        return -_softplus(-x)


class AbsTransform(Transform):
    """y = |x| (not injective: inv gives the non-negative pre-image)."""

    codomain = constraints.positive

    def _call(self, x):
        return x.abs()

    def _inverse(self, y):
        return y

    def __eq__(self, other):
        return isinstance(other, AbsTransform)

    __hash__ = object.__hash__


class PowerTransform(Transform):
    """y = x^exponent on the positive reals."""

    bijective = True
    domain = constraints.positive
    codomain = constraints.positive

    def __init__(self, exponent, cache_size=0):
        super().__init__(cache_size)
        self.exponent = exponent

    @property
    def sign(self):
        e = self.exponent
        return (1 if float(e.item() if isinstance(e, Tensor) else e) > 0 else -1)

    def _call(self, x):
        return x.pow(self.exponent)

    def _inverse(self, y):
        return y.pow(1 / self.exponent)

    def log_abs_det_jacobian(self, x, y):
        return (self.exponent * y / x).abs().log()

    def __repr__(self):
        return f"PowerTransform(exponent={self.exponent})"


class AffineTransform(Transform):
    """y = loc + scale x, over events of event_dim rightmost dims (the log-determinant
    summed over them)."""

    bijective = True

    def __init__(self, loc, scale, event_dim=0, cache_size=0):
        super().__init__(cache_size)
        self.loc, self.scale, self._event_dim = loc, scale, event_dim

    @property
    def domain(self):
        return constraints.real if self._event_dim == 0 else constraints.independent(constraints.real,
                                                                                       self._event_dim)

    codomain = domain

    @property
    def event_dim(self):
        return self._event_dim

    @property
    def sign(self):
        s = self.scale
        if isinstance(s, Tensor):
            if s.numel() != 1:
                raise NotImplementedError("AffineTransform.sign of a tensor scale with more than one value")
            s = s.item()
        return 1 if s > 0 else -1

    def _call(self, x):
        return self.loc + self.scale * x

    def _inverse(self, y):
        return (y - self.loc) / self.scale

    def log_abs_det_jacobian(self, x, y):
        scale = self.scale
        if isinstance(scale, Tensor):
            term = scale.abs().log().expand(tuple(x.shape)) if scale.ndim <= x.ndim else scale.abs().log()
        else:
            term = x * 0 + math.log(abs(scale))
        return _sum_rightmost(term, self._event_dim)

    def __repr__(self):
        return f"AffineTransform(loc={self.loc}, scale={self.scale}, event_dim={self._event_dim})"


class SoftmaxTransform(Transform):
    """y = softmax(x) over the last dim (not bijective: inv gives log y, one of the
    pre-images)."""

    domain = constraints.real_vector
    codomain = constraints.simplex

    def _call(self, x):
        return (x - x.amax(-1, keepdim=True)).exp() / (x - x.amax(-1, keepdim=True)).exp().sum(-1, keepdim=True)

    def _inverse(self, y):
        return y.log()

    def __eq__(self, other):
        return isinstance(other, SoftmaxTransform)

    __hash__ = object.__hash__


def _widened(constraint, event_dim):
    """constraint over events of event_dim dims (independent over the extra ones)."""
    extra = event_dim - constraint.event_dim
    return constraints.independent(constraint, extra) if extra > 0 else constraint


class ComposeTransform(Transform):
    """parts applied in order: y = parts[-1](...parts[0](x)); the log-determinants add,
    each summed over the dims by which the composite's events exceed its own."""

    def __init__(self, parts, cache_size=0):
        super().__init__(cache_size)
        self.parts = list(parts)
        for p in self.parts:
            if not isinstance(p, Transform):
                raise TypeError(f"ComposeTransform: parts must be Transforms, got {type(p).__name__}")

    bijective = property(lambda self: all(p.bijective for p in self.parts))

    @property
    def domain(self):
        """The first part's domain, over events as large as any later part needs: an
        elementwise map before one on vectors acts on vectors."""
        if not self.parts:
            return constraints.real
        event_dim = self.parts[-1].codomain.event_dim
        for p in reversed(self.parts):
            event_dim = max(event_dim + p.domain.event_dim - p.codomain.event_dim, p.domain.event_dim)
        return _widened(self.parts[0].domain, event_dim)

    @property
    def codomain(self):
        if not self.parts:
            return constraints.real
        event_dim = self.parts[0].domain.event_dim
        for p in self.parts:
            event_dim = max(event_dim + p.codomain.event_dim - p.domain.event_dim, p.codomain.event_dim)
        return _widened(self.parts[-1].codomain, event_dim)

    @property
    def event_dim(self):
        return max(self.domain.event_dim, self.codomain.event_dim)

    @property
    def sign(self):
        s = 1
        for p in self.parts:
            s *= p.sign
        return s

    def _call(self, x):
        for p in self.parts:
            x = p(x)
        return x

    def _inverse(self, y):
        for p in reversed(self.parts):
            y = p.inv(y)
        return y

    def log_abs_det_jacobian(self, x, y):
        if not self.parts:
            return x * 0
        total, event_dim = 0, self.event_dim
        for i, p in enumerate(self.parts):
            y_i = y if i == len(self.parts) - 1 else p(x)
            total = total + _sum_rightmost(p.log_abs_det_jacobian(x, y_i), event_dim - p.event_dim)
            x = y_i
        return total

    def forward_shape(self, shape):
        for p in self.parts:
            shape = p.forward_shape(shape)
        return shape

    def inverse_shape(self, shape):
        for p in reversed(self.parts):
            shape = p.inverse_shape(shape)
        return shape

    def __eq__(self, other):
        return isinstance(other, ComposeTransform) and self.parts == other.parts

    __hash__ = object.__hash__

    def __repr__(self):
        return "ComposeTransform(\n    " + ",\n    ".join(repr(p) for p in self.parts) + "\n)"


identity_transform = ComposeTransform([])
