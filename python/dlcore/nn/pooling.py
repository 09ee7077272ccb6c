"""Pooling: the functional forms (re-exported by ``dlcore.nn.functional``) and the layers
``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``, ``AdaptiveAvgPool1d/2d/3d``,
``AdaptiveMaxPool1d/2d/3d``, ``MaxUnpool2d`` (the 3-D functions in nn/volumetric.py).
Inputs are (N, C, H, W) or unbatched (C, H, W) (and (N, C, L) / (C, L) for the 1-D
forms, (N, C, D, H, W) / (C, D, H, W) for the 3-D ones); arguments and defaults are
PyTorch's (stride defaults to the kernel)."""
from .. import _C
from ..creation import zeros
from ._args import _ntuple
from .module import Module


def _pair(v, name, op, n=2):
    return _ntuple(v, n, name, op)


def _batched(input, dims, op):
    """(input as a batch, whether a batch dim was added)."""
    if input.ndim == dims + 1:
        return input.unsqueeze(0), True
    if input.ndim != dims + 2:
        raise ValueError(f"{op}: expected a {dims + 1}-D or {dims + 2}-D input, got shape {tuple(input.shape)}")
    return input, False


def _unbatch(t, added):
    return t.squeeze(0) if added else t


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    x, added = _batched(input, 2, "max_pool2d")
    k = _pair(kernel_size, "kernel_size", "max_pool2d")
    s = k if stride is None else _pair(stride, "stride", "max_pool2d")
    y, idx = _C._max_pool2d(x, k, s, _pair(padding, "padding", "max_pool2d"), _pair(dilation, "dilation", "max_pool2d"),
                            ceil_mode)
    y, idx = _unbatch(y, added), _unbatch(idx, added)
    return (y, idx) if return_indices else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    x, added = _batched(input, 2, "avg_pool2d")
    k = _pair(kernel_size, "kernel_size", "avg_pool2d")
    s = k if stride is None else _pair(stride, "stride", "avg_pool2d")
    y = _C._avg_pool2d(x, k, s, _pair(padding, "padding", "avg_pool2d"), ceil_mode, count_include_pad,
                       divisor_override or 0)
    return _unbatch(y, added)


def adaptive_avg_pool2d(input, output_size):
    x, added = _batched(input, 2, "adaptive_avg_pool2d")
    size = _adaptive_size(output_size, x, 2, "adaptive_avg_pool2d")
    return _unbatch(_C._adaptive_avg_pool2d(x, size), added)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    x, added = _batched(input, 2, "adaptive_max_pool2d")
    y, idx = _C._adaptive_max_pool2d(x, _adaptive_size(output_size, x, 2, "adaptive_max_pool2d"))
    y, idx = _unbatch(y, added), _unbatch(idx, added)
    return (y, idx) if return_indices else y


def _adaptive_size(output_size, x, n, op):
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != n:
            raise ValueError(f"{op}: output_size must be an int or a tuple of {n}, got {output_size!r}")
        return tuple(x.shape[-n + i] if v is None else v for i, v in enumerate(output_size))
    return _pair(output_size, "output_size", op, n)


# 1-D forms: the 2-D ones over (N, C, 1, L).
def _as_2d(input, op):
    x, added = _batched(input, 1, op)
    return x.unsqueeze(2), added


def _from_2d(t, added):
    return _unbatch(t.squeeze(2), added)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    x, added = _as_2d(input, "max_pool1d")
    k = _pair(kernel_size, "kernel_size", "max_pool1d", 1)[0]
    s = k if stride is None else _pair(stride, "stride", "max_pool1d", 1)[0]
    y, idx = _C._max_pool2d(x, (1, k), (1, s), (0, _pair(padding, "padding", "max_pool1d", 1)[0]),
                            (1, _pair(dilation, "dilation", "max_pool1d", 1)[0]), ceil_mode)
    y, idx = _from_2d(y, added), _from_2d(idx, added)
    return (y, idx) if return_indices else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    x, added = _as_2d(input, "avg_pool1d")
    k = _pair(kernel_size, "kernel_size", "avg_pool1d", 1)[0]
    s = k if stride is None else _pair(stride, "stride", "avg_pool1d", 1)[0]
    y = _C._avg_pool2d(x, (1, k), (1, s), (0, _pair(padding, "padding", "avg_pool1d", 1)[0]), ceil_mode,
                       count_include_pad, 0)
    return _from_2d(y, added)


