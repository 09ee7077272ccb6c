"""Classic image filters on (N, C, H, W) tensors, for teaching and preprocessing. The linear
ones are depthwise convolutions (differentiable); the median filter is not."""
import math

import numpy as np

from .. import _C
from ..nn import functional as F


def _check(x, op):
    if x.ndim != 4:
        raise ValueError(f"{op}: expected images of shape (N, C, H, W), got {tuple(x.shape)}")
    if not x.dtype.is_floating_point:
        raise TypeError(f"{op}: expected float images, got {x.dtype!r}")


def _depthwise(x, kernel, padding_mode):
    """Each channel convolved with the same 2-D kernel (odd sides), the borders padded."""
    k = _C.from_numpy(np.ascontiguousarray(kernel)).to(x.dtype)
    kh, kw = kernel.shape
    c = x.shape[1]
    xp = F.pad(x, (kw // 2, kw // 2, kh // 2, kh // 2), padding_mode)
    return F.conv2d(xp, k.reshape(1, 1, kh, kw).expand(c, 1, kh, kw).contiguous(), groups=c)


def mean_filter(x, size=3, padding_mode="reflect"):
    """The average over a size x size window (odd size) around each pixel."""
    _check(x, "mean_filter")
    if size < 1 or size % 2 == 0:
        raise ValueError(f"mean_filter: size must be a positive odd int, got {size}")
    return _depthwise(x, np.full((size, size), 1.0 / (size * size)), padding_mode)


def gaussian_blur(x, sigma=1.0, size=None, padding_mode="reflect"):
    """Convolution with a normalised Gaussian of standard deviation sigma; size (odd)
    defaults to 2 ceil(3 sigma) + 1."""
    _check(x, "gaussian_blur")
    if sigma <= 0:
        raise ValueError(f"gaussian_blur: sigma must be positive, got {sigma}")
    size = size or 2 * math.ceil(3 * sigma) + 1
    if size % 2 == 0:
        raise ValueError(f"gaussian_blur: size must be odd, got {size}")
    r = np.arange(size) - size // 2
    g = np.exp(-(r ** 2) / (2 * sigma ** 2))
    g /= g.sum()
    return _depthwise(x, np.outer(g, g), padding_mode)


def sobel(x, padding_mode="replicate"):
    """The gradient magnitude sqrt(gx^2 + gy^2) from the 3x3 Sobel kernels (edges)."""
    _check(x, "sobel")
    kx = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    gx = _depthwise(x, kx, padding_mode)
    gy = _depthwise(x, kx.T.copy(), padding_mode)
    return (gx * gx + gy * gy).sqrt()


def median_filter(x, size=3, padding_mode="reflect"):
    """The median over a size x size window (odd size) of each pixel; computed with NumPy on
    the detached values (no gradient)."""
    _check(x, "median_filter")
    if size < 1 or size % 2 == 0:
        raise ValueError(f"median_filter: size must be a positive odd int, got {size}")
    r = size // 2
    a = F.pad(x.detach(), (r, r, r, r), padding_mode).numpy()
    windows = np.lib.stride_tricks.sliding_window_view(a, (size, size), axis=(2, 3))
    out = np.median(windows.reshape(*windows.shape[:4], -1), axis=-1)
    return _C.from_numpy(np.ascontiguousarray(out.astype(a.dtype)))
