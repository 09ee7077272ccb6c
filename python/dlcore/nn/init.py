"""Parameter initialisation (``dlcore.nn.init``), with PyTorch's names and formulas.

Each function fills its tensor in place under no_grad, draws from dlcore's default
generator (or ``generator``), and returns the tensor.
"""
import math
import warnings

import numpy as np

from .. import _C
from ..creation import full as _full, normal as _normal, rand as _rand, randperm as _randperm
from ..grad_mode import no_grad


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for an activation: linear/conv/sigmoid 1, tanh 5/3, relu sqrt(2),
    leaky_relu sqrt(2 / (1 + slope^2)) (slope 0.01 by default), selu 3/4."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fans(tensor):
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out can't be computed for a tensor with fewer than 2 dims "
                         f"(shape {tuple(tensor.shape)})")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_fan(tensor, mode):
    fan_in, fan_out = _fans(tensor)
    if mode == "fan_in":
        return fan_in
    if mode == "fan_out":
        return fan_out
    raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")


def _fill(tensor, values):
    """values (a tensor, or one number for every element) into tensor, outside autograd."""
    with no_grad():
        if isinstance(values, _C.Tensor):
            tensor.copy_(values)
        else:
            tensor.fill_(values)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    if a > b:
        raise ValueError(f"uniform_: a ({a}) must not exceed b ({b})")
    u = _rand(*tensor.shape, generator=generator, dtype=tensor.dtype)
    return _fill(tensor, u * (b - a) + a)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(tensor, _normal(mean, std, tuple(tensor.shape), generator=generator, dtype=tensor.dtype))


def _std_normal_cdf(x):
    return 0.5 * _C.erfc(x * (-1.0 / math.sqrt(2.0)))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Normal(mean, std) values conditioned on lying in [a, b] (bounds in the values' units,
    as in PyTorch). Where at least half the mass lies in [a, b], out-of-range draws are drawn
    again; otherwise each value is the inverse CDF of a uniform draw, found by bisection on
    the standard normal CDF in float64 (on the lower side of the mean, where it keeps its
    precision)."""
    if not std >= 0:
        raise ValueError(f"trunc_normal_: std must be non-negative, got {std}")
    if not a < b:
        raise ValueError(f"trunc_normal_: the bounds need a < b, got a={a}, b={b}")
    if std == 0 or tensor.numel() == 0:
        return _fill(tensor, float(min(max(mean, a), b)))
    lo, hi = (a - mean) / std, (b - mean) / std
    shape, f64 = tuple(tensor.shape), _C.dtype.float64
    phi = lambda z: 0.5 * math.erfc(-z / math.sqrt(2.0))  # noqa: E731
    if phi(hi) - phi(lo) >= 0.5:
        z = _normal(0.0, 1.0, shape, generator=generator, dtype=f64).numpy().ravel()
        out = np.flatnonzero((z < lo) | (z > hi))
        while out.size:
            z[out] = _normal(0.0, 1.0, (out.size,), generator=generator, dtype=f64).numpy()
            out = out[(z[out] < lo) | (z[out] > hi)]
        values = _C.from_numpy(z.reshape(shape))
    else:
        flip = lo + hi > 0  # sample -z from [-hi, -lo]: the lower tail
        lo, hi = (-hi, -lo) if flip else (lo, hi)
        lo, hi = max(lo, -40.0), min(hi, 40.0)
        p_lo, p_hi = phi(lo), phi(hi)
        u = _rand(*shape, generator=generator, dtype=f64) * (p_hi - p_lo) + p_lo
        left, right = _full(shape, lo, dtype=f64), _full(shape, hi, dtype=f64)
        for _ in range(64):
            mid = (left + right) * 0.5
            below = _std_normal_cdf(mid) < u
            left, right = _C.where(below, mid, left), _C.where(below, right, mid)
        values = (left + right) * 0.5
        values = -values if flip else values
    return _fill(tensor, (values * std + mean).to(tensor.dtype))


def constant_(tensor, val):
    with no_grad():
        tensor.fill_(val)
    return tensor


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    fan = _calculate_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    fan = _calculate_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """A (semi-)orthogonal matrix (rows or columns orthonormal) from the QR decomposition of a
    normal sample, with the signs fixed by R's diagonal; higher dims are flattened after dim 0."""
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dims are supported, got shape "
                         f"{tuple(tensor.shape)}")
    rows = tensor.shape[0]
    cols = tensor.numel() // rows if rows else 0
    flat = _normal(0.0, 1.0, (rows, cols), generator=generator, dtype=_C.dtype.float64).numpy()
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    values = _C.from_numpy(np.ascontiguousarray(q * gain)).to(tensor.dtype).reshape(tuple(tensor.shape))
    return _fill(tensor, values)


def eye_(tensor):
    """The identity matrix (ones on the diagonal) into a 2-D tensor (Linear's weight: the
    layer passes its inputs through where the sizes allow)."""
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    values = np.eye(tensor.shape[0], tensor.shape[1])
    return _fill(tensor, _C.from_numpy(values).to(tensor.dtype))


def dirac_(tensor, groups=1):
    """The Dirac delta into a 3-, 4- or 5-D convolution weight (out, in, *kernel): output
    channel d of each of ``groups`` groups copies input channel d (at the kernel's centre),
    for d below both the group's output channels and the input channels, so a convolution
    with it keeps its input's values in those channels."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got shape "
                         f"{tuple(tensor.shape)}")
    if groups <= 0 or tensor.shape[0] % groups:
        raise ValueError(f"dirac_: dim 0 ({tensor.shape[0]}) must be divisible by groups ({groups})")
    per_group = tensor.shape[0] // groups
    values = np.zeros(tuple(tensor.shape))
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + d, d) + centre] = 1.0
    return _fill(tensor, _C.from_numpy(values).to(tensor.dtype))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-D tensor of N(0, std^2) values with ceil(sparsity * rows) of each column's
    entries set to zero (rows drawn at random), as in Martens (2010)."""
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only tensors with 2 dimensions are supported, got shape {tuple(tensor.shape)}")
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparse_: sparsity must be in [0, 1], got {sparsity}")
    rows, cols = tensor.shape
    zeros_per_col = int(math.ceil(sparsity * rows))
    values = _normal(0.0, std, (rows, cols), generator=generator, dtype=tensor.dtype)
    if zeros_per_col:
        drop = np.zeros((rows, cols), bool)
        for c in range(cols):
            drop[_randperm(rows, generator=generator).numpy()[:zeros_per_col], c] = True
        values = values.masked_fill(_C.from_numpy(drop), 0.0)
    return _fill(tensor, values)


def _deprecated(new):
    """PyTorch's old name for an initialiser: warns, then calls the in-place one."""
    def old(*args, **kwargs):
        warnings.warn(f"nn.init.{new.__name__[:-1]} is now deprecated in favor of nn.init.{new.__name__}.",
                      FutureWarning, stacklevel=2)
        return new(*args, **kwargs)
    old.__name__ = old.__qualname__ = new.__name__[:-1]
    old.__doc__ = f"Deprecated: use ``{new.__name__}``."
    return old


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)


def _default_linear_init(weight, bias):
    """PyTorch's Linear/Conv default: kaiming_uniform_(a=sqrt(5)) for the weight, i.e.
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _fans(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
