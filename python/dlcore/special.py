"""``dlcore.special``, PyTorch's ``torch.special`` names for functions dlcore has (and a few
composed here): expit, logit, erf, erfc, exp2, expm1, log1p, xlogy, sinc, round,
logsumexp, softmax, log_softmax, entr, ndtr, log_ndtr, erfinv, gammaln (lgamma), digamma
(psi); and (_special_more.py) polygamma, zeta, gammainc, gammaincc, i0, i0e, i1, i1e,
xlog1py, multigammaln. Their gradients are those of the ops they are made of."""
import math

from . import _C
from ._arithmetic import logit, sinc, xlogy  # noqa: F401
from .creation import zeros_like

expit = _C.sigmoid
erf = _C.erf
erfc = _C.erfc
exp2 = _C.exp2
expm1 = _C.expm1
log1p = _C.log1p
round = _C.round  # noqa: A001
logsumexp = _C.logsumexp


def softmax(input, dim, dtype=None):
    from .nn.functional import softmax as _softmax
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    from .nn.functional import log_softmax as _log_softmax
    return _log_softmax(input, dim, dtype=dtype)


def entr(input):
    """-x log x elementwise: 0 at 0, -inf for x < 0 (NaN stays NaN)."""
    x = input if input.dtype.is_floating_point else input.to(_C._get_default_dtype())
    positive = x > 0
    value = -x * _C.where(positive, x, 1.0).log()
    return _C.where(x < 0, -math.inf, _C.where(positive, value, _C.where(x == 0, 0.0, x)))


def ndtr(input):
    """The standard normal CDF, erfc(-x / sqrt 2) / 2 (accurate in the lower tail)."""
    x = input if input.dtype.is_floating_point else input.to(_C._get_default_dtype())
    return _C.erfc(x * (-1.0 / math.sqrt(2.0))) * 0.5


def log_ndtr(input):
    """log of the standard normal CDF: log1p(-ndtr(-x)) above 0 (relative accuracy where the
    CDF is near 1), log(ndtr(x)) down to x = -10 (float32) or -37 (float64), and below the
    asymptotic series -x^2/2 - log(-x sqrt(2 pi)) + log(1 - 1/x^2 + 3/x^4 - 15/x^6 + 105/x^8),
    which stays accurate where ndtr underflows (its next term is under 1e-6 of the value at
    -10, 1e-13 at -37)."""
    x = input if input.dtype.is_floating_point else input.to(_C._get_default_dtype())
    edge = -37.0 if x.dtype == _C.dtype.float64 else -10.0
    far = x < edge
    xs = _C.where(far, x, edge)  # the series' argument, kept away from 0
    inv2 = 1.0 / (xs * xs)
    tail = 1 - inv2 + 3 * inv2 ** 2 - 15 * inv2 ** 3 + 105 * inv2 ** 4
    series = -0.5 * xs * xs - (-xs * math.sqrt(2 * math.pi)).log() + tail.log()
    # Each branch gets an argument where it is finite (a branch not taken must not give
    # inf or NaN, whose gradient times 0 would be NaN).
    upper = x > 0
    xu = _C.where(upper, x, 1.0)
    xl = _C.where(upper | far, -1.0, x)
    near = _C.where(upper, (-ndtr(-xu)).log1p(), ndtr(xl).log())
    return _C.where(far, series, near)


def _erfinv_guess(a, w):
    """Giles' single-precision approximation of erfinv(a) for a in [0, 1) ("Approximating
    the erfinv function", GPU Computing Gems, 2011), w = -log((1 - a)(1 + a)); relative error
    about 1e-7 within float32's range, a rough start beyond it; erfinv refines it."""
    central, tail = w - 2.5, w.clamp(5.0, None).sqrt() - 3.0
    p = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p = c + p * central
    q = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        q = c + q * tail
    return _C.where(w < 5.0, p, q) * a


def erfinv(input):
    """The inverse of erf on (-1, 1): +-inf at +-1, NaN beyond. An initial approximation
    refined by three Newton steps: on erf(y) = |x| below 1/2, and above on log erfc(y) =
    log(1 - |x|), nearly linear in y far in the tail (erf(y) - |x| would cancel there, and
    erfc alone is too steep for Newton from a rough start). The gradient is that of the
    last step, sqrt(pi)/2 exp(y^2) to within the residual."""
    x = input if input.dtype.is_floating_point else input.to(_C._get_default_dtype())
    a = x.abs()
    inside = a < 1
    s = _C.where(inside, a, 0.5)  # a finite stand-in outside (-1, 1): no inf or NaN gradients
    y = _erfinv_guess(s, -((1 - s) * (1 + s)).log())
    low = s < 0.5
    log_rest = (1 - s).log()
    half_sqrt_pi = math.sqrt(math.pi) / 2
    for _ in range(3):
        e = _C.erfc(y)
        step = _C.where(low, s - _C.erf(y), (e.log() - log_rest) * e)
        y = y + step * half_sqrt_pi * (y * y).exp()
    edge = x.detach().sign() * math.inf  # +-inf at +-1, carrying no gradient
    return _C.where(inside, y * x.sign(), _C.where(a == 1, edge, math.nan))


