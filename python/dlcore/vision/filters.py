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


def _padded(x, rh, rw, padding_mode, op):
    """x with rh rows and rw columns added on each side; reflect padding needs more pixels
    per side than it adds, which a large window on a small image does not have."""
    h, w = x.shape[2], x.shape[3]
    if padding_mode == "reflect" and (rh >= h or rw >= w):
        raise ValueError(f"{op}: a {2 * rh + 1} x {2 * rw + 1} window needs images larger than {rh} x {rw} "
                         f"for padding_mode='reflect', got {h} x {w}; use 'replicate' or 'constant'")
    return F.pad(x, (rw, rw, rh, rh), padding_mode)


def _depthwise(x, kernel, padding_mode, op):
    """Each channel convolved with the same 2-D kernel (odd sides), the borders padded."""
    k = _C.from_numpy(np.ascontiguousarray(kernel)).to(x.dtype)
    kh, kw = kernel.shape
    c = x.shape[1]
    xp = _padded(x, kh // 2, kw // 2, padding_mode, op)
    return F.conv2d(xp, k.reshape(1, 1, kh, kw).expand(c, 1, kh, kw).contiguous(), groups=c)


def mean_filter(x, size=3, padding_mode="reflect"):
    """The average over a size x size window (odd size) around each pixel."""
    _check(x, "mean_filter")
    if size < 1 or size % 2 == 0:
        raise ValueError(f"mean_filter: size must be a positive odd int, got {size}")
    return _depthwise(x, np.full((size, size), 1.0 / (size * size)), padding_mode, "mean_filter")


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
    return _depthwise(x, np.outer(g, g), padding_mode, "gaussian_blur")


def sobel(x, padding_mode="replicate"):
    """The gradient magnitude sqrt(gx^2 + gy^2) from the 3x3 Sobel kernels (edges)."""
    _check(x, "sobel")
    kx = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    gx = _depthwise(x, kx, padding_mode, "sobel")
    gy = _depthwise(x, kx.T.copy(), padding_mode, "sobel")
    return (gx * gx + gy * gy).sqrt()


def median_filter(x, size=3, padding_mode="reflect"):
    """The median over a size x size window (odd size) of each pixel; computed with NumPy on
    the detached values (no gradient)."""
    _check(x, "median_filter")
    if size < 1 or size % 2 == 0:
        raise ValueError(f"median_filter: size must be a positive odd int, got {size}")
    r = size // 2
    a = _padded(x.detach(), r, r, padding_mode, "median_filter").numpy()
    windows = np.lib.stride_tricks.sliding_window_view(a, (size, size), axis=(2, 3))
    out = np.median(windows.reshape(*windows.shape[:4], -1), axis=-1)
    return _C.from_numpy(np.ascontiguousarray(out.astype(a.dtype)))
