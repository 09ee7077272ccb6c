"""``affine_grid`` and ``grid_sample`` (spatial transformers), with PyTorch's coordinates.

A grid holds (x, y) sampling points normalised to [-1, 1] over the input's width and height:
-1 and 1 are the centres of the corner pixels with ``align_corners=True``, their outer edges
without. ``grid_sample`` reads each point by bilinear interpolation of its four neighbours
(or the nearest pixel), composed of gathers, so gradients reach both the input and the grid
(the grid's through the interpolation weights). Points outside read zeros, the border pixels,
or the image reflected at its border (``padding_mode``).
"""
from .. import _C
from ..creation import arange, linspace, ones, zeros

__all__ = ["affine_grid", "grid_sample"]


def _base_coords(n, align_corners, dtype):
    """The normalised centres of n pixels (0 for a single pixel)."""
    if n <= 1:
        return zeros((n,), dtype=dtype)
    if align_corners:
        return linspace(-1.0, 1.0, n, dtype=dtype)
    return (arange(n, dtype=dtype) * 2 + 1) / n - 1


def affine_grid(theta, size, align_corners=False):
    """The (N, H, W, 2) grid of theta (N, 2, 3) applied to the normalised pixel centres of an
    (N, C, H, W) output."""
    if len(size) != 4:
        raise ValueError(f"affine_grid: only 4-D sizes (N, C, H, W) are supported, got {tuple(size)}")
    N, _, H, W = size
    if theta.ndim != 3 or tuple(theta.shape) != (N, 2, 3):
        raise ValueError(f"affine_grid: theta must have shape ({N}, 2, 3) for size {tuple(size)}, got "
                         f"{tuple(theta.shape)}")
    if not theta.dtype.is_floating_point:
        raise TypeError(f"affine_grid: theta must be a floating tensor, got {theta.dtype!r}")
    xs = _base_coords(W, align_corners, theta.dtype)
    ys = _base_coords(H, align_corners, theta.dtype)
    base = _C.stack([xs.unsqueeze(0).expand((H, W)), ys.unsqueeze(1).expand((H, W)),
                     ones((H, W), dtype=theta.dtype)], -1)  # (H, W, 3)
    return (base.reshape(1, H * W, 3) @ theta.transpose(1, 2)).reshape(N, H, W, 2)


def _unnormalise(coord, size, align_corners):
    return (coord + 1) / 2 * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2


def _reflect(x, lo, hi):
    """x reflected into [lo, hi] (as many times as it takes)."""
    span = hi - lo
    if span <= 0:
        return x * 0 + lo
    d = (x - lo).abs()
    flips = (d / span).floor()
    extra = d - flips * span
    even = _C.remainder(flips, 2.0) == 0
    return _C.where(even, extra + lo, span - extra + lo)


def _source(coord, size, padding_mode, align_corners):
    x = _unnormalise(coord, size, align_corners)
    if padding_mode == "border":
        x = x.clamp(0, size - 1)
    elif padding_mode == "reflection":
        x = _reflect(x, 0.0, size - 1.0) if align_corners else _reflect(x, -0.5, size - 0.5)
        x = x.clamp(0, size - 1)
    return x


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
    """Samples (N, C, H, W) input at grid (N, Ho, Wo, 2) points: an (N, C, Ho, Wo) result."""
    if mode not in ("bilinear", "nearest"):
        raise ValueError(f"grid_sample: mode must be 'bilinear' or 'nearest', got {mode!r}")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"grid_sample: padding_mode must be 'zeros', 'border' or 'reflection', got "
                         f"{padding_mode!r}")
    if input.ndim != 4 or grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise ValueError(f"grid_sample: expected input (N, C, H, W) and grid (N, Ho, Wo, 2), got "
                         f"{tuple(input.shape)} and {tuple(grid.shape)}")
    if not (input.dtype.is_floating_point and grid.dtype == input.dtype):
        raise TypeError(f"grid_sample: input and grid must be floating tensors of one dtype, got "
                        f"{input.dtype!r} and {grid.dtype!r}")
    N, C, H, W = input.shape
    Ho, Wo = grid.shape[1], grid.shape[2]
    x = _source(grid[..., 0], W, padding_mode, align_corners)  # (N, Ho, Wo)
    y = _source(grid[..., 1], H, padding_mode, align_corners)
    flat = input.reshape(N, C, H * W)

    def read(xi, yi):
        """input at integer-valued (xi, yi), 0 outside; (N, C, Ho, Wo)."""
        inside = (xi >= 0) & (xi <= W - 1) & (yi >= 0) & (yi <= H - 1)
        idx = (yi.clamp(0, H - 1) * W + xi.clamp(0, W - 1)).detach().to(_C.dtype.int64)
        idx = idx.reshape(N, 1, Ho * Wo).expand((N, C, Ho * Wo))
        values = flat.gather(2, idx).reshape(N, C, Ho, Wo)
        return _C.where(inside.unsqueeze(1), values, 0.0)

    if mode == "nearest":
        return read(x.detach().round(), y.detach().round())
    x0, y0 = x.detach().floor(), y.detach().floor()
    wx1, wy1 = (x - x0).unsqueeze(1), (y - y0).unsqueeze(1)
    wx0, wy0 = 1 - wx1, 1 - wy1
    return (read(x0, y0) * wx0 * wy0 + read(x0 + 1, y0) * wx1 * wy0
            + read(x0, y0 + 1) * wx0 * wy1 + read(x0 + 1, y0 + 1) * wx1 * wy1)
