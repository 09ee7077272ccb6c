"""More of ``torch.special`` for ``dlcore.special``: polygamma, the Hurwitz zeta, the
regularised incomplete gamma functions (gammainc, gammaincc), the modified Bessel
functions i0, i0e, i1, i1e, xlog1py and multigammaln.

Each is composed of dlcore's ops in float64 (series, recurrences and asymptotic
expansions written out as tensor arithmetic), so its gradient is that of the composition:
the function's derivative to the series' accuracy. Results come back in the input's
floating dtype (the default dtype for integer inputs).
"""
import math

from . import _C
from ._composite import broadcast_tensors
from .creation import tensor, zeros_like
from .special import _shifted, digamma, lgamma

_F64 = _C.dtype.float64

# B_2j / (2j)! for j = 1..10: the Euler-Maclaurin tail of the Hurwitz zeta
_B2J_OVER_FACT = [1 / 12, -1 / 720, 1 / 30240, -1 / 1209600, 1 / 47900160, -691 / 1307674368000,
                  1 / 74724249600, -3617 / 10670622842880000, 43867 / 5109094217170944000,
                  -174611 / 802857662698291200000]


def _floats(*args):
    """The arguments as float64 tensors of one broadcast shape, and the dtype of the result:
    float64 if a tensor argument is, else a floating tensor argument's, else the default."""
    dtypes = [a.dtype for a in args if isinstance(a, _C.Tensor) and a.dtype.is_floating_point]
    out = _F64 if _F64 in dtypes else (dtypes[0] if dtypes else _C._get_default_dtype())
    xs = [a.to(_F64) if isinstance(a, _C.Tensor) else tensor(float(a), dtype=_F64) for a in args]
    return (broadcast_tensors(*xs) if len(xs) > 1 else xs), out


def _zeta_positive(s, q, target):
    """sum_{k >= 0} (q + k)^-s for q whose terms below `target` are added one by one (q may
    be negative), then the Euler-Maclaurin tail from z >= target; s > 1 (a tensor)."""
    z, acc = _shifted(q, lambda v: v ** (-s), target)
    tail = z ** (1 - s) / (s - 1) + 0.5 * z ** (-s)
    rising = s  # (s)_(2j-1): s (s+1) ... (s+2j-2)
    power = z ** (-s - 1)
    inv2 = 1 / (z * z)
    for j, c in enumerate(_B2J_OVER_FACT):
        if j:
            rising = rising * (s + 2 * j - 1) * (s + 2 * j)
            power = power * inv2
        tail = tail + c * rising * power
    return acc + tail


def zeta(input, other):
    """The Hurwitz zeta function sum_{k >= 0} (other + k)^-input, for input > 1: +inf at
    input = 1 and where other is 0 or a negative integer, NaN for input < 1 and for a
    negative non-integer other with a non-integer input (as PyTorch)."""
    (s, q), out_dtype = _floats(input, other)
    valid = (s > 1) & ((q > 0) | ((q != q.floor()) & (s == s.floor())))
    safe_s = _C.where(valid, s, 2.0)
    safe_q = _C.where(valid, q, 1.0)
    # The tail is accurate to double precision from z >= 10 + s (terms fall like (s/2 pi z)^2j).
    target = 10.0 + float(safe_s.detach().max()) if safe_s.numel() else 10.0
    value = _zeta_positive(safe_s, safe_q, min(target, 60.0))
    pole = (s == 1) | ((q <= 0) & (q == q.floor()) & (s > 1))
    return _C.where(pole, math.inf, _C.where(valid, value, math.nan)).to(out_dtype)


