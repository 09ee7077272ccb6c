"""Arithmetic helpers with PyTorch's names, composed from core ops (their gradients are the
ops'): addmm, addcmul, addcdiv, lerp (and the in-place Tensor forms that EMA and optimizer
code uses), clamp_min/clamp_max, nan_to_num, atan2, logaddexp, nanmean, nansum, std_mean
and var_mean."""
import math

import numpy as np

from . import _C

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


FUNCTIONS = ["addmm", "addcmul", "addcdiv", "lerp", "clamp_min", "clamp_max", "nan_to_num", "atan2",
             "logaddexp", "nansum", "nanmean"]
for _name in FUNCTIONS:
    setattr(Tensor, _name, globals()[_name])
Tensor.lerp_ = _lerp_
Tensor.addcmul_ = _addcmul_
Tensor.addcdiv_ = _addcdiv_