def adaptive_avg_pool1d(input, output_size):
    x, added = _as_2d(input, "adaptive_avg_pool1d")
    return _from_2d(_C._adaptive_avg_pool2d(x, (1, _pair(output_size, "output_size", "adaptive_avg_pool1d", 1)[0])),
                    added)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    x, added = _as_2d(input, "adaptive_max_pool1d")
    y, idx = _C._adaptive_max_pool2d(x, (1, _pair(output_size, "output_size", "adaptive_max_pool1d", 1)[0]))
    y, idx = _from_2d(y, added), _from_2d(idx, added)
    return (y, idx) if return_indices else y


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Puts each value at its recorded flat index h W + w of an output plane of size
    (H, W) = output_size, or (in - 1) stride - 2 padding + kernel per dim; zeros elsewhere.
    Differentiable in the input (see unpool_scatter for overlapping windows)."""
    x, added = _batched(input, 2, "max_unpool2d")
    idx, _ = _batched(indices, 2, "max_unpool2d")
    if tuple(idx.shape) != tuple(x.shape):
        raise ValueError(f"max_unpool2d: indices of shape {tuple(indices.shape)} must match the input's "
                         f"{tuple(input.shape)}")
    k = _pair(kernel_size, "kernel_size", "max_unpool2d")
    s = k if stride is None else _pair(stride, "stride", "max_unpool2d")
    p = _pair(padding, "padding", "max_unpool2d")
    if output_size is None:
        size = tuple((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(2))
    else:
        size = tuple(output_size)[-2:]
    n, c = x.shape[0], x.shape[1]
    flat = idx.reshape(n, c, -1)
    plane = size[0] * size[1]
    a = flat.numpy()
    if a.size and (a.min() < 0 or a.max() >= plane):
        raise IndexError(f"max_unpool2d: index {int(a.max() if a.max() >= plane else a.min())} is out of range for "
                         f"an output plane of size {size}")
    return _unbatch(unpool_scatter(x.reshape(n, c, -1), flat, plane).reshape(n, c, *size), added)


def unpool_scatter(values, index, size):
    """(N, C, size) zeros with values (N, C, L) put at index (N, C, L). Overlapping pooling
    windows name one input position twice, with the same value: a position gets the mean of
    what lands on it (that value), and each of its sources a share of its gradient."""
    from ..creation import ones_like

    total = zeros(values.shape[0], values.shape[1], size, dtype=values.dtype).scatter_add(2, index, values)
    hits = zeros(values.shape[0], values.shape[1], size, dtype=values.dtype).scatter_add(2, index,
                                                                                         ones_like(values))
    return total / _C.where(hits > 0, hits, 1.0)


class _Pool(Module):
    def extra_repr(self):
        return ", ".join(f"{k}={v}" for k, v in self.__dict__.items() if not k.startswith("_") and k != "training")


class MaxPool2d(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def _flops(self, inputs, output):
        y = output[0] if isinstance(output, tuple) else output
        k = _pair(self.kernel_size, "kernel_size", "MaxPool2d")
        return y.numel() * k[0] * k[1]


class MaxPool1d(MaxPool2d):
    def forward(self, input):
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)


class AvgPool2d(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, input):
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)


class AvgPool1d(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)


class AdaptiveAvgPool2d(_Pool):
    """Average over output_size near-equal windows; ``AdaptiveAvgPool2d(1)`` is global
    average pooling."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return adaptive_avg_pool2d(input, self.output_size)


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    def forward(self, input):
        return adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool2d(_Pool):
    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):
        return adaptive_max_pool2d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    def forward(self, input):
        return adaptive_max_pool1d(input, self.output_size, self.return_indices)


class MaxUnpool2d(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, input, indices, output_size=None):
        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxPool3d(MaxPool2d):
    """Max pooling over (N, C, D, H, W) (nn/volumetric.py)."""

    def forward(self, input):
        from .volumetric import max_pool3d

        return max_pool3d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def _flops(self, inputs, output):
        y = output[0] if isinstance(output, tuple) else output
        k = _pair(self.kernel_size, "kernel_size", "MaxPool3d", 3)
        return y.numel() * k[0] * k[1] * k[2]


class AvgPool3d(AvgPool2d):
    """Average pooling over (N, C, D, H, W) (nn/volumetric.py)."""

    def forward(self, input):
        from .volumetric import avg_pool3d

        return avg_pool3d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    def forward(self, input):
        from .volumetric import adaptive_avg_pool3d

        return adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    def forward(self, input):
        from .volumetric import adaptive_max_pool3d

        return adaptive_max_pool3d(input, self.output_size, self.return_indices)
