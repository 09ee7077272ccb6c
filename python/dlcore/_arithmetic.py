"""Arithmetic helpers with PyTorch's names, composed from core ops (their gradients are the
ops'): addmm, addcmul, addcdiv, lerp (and the in-place Tensor forms that EMA and optimizer
code uses), clamp_min/clamp_max, nan_to_num, atan2, logaddexp, nanmean, nansum, std_mean,
var_mean, and the elementwise xlogy, sinc, hypot, logit, heaviside, copysign, signbit, frac,
deg2rad, rad2deg, float_power, true_divide, positive and negative."""
import math

import numpy as np

from . import _C
from .creation import full

Tensor = _C.Tensor


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta input + alpha (mat1 @ mat2), input broadcast to the product's shape."""
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"addmm: expected 2-D mat1 and mat2, got shapes {tuple(mat1.shape)} and "
                         f"{tuple(mat2.shape)}")
    prod = _C.matmul(mat1, mat2)
    prod = prod if alpha == 1 else prod * alpha
    if beta == 0:  # input is not read (a NaN in it does not propagate), as in PyTorch
        _C.broadcast_to(input, tuple(prod.shape))  # but its shape must fit
        return prod
    return prod + (input if beta == 1 else input * beta)


def addcmul(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 / tensor2


def lerp(input, end, weight):
    """input + weight (end - input)."""
    return input + weight * (end - input)


def _lerp_(self, end, weight):
    return self.add_((end - self) * weight)


def _addcmul_(self, tensor1, tensor2, *, value=1):
    return self.add_(value * tensor1 * tensor2)


def _addcdiv_(self, tensor1, tensor2, *, value=1):
    return self.add_(value * tensor1 / tensor2)


def clamp_min(input, min):
    return input.clamp(min=min)


def clamp_max(input, max):
    return input.clamp(max=max)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default the
    dtype's largest and lowest values); other values and integer tensors unchanged."""
    if not input.dtype.is_floating_point:
        return input.clone()
    info = np.finfo(np.float32 if input.dtype == _C.dtype.float32 else np.float64)
    posinf = float(info.max) if posinf is None else posinf
    neginf = float(info.min) if neginf is None else neginf
    out = _C.where(input != input, nan, input)
    out = _C.where(out == math.inf, posinf, out)
    return _C.where(out == -math.inf, neginf, out)


def atan2(input, other):
    """The angle of the point (other, input), in [-pi, pi]. The arctangent is taken of the
    smaller coordinate over the larger, so no division by zero reaches the graph: the
    gradient is finite on the axes (and 0 at the origin, where the angle is 0)."""
    y, x = input, other
    swap = y.abs() > x.abs()  # then y != 0
    num, den = _C.where(swap, x, y), _C.where(swap, y, x)
    t = (num / _C.where(den == 0, 1.0, den)).atan()  # den == 0 only at the origin
    pi = math.pi
    flat = _C.where(x < 0, _C.where(y >= 0, t + pi, t - pi), t)  # |x| >= |y|: atan(y / x) + a half turn
    steep = _C.where(y > 0, pi / 2 - t, -pi / 2 - t)  # |y| > |x|: pi/2 - atan(x / y), signed
    return _C.where(swap, steep, flat)


def logaddexp(input, other):
    """log(exp(input) + exp(other)) without overflow: max + log1p(exp(-|input - other|))."""
    m = _C.maximum(input, other)
    both_inf = (input == other) & (input.abs() == math.inf)  # inf - inf would be NaN
    d = _C.where(both_inf, 0.0, input - other)
    return _C.where(both_inf, input, m + (-d.abs()).exp().log1p())


def nansum(input, dim=None, keepdim=False):
    """The sum with NaN counted as 0."""
    return _C.where(input != input, 0.0, input).sum(dim, keepdim)


def nanmean(input, dim=None, keepdim=False):
    """The mean of the values that are not NaN (NaN where a line has none)."""
    keep = input == input
    return nansum(input, dim, keepdim) / keep.sum(dim, keepdim).to(input.dtype)


def std_mean(input, dim=None, *, correction=1, keepdim=False):
    return input.std(dim, keepdim=keepdim, correction=correction), input.mean(dim, keepdim)


def var_mean(input, dim=None, *, correction=1, keepdim=False):
    return input.var(dim, keepdim=keepdim, correction=correction), input.mean(dim, keepdim)


def _pair(input, other):
    """input and other as tensors (a Python number takes the other's floating dtype, or the
    default dtype)."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("expected at least one tensor argument")
    like = input if isinstance(input, Tensor) else other
    dtype = like.dtype if like.dtype.is_floating_point else _C._get_default_dtype()
    return tuple(v if isinstance(v, Tensor) else full((), v, dtype=dtype) for v in (input, other))


def _floating(input):
    return input if input.dtype.is_floating_point else input.to(_C._get_default_dtype())


def xlogy(input, other):
    """input * log(other), and 0 where input is 0 unless other is NaN, as PyTorch's. The
    gradient for input is log(other) except where input is 0 and other is not a positive
    number (there 0)."""
    x, y = _pair(input, other)
    x, y = _floating(x), _floating(y)
    off = (x == 0) & ((y <= 0) | (y == math.inf))  # log(y) is -inf, NaN or inf there
    return x * _C.where(off, 1.0, y).log()


def sinc(input):
    """sin(pi x) / (pi x), 1 at x = 0 (where the gradient is 0)."""
    x = _floating(input)
    zero = x == 0
    px = _C.where(zero, 1.0, x) * math.pi
    return _C.where(zero, 1.0, px.sin() / px)


def hypot(input, other):
    """sqrt(input^2 + other^2) without overflow or underflow (the larger magnitude is
    factored out); inf where either is infinite (even if the other is NaN), else NaN where
    either is NaN; the gradient at the origin is 0."""
    a, b = _pair(input, other)
    m = _C.maximum(a.abs(), b.abs())
    scale = _C.where((m > 0) & (m < math.inf), m, 1.0)
    from ._composite import _root
    h = scale * _root((a / scale) ** 2 + (b / scale) ** 2, 2)
    h = _C.where((a != a) | (b != b), math.nan, h)
    return _C.where((a.abs() == math.inf) | (b.abs() == math.inf), math.inf, h)


def logit(input, eps=None):
    """log(p / (1 - p)), p = input clamped to [eps, 1 - eps] when eps is given."""
    p = _floating(input)
    if eps is not None:
        p = p.clamp(eps, 1 - eps)
    return (p / (1 - p)).log()


def heaviside(input, values):
    """0 where input < 0, 1 where input > 0, ``values`` where input == 0 (NaN stays NaN)."""
    values = values if isinstance(values, Tensor) else full((), values, dtype=input.dtype)
    step = (input > 0).to(input.dtype)
    out = _C.where(input == 0, values.to(input.dtype), step)
    return _C.where(input != input, input, out)


def signbit(input):
    """True where the sign bit is set: negative numbers, -0.0 and -inf."""
    if not input.dtype.is_floating_point:
        return input < 0
    return (input < 0) | ((input == 0) & ((1.0 / _C.where(input == 0, input, 1.0)) < 0))


def copysign(input, other):
    """|input| with the sign of other (its sign bit: -0.0 counts as negative)."""
    a, b = _pair(input, other)
    a = _floating(a)
    return _C.where(signbit(b), -a.abs(), a.abs())


def frac(input):
    """input - trunc(input), with input's sign."""
    return input - input.trunc()


def deg2rad(input):
    return _floating(input) * (math.pi / 180.0)


def rad2deg(input):
    return _floating(input) * (180.0 / math.pi)


def float_power(input, exponent):
    """input ** exponent in float64, as PyTorch's."""
    a, b = _pair(input, exponent)
    return a.to(_C.dtype.float64) ** b.to(_C.dtype.float64)


def true_divide(input, other):
    return input / other


def positive(input):
    if input.dtype == _C.dtype.bool:
        raise TypeError("positive: not supported on bool tensors")
    return input


def negative(input):
    return -input


FUNCTIONS = ["addmm", "addcmul", "addcdiv", "lerp", "clamp_min", "clamp_max", "nan_to_num", "atan2",
             "logaddexp", "nansum", "nanmean", "xlogy", "sinc", "hypot", "logit", "heaviside", "signbit",
             "copysign", "frac", "deg2rad", "rad2deg", "float_power", "true_divide", "positive", "negative"]
for _name in FUNCTIONS:
    setattr(Tensor, _name, globals()[_name])
Tensor.lerp_ = _lerp_
Tensor.addcmul_ = _addcmul_
Tensor.addcdiv_ = _addcdiv_
