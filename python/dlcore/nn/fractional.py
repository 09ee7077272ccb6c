"""Fractional max pooling (Graham, 2014) with PyTorch's pooling regions: FractionalMaxPool2d,
FractionalMaxPool3d and their functional forms.

Per sample and channel, one random number u in [0, 1) per spatial dimension places the
windows: with alpha = (input - k) / (output - 1), window i starts at
int((i + u) alpha) - int(u alpha) (i < output - 1), the last at input - k. The numbers
come from ``_random_samples`` (N, C, dims) or from dlcore's generator; 2-D uses
sample 0 for the width and 1 for the height, 3-D samples 0, 1, 2 for depth, height and
width, as PyTorch. The windows are gathered and their maximum taken with ops, so the
gradient reaches the maxima; indices are flat positions in each input plane.
"""
import numpy as np

from ..creation import rand, tensor
from ._args import _ntuple
from .module import Module
from .more_layers import _with_indices


def _starts(u, size, out, k):
    """The window starts along one dimension for each plane's u (computed in u's dtype, as
    PyTorch computes them in the input's)."""
    u = np.asarray(u)
    starts = np.empty(u.shape + (out,), dtype=np.int64)
    if out > 1:
        alpha = u.dtype.type(size - k) / u.dtype.type(out - 1)
        i = np.arange(out - 1, dtype=u.dtype)
        starts[..., :-1] = ((i + u[..., None]) * alpha).astype(np.int64) - (u[..., None] * alpha).astype(np.int64)
    if out > 0:
        starts[..., -1] = size - k
    return starts


def _ratios(v, n, name):
    """output_ratio as n numbers in (0, 1)."""
    ratio = tuple(v) if isinstance(v, (list, tuple)) else (v,) * n
    if len(ratio) != n or not all(isinstance(r, (int, float)) and 0 < r < 1 for r in ratio):
        raise ValueError(f"{name}: output_ratio must be a number in (0, 1) or {n} of them, got {v!r}")
    return ratio


def _size_args(output_size, output_ratio, n, name):
    """Checks that exactly one of output_size and output_ratio is given (the ratio in (0, 1))."""
    if (output_size is None) == (output_ratio is None):
        raise ValueError(f"{name}: give exactly one of output_size and output_ratio")
    if output_ratio is not None:
        _ratios(output_ratio, n, name)


def _fractional(input, kernel_size, output_size, output_ratio, return_indices, samples, n):
    name = f"fractional_max_pool{n}d"
    if input.ndim not in (n + 1, n + 2):
        raise ValueError(f"{name}: expected a {n + 1}-D or {n + 2}-D input, got shape {tuple(input.shape)}")
    batched = input.ndim == n + 2
    x = input if batched else input.unsqueeze(0)
    N, C, spatial = x.shape[0], x.shape[1], tuple(x.shape[2:])
    k = _ntuple(kernel_size, n, "kernel_size", name)
    _size_args(output_size, output_ratio, n, name)
    if output_size is not None:
        out = _ntuple(output_size, n, "output_size", name)
    else:
        out = tuple(int(s * r) for s, r in zip(spatial, _ratios(output_ratio, n, name)))
    for d, (s, o, kk) in enumerate(zip(spatial, out, k)):
        if kk <= 0 or o <= 0 or o + kk - 1 > s:
            raise ValueError(f"{name}: output size {o} with kernel {kk} does not fit input size {s} in dimension "
                             f"{d + 2} (output + kernel - 1 must not exceed the input)")
    if samples is None:
        samples = rand(N, C, n, dtype=x.dtype)
    if tuple(samples.shape) != (N, C, n):
        raise ValueError(f"{name}: _random_samples must have shape ({N}, {C}, {n}), got {tuple(samples.shape)}")
    u = samples.detach().to(x.dtype).numpy()
    # which sample serves which dimension (PyTorch: 2-D width first; 3-D in order)
    order = [1, 0] if n == 2 else [0, 1, 2]
    starts = [_starts(u[..., order[d]], spatial[d], out[d], k[d]) for d in range(n)]  # each (N, C, out_d)
    # flat index of every window element: (N, C, *out, *k)
    strides = [int(np.prod(spatial[d + 1:])) for d in range(n)]
    idx = np.zeros((N, C) + out + k, dtype=np.int64)
    for d in range(n):
        pos = starts[d].reshape((N, C) + tuple(out[e] if e == d else 1 for e in range(n)) + (1,) * n)
        off = np.arange(k[d]).reshape((1, 1) + (1,) * n + tuple(k[e] if e == d else 1 for e in range(n)))
        idx = idx + (pos + off) * strides[d]
    windows = int(np.prod(k))
    flat_idx = tensor(idx.reshape(N, C, int(np.prod(out)) * windows))
    values = x.reshape(N, C, int(np.prod(spatial))).gather(2, flat_idx).reshape((N, C) + out + (windows,))
    result = values.max(-1)
    y, arg = result.values, result.indices
    if not batched:
        y = y.squeeze(0)
    if not return_indices:
        return y
    chosen = flat_idx.reshape((N, C) + out + (windows,)).gather(-1, arg.unsqueeze(-1)).squeeze(-1)
    return y, (chosen if batched else chosen.squeeze(0))


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Fractional max pooling over (N, C, H, W) or (C, H, W) input (see the module's doc)."""
    return _fractional(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 2)


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Fractional max pooling over (N, C, T, H, W) or (C, T, H, W) input."""
    return _fractional(input, kernel_size, output_size, output_ratio, return_indices, _random_samples, 3)


fractional_max_pool2d_with_indices = _with_indices(fractional_max_pool2d)
fractional_max_pool3d_with_indices = _with_indices(fractional_max_pool3d)


class _FractionalMaxPool(Module):
    _n = 2

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None):
        super().__init__()
        _size_args(output_size, output_ratio, self._n, type(self).__name__)
        self.kernel_size, self.output_size, self.output_ratio = kernel_size, output_size, output_ratio
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)

    def forward(self, input):
        return _fractional(input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
                           self._random_samples, self._n)


class FractionalMaxPool2d(_FractionalMaxPool):
    """Max pooling over windows placed pseudo-randomly (PyTorch's): ``kernel_size`` and one
    of ``output_size`` or ``output_ratio``; ``return_indices`` also returns each maximum's
    flat position in its input plane; fresh random placements each call unless
    ``_random_samples`` (N, C, 2) is given."""

    _n = 2


class FractionalMaxPool3d(_FractionalMaxPool):
    """FractionalMaxPool2d over (N, C, T, H, W); ``_random_samples`` is (N, C, 3)."""

    _n = 3


FUNCTIONS = ["fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
             "fractional_max_pool3d_with_indices"]
