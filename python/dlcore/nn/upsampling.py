"""Resampling layers: ``interpolate`` / ``Upsample`` (nearest, and bilinear with
``align_corners``; ``UpsamplingNearest2d``, ``UpsamplingBilinear2d``), ``pixel_shuffle`` /
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


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Resizes the spatial dims of (N, C, L) or (N, C, H, W) input to ``size`` or by
    ``scale_factor``: 'nearest', 'linear' (3-D) or 'bilinear' (4-D), with PyTorch's
    coordinate rules (``align_corners`` for the linear modes)."""
    n = input.ndim - 2
    if n not in (1, 2):
        raise ValueError(f"interpolate: expected a 3-D or 4-D input, got shape {tuple(input.shape)}")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    if mode not in ("nearest", "linear", "bilinear"):
        raise ValueError(f"interpolate: mode must be 'nearest', 'linear' or 'bilinear', got {mode!r}")
    if mode != "nearest" and {"linear": 1, "bilinear": 2}[mode] != n:
        raise ValueError(f"interpolate: mode {mode!r} needs a {3 if mode == 'linear' else 4}-D input")
    if align_corners is not None and mode == "nearest":
        raise ValueError("interpolate: align_corners only applies to the linear modes")
    sizes = size if isinstance(size, (list, tuple)) else [size] * n
    scales = scale_factor if isinstance(scale_factor, (list, tuple)) else [scale_factor] * n
    out = input
    for k in range(n):
        dim = 2 + k
        n_in = input.shape[dim]
        n_out = _out_size(n_in, sizes[k], scales[k])
        if n_out <= 0:
            raise ValueError(f"interpolate: output size {n_out} must be positive")
        if mode == "nearest":
            out = out.index_select(dim, _C.from_numpy(_nearest_index(n_in, n_out, scales[k])))
            continue
        lo, hi, frac = _linear_coords(n_in, n_out, bool(align_corners), scales[k])
        shape = [1] * input.ndim
        shape[dim] = n_out
        w = _C.from_numpy(frac.reshape(shape)).to(input.dtype)
        a = out.index_select(dim, _C.from_numpy(lo))
        b = out.index_select(dim, _C.from_numpy(hi))
        out = a + (b - a) * w
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
    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        self.size, self.scale_factor, self.mode, self.align_corners = size, scale_factor, mode, align_corners

    def forward(self, input):
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners)

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