def polygamma(n, input):
    """The n-th derivative of digamma: digamma for n = 0, else (-1)^(n+1) n! zeta(n + 1, x);
    at 0 and the negative integers +inf for odd n, -inf for even n."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative int, got {n!r}")
    if n == 0:
        return digamma(input)
    (x,), out_dtype = _floats(input)
    pole = (x <= 0) & (x == x.floor())
    safe = _C.where(pole, 1.0, x)
    s = zeros_like(x) + float(n + 1)
    value = _zeta_positive(s, safe, 10.0 + n) * ((-1) ** (n + 1) * math.factorial(n))
    return _C.where(pole, math.inf if n % 2 else -math.inf, value).to(out_dtype)


def multigammaln(input, p):
    """log of the multivariate gamma function of dimension p (PyTorch's mvlgamma)."""
    from ._torch_names import mvlgamma

    return mvlgamma(input, p)


def xlog1py(input, other):
    """input * log1p(other), 0 where input is 0 (unless other is NaN), as xlogy."""
    (x, y), out_dtype = _floats(input, other)
    value = x * _C.log1p(_C.where((x == 0) & (y == y), 0.0, y))
    return _C.where((x == 0) & (y == y), 0.0, value).to(out_dtype)


# ---- the regularised incomplete gamma functions


def _gamma_series(a, x, iters):
    """P(a, x) = x^a e^-x / Gamma(a + 1) sum_n x^n / ((a + 1) ... (a + n)) (for x < a + 1),
    and whether each lane's series converged within iters terms."""
    term = x * 0 + 1
    total = term
    for k in range(1, iters + 1):
        term = term * x / (a + k)
        total = total + term
        if k % 16 == 0 and float((term / total).detach().abs().max()) < 1e-17:
            break
    converged = (term / total).detach().abs() < 1e-15
    return (a * x.log() - x - lgamma(a + 1)).exp() * total, converged


def _gamma_fraction(a, x, iters):
    """Q(a, x) = x^a e^-x / Gamma(a) / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...)) (for
    x >= a + 1), the continued fraction evaluated by the modified Lentz method, and whether
    each lane converged within iters steps."""
    tiny = 1e-300
    b = x + 1 - a
    c = x * 0 + 1 / tiny
    d = 1 / b
    h = d
    delta = h
    for i in range(1, iters + 1):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = _C.where(d.abs() < tiny, tiny, d)
        c = b + an / c
        c = _C.where(c.abs() < tiny, tiny, c)
        d = 1 / d
        delta = d * c
        h = h * delta
        if i % 16 == 0 and float((delta - 1).detach().abs().max()) < 1e-16:
            break
    converged = (delta - 1).detach().abs() < 1e-14
    return (a * x.log() - x - lgamma(a)).exp() * h, converged


_MAX_TERMS = 100000


def _incomplete_gamma(a, x, upper):
    """P(a, x) (upper=False) or Q(a, x), with PyTorch's values at the edges: NaN for a
    negative or NaN argument and for a = x = 0 or a = x = inf; P = 1 for a = 0 or x = inf,
    P = 0 for x = 0 or a = inf."""
    (a, x), out_dtype = _floats(a, x)
    if a.numel() == 0:
        return a.to(out_dtype)
    bad = (a < 0) | (x < 0) | (a != a) | (x != x) | ((a == 0) & (x == 0)) | ((a == math.inf) & (x == math.inf))
    p_one = ~bad & ((a == 0) | (x == math.inf))
    p_zero = ~bad & ~p_one & ((x == 0) | (a == math.inf))
    regular = ~bad & ~p_one & ~p_zero
    sa = _C.where(regular, a, 1.0)
    sx = _C.where(regular, x, 1.0)
    use_series = sx < sa + 1
    # Both methods need O(sqrt(max(a, x))) terms (terms near x = a fall like exp(-k^2 / 2a)).
    largest = float(_C.maximum(sa, sx).detach().max())
    iters = int(min(_MAX_TERMS, 64 + 12 * math.sqrt(largest)))
    # each method on its own region (the other lanes get a harmless argument)
    lower, lower_ok = _gamma_series(sa, _C.where(use_series, sx, 0.5 * (sa + 1)), iters)
    upper_q, upper_ok = _gamma_fraction(sa, _C.where(use_series, sa + 1, sx), iters)
    # a lane beyond _MAX_TERMS (a or x past about 7e7 near each other) gets NaN, not a guess
    regular = regular & _C.where(use_series, lower_ok, upper_ok)
    if upper:
        value, one, zero = _C.where(use_series, 1 - lower, upper_q), 0.0, 1.0
    else:
        value, one, zero = _C.where(use_series, lower, 1 - upper_q), 1.0, 0.0
    out = _C.where(regular, value, _C.where(p_one, one, _C.where(p_zero, zero, math.nan)))
    return out.to(out_dtype)


def gammainc(input, other):
    """The regularised lower incomplete gamma function P(a, x) = gamma(a, x) / Gamma(a), a =
    input, x = other (a series below a + 1, a continued fraction above). NaN for negative
    arguments; P(a, 0) = 0, P(a, inf) = 1, P(0, x) = 1."""
    return _incomplete_gamma(input, other, False)


def gammaincc(input, other):
    """The regularised upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return _incomplete_gamma(input, other, True)


# ---- modified Bessel functions of the first kind, orders 0 and 1

_ASYMPTOTIC_FROM = 30.0


def _bessel_series(x, order):
    """I_order(x) = (x/2)^order sum_k (x^2/4)^k / (k! (k + order)!) for |x| <= 30 (terms
    peak near k = |x|/2; 80 of them reach double precision at 30)."""
    q = x * x / 4
    term = x * 0 + 1 if order == 0 else x / 2
    total = term
    for k in range(1, 80):
        term = term * q / (k * (k + order))
        total = total + term
    return total


def _bessel_scaled_asymptotic(x, order):
    """e^-x I_order(x) for x >= 30: (2 pi x)^-1/2 sum_k (-1)^k prod_j (mu - (2j-1)^2) /
    (k! (8x)^k), mu = 4 order^2 (the expansion diverges eventually; 18 terms are below
    1e-17 at x = 30)."""
    mu = 4.0 * order * order
    term = x * 0 + 1
    total = term
    for k in range(1, 18):
        term = term * (-(mu - (2 * k - 1) ** 2)) / (k * 8 * x)
        total = total + term
    return total / (2 * math.pi * x).sqrt()


def _bessel(input, order, scaled):
    (x,), out_dtype = _floats(input)
    a = x.abs()
    big = a > _ASYMPTOTIC_FROM
    small_x = _C.where(big, 0.0, x)
    big_a = _C.where(big, a, _ASYMPTOTIC_FROM + 1)
    series = _bessel_series(small_x, order)  # odd in x for order 1
    if scaled:
        series = series * (-small_x.abs()).exp()
    asym = _bessel_scaled_asymptotic(big_a, order)
    if not scaled:
        asym = asym * big_a.exp()
    if order == 1:
        asym = asym * x.sign()
    out = _C.where(big, asym, series)
    # +-inf: i0 = inf, i1 = +-inf, the scaled ones 0 (the expansion would give inf * 0)
    at_inf = x.isinf()
    limit = 0.0 if scaled else math.inf
    edge = x.sign() * limit if order == 1 else zeros_like(x) + limit
    return _C.where(at_inf, edge, out).to(out_dtype)


def i0(input):
    """The modified Bessel function of the first kind of order 0."""
    return _bessel(input, 0, False)


def i0e(input):
    """exp(-|x|) i0(x), which does not overflow."""
    return _bessel(input, 0, True)


def i1(input):
    """The modified Bessel function of the first kind of order 1 (odd in x)."""
    return _bessel(input, 1, False)


def i1e(input):
    """exp(-|x|) i1(x)."""
    return _bessel(input, 1, True)