_C.Tensor.erfinv = erfinv


_SHIFT = 10.0  # the series below hold from here with float64's accuracy


_MOST_NEGATIVE = 1e4


def _shifted(x, per_step, target=_SHIFT):
    """x moved up to at least target by unit steps, and the sum of per_step(z) over the
    values z it passed (one step per unit the smallest finite value lies below target;
    values below -1e4 raise ValueError rather than take that many steps)."""
    finite = x.detach().isfinite()
    lowest = float(_C.where(finite, x.detach(), target).min()) if x.numel() else target
    if lowest < -_MOST_NEGATIVE:
        raise ValueError(f"zeta/polygamma: arguments below -{_MOST_NEGATIVE:g} are not supported, got {lowest:g}")
    z, acc = x, zeros_like(x)
    for _ in range(max(0, math.ceil(target - lowest))):
        small = z < target
        acc = acc + _C.where(small, per_step(_C.where(small, z, 1.0)), 0.0)
        z = _C.where(small, z + 1, z)
    return z, acc


def _positive_lgamma(x):
    z, logs = _shifted(x, lambda v: v.log())
    inv, inv2 = 1 / z, 1 / (z * z)
    # B_2k / (2k (2k - 1) z^(2k - 1)) for k = 1..7; the next term is below 1e-17 at z = 10
    series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680 - inv2 * (
        1 / 1188 - inv2 * (691 / 360360 - inv2 / 156))))))
    return (z - 0.5) * z.log() - z + 0.5 * math.log(2 * math.pi) + series - logs


def lgamma(input):
    """log |Gamma(x)|: the Stirling series from 10 up, the recurrence below it, and the
    reflection log(pi / |sin(pi x)|) - lgamma(1 - x) for x < 1/2; +inf at 0 and the negative
    integers. Its gradient is that of the composition: digamma to the series' accuracy."""
    out_dtype = input.dtype if input.dtype.is_floating_point else _C._get_default_dtype()
    x = input.to(_C.dtype.float64)  # float32 would lose ~40 ulp to the series' cancellation
    left = x < 0.5
    pos = _C.where(left, 1 - x, x)  # >= 1/2 on both sides
    value = _positive_lgamma(pos)
    s = _C.where(left, (math.pi * x).sin().abs(), 1.0)
    reflected = math.log(math.pi) - s.log() - value
    pole = left & (x == x.floor())
    return _C.where(pole, math.inf, _C.where(left, reflected, value)).to(out_dtype)


def digamma(input):
    """The derivative of lgamma: the asymptotic series from 10 up, the recurrence
    psi(x) = psi(x + 1) - 1/x below, the reflection psi(x) = psi(1 - x) - pi cot(pi x) for
    x < 1/2; NaN at 0 and the negative integers."""
    out_dtype = input.dtype if input.dtype.is_floating_point else _C._get_default_dtype()
    x = input.to(_C.dtype.float64)
    left = x < 0.5
    pos = _C.where(left, 1 - x, x)
    z, recips = _shifted(pos, lambda v: 1 / v)
    inv2 = 1 / (z * z)
    # B_2k / (2k z^(2k)) for k = 1..7; the next term is below 1e-16 at z = 10
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (
        1 / 132 - inv2 * (691 / 32760 - inv2 / 12))))))
    value = z.log() - 0.5 / z - series - recips
    angle = _C.where(left, math.pi * x, 0.5)
    reflected = value - math.pi * angle.cos() / angle.sin()
    pole = left & (x == x.floor())
    return _C.where(pole, math.nan, _C.where(left, reflected, value)).to(out_dtype)


gammaln = lgamma
psi = digamma
_C.Tensor.lgamma = lgamma
_C.Tensor.digamma = digamma

from ._special_more import (  # noqa: F401, E402
    gammainc,
    gammaincc,
    i0,
    i0e,
    i1,
    i1e,
    multigammaln,
    polygamma,
    xlog1py,
    zeta,
)

_C.Tensor.i0 = i0
_C.Tensor.polygamma = lambda self, n: polygamma(n, self)
_C.Tensor.igamma = gammainc
_C.Tensor.igammac = gammaincc

