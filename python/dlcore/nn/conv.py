"""Convolution layers: ``Conv1d`` and ``Conv2d``, with PyTorch's arguments, weight shapes
(out_channels, in_channels / groups, *kernel_size) and initialisation."""
import math

from .. import _C
from ..creation import empty
from . import functional as F
from . import init
from .module import Module, Parameter


class _ConvNd(Module):
    _n = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        n = self._n
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                             f"divisible by groups ({groups})")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"{name}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                             f"got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = F._ntuple(kernel_size, n, "kernel_size", name)
        self.stride = F._ntuple(stride, n, "stride", name)
        self.dilation = F._ntuple(dilation, n, "dilation", name)
        self.padding = padding if isinstance(padding, str) else F._ntuple(padding, n, "padding", name)
        F._conv_pads(self.padding, self.kernel_size, self.dilation, self.stride, name)  # validates 'same'
        self.groups, self.padding_mode = groups, padding_mode
        dtype = dtype or _C.dtype.float32
        self.weight = Parameter(empty(out_channels, in_channels // groups, *self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init._default_linear_init(self.weight, self.bias)

    def forward(self, input):
        return F._conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups,
                       self._n, self.padding_mode, type(self).__name__)

    def _flops(self, inputs, output):
        per_output = 2 * (self.in_channels // self.groups) * math.prod(self.kernel_size)
        return output.numel() * (per_output + (1 if self.bias is not None else 0))

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in ((0,) * self._n, "valid"):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * self._n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode!r}"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) inputs; weight (out_channels, in_channels / groups, k)."""
    _n = 1


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) inputs; weight (out_channels, in_channels / groups, kh, kw).
    ``groups=in_channels`` gives a depthwise convolution."""
    _n = 2
