"""Resampling layers: ``interpolate`` / ``Upsample`` (nearest, nearest-exact, area, and
linear, bilinear, bicubic, trilinear with ``align_corners``; ``UpsamplingNearest2d``,
``UpsamplingBilinear2d``), ``pixel_shuffle`` /
``PixelShuffle``, ``channel_shuffle`` / ``ChannelShuffle`` (padding layers are in
padding.py). All are compositions of differentiable dlcore ops (index_select, arithmetic, reshape)."""
import math

import numpy as np

from .. import _C
from .module import Module


def _out_size(n_in, size, scale):
    return int(size) if size is not None else int(math.floor(n_in * scale))


def _nearest_index(n_in, n_out, scale):
    # PyTorch's 'nearest': src = floor(dst * in / out), or dst / scale when a scale is given.
    s = (1.0 / scale) if scale is not None else n_in / n_out
    return np.minimum(np.floor(np.arange(n_out) * s).astype(np.int64), n_in - 1)


def _linear_coords(n_in, n_out, align_corners, scale):
    if align_corners:
        src = np.arange(n_out) * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    else:
        s = (1.0 / scale) if scale is not None else n_in / n_out
        src = np.maximum((np.arange(n_out) + 0.5) * s - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, src - lo


_MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
# Keys' cubic convolution kernel with a = -0.75, as PyTorch's bicubic uses.
_CUBIC_A = -0.75


def _cubic_weights(t):
    """The weights of taps -1, 0, 1, 2 around a source point at fraction t past tap 0."""
    a = _CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _source(n_in, n_out, align_corners, scale, clamp):
    if align_corners:
        return np.arange(n_out) * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(n_out)
    s = (1.0 / scale) if scale is not None else n_in / n_out
    src = (np.arange(n_out) + 0.5) * s - 0.5
    return np.maximum(src, 0.0) if clamp else src


def _resample_axis(out, dim, n_in, n_out, mode, align_corners, scale):
    """out resampled along dim from n_in to n_out points."""
    ndim = out.ndim

    def weight(w):
        shape = [1] * ndim
        shape[dim] = n_out
        return _C.from_numpy(np.ascontiguousarray(w).reshape(shape)).to(out.dtype)

    def taps(index):
        return out.index_select(dim, _C.from_numpy(np.ascontiguousarray(index, dtype=np.int64)))

    if mode == "nearest":
        return taps(_nearest_index(n_in, n_out, scale))
    if mode == "nearest-exact":
        s = (1.0 / scale) if scale is not None else n_in / n_out
        return taps(np.minimum(np.floor((np.arange(n_out) + 0.5) * s).astype(np.int64), n_in - 1))
    if mode == "bicubic":
        src = _source(n_in, n_out, align_corners, scale, clamp=False)
        base = np.floor(src).astype(np.int64)
        result = None
        for k, w in zip(range(-1, 3), _cubic_weights(src - base)):
            term = taps(np.clip(base + k, 0, n_in - 1)) * weight(w)
            result = term if result is None else result + term
        return result
    lo, hi, frac = _linear_coords(n_in, n_out, align_corners, scale)
    a, b = taps(lo), taps(hi)
    return a + (b - a) * weight(frac)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resizes the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W) input to
    ``size`` or by ``scale_factor``: 'nearest', 'nearest-exact', 'area' (adaptive average
    pooling), 'linear' (3-D), 'bilinear' and 'bicubic' (4-D), 'trilinear' (5-D), with
    PyTorch's coordinate rules (``align_corners`` for the linear and cubic modes; bicubic
    is Keys' cubic with a = -0.75, clamped at the borders). One axis at a time."""
    n = input.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(f"interpolate: expected a 3-D, 4-D or 5-D input, got shape {tuple(input.shape)}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if mode not in ("nearest", "nearest-exact", "area") + tuple(_MODE_DIMS):
        raise ValueError(f"interpolate: mode must be 'nearest', 'nearest-exact', 'area', 'linear', 'bilinear', "
                         f"'bicubic' or 'trilinear', got {mode!r}")
    if mode in _MODE_DIMS and _MODE_DIMS[mode] != n:
        raise ValueError(f"interpolate: mode {mode!r} needs a {_MODE_DIMS[mode] + 2}-D input, got shape "
                         f"{tuple(input.shape)}")
    if align_corners is not None and mode not in _MODE_DIMS:
        raise ValueError("interpolate: align_corners only applies to the linear and cubic modes")
    if antialias:
        raise ValueError("interpolate: antialias=True is not supported")
    sizes = list(size) if isinstance(size, (list, tuple)) else [size] * n
    scales = list(scale_factor) if isinstance(scale_factor, (list, tuple)) else [scale_factor] * n
    if len(sizes) != n or len(scales) != n:
        raise ValueError(f"interpolate: size and scale_factor need {n} values for a {n + 2}-D input")
    outs = []
    for k in range(n):
        n_out = _out_size(input.shape[2 + k], sizes[k], scales[k])
        if n_out <= 0:
            raise ValueError(f"interpolate: output size {n_out} must be positive")
        outs.append(n_out)
    if recompute_scale_factor:
        scales = [None] * n
    if mode == "area":
        from . import functional as F

        pool = {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d}[n]
        return pool(input, outs[0] if n == 1 else tuple(outs))
    out = input
    for k in range(n):
        out = _resample_axis(out, 2 + k, input.shape[2 + k], outs[k], mode, bool(align_corners), scales[k])
    return out


def pixel_shuffle(input, upscale_factor):
    """(N, C r^2, H, W) -> (N, C, H r, W r), as in PyTorch."""
    r = upscale_factor
    n, c, h, w = input.shape[-4], input.shape[-3], input.shape[-2], input.shape[-1]
    if c % (r * r):
        raise ValueError(f"pixel_shuffle: {c} channels are not divisible by upscale_factor^2 = {r * r}")
    x = input.reshape(n, c // (r * r), r, r, h, w).permute(0, 1, 4, 2, 5, 3)
    return x.reshape(n, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """(N, C, H r, W r) -> (N, C r^2, H, W), the inverse of pixel_shuffle."""
    r = downscale_factor
    n, c, h, w = input.shape
    if h % r or w % r:
        raise ValueError(f"pixel_unshuffle: spatial size {(h, w)} is not divisible by {r}")
    x = input.reshape(n, c, h // r, r, w // r, r).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(n, c * r * r, h // r, w // r)


class Upsample(Module):
    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.size, self.scale_factor, self.mode, self.align_corners = size, scale_factor, mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           self.recompute_scale_factor)

    def extra_repr(self):
        what = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return f"{what}, mode={self.mode!r}"


class PixelShuffle(Module):
    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling with align_corners=True, as PyTorch's."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, "bilinear", True)


def channel_shuffle(input, groups):
    """(N, C, *) with its channels regrouped: channel g * (C / groups) + i goes to i * groups + g."""
    if input.ndim < 3:
        raise ValueError(f"channel_shuffle: expected an input of at least 3 dims, got shape {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if groups <= 0 or c % groups:
        raise ValueError(f"channel_shuffle: {c} channels cannot be split into {groups} groups")
    rest = tuple(input.shape[2:])
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


class ChannelShuffle(Module):
    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
