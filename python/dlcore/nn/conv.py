"""Convolution layers: ``Conv1d``, ``Conv2d``, ``Conv3d`` and their transposes, with PyTorch's arguments, weight shapes
(out_channels, in_channels / groups, *kernel_size) and initialisation."""
import math

from . import functional as F
from . import init
from .linear import _weight_and_bias
from .module import Module


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
        _weight_and_bias(self, (out_channels, in_channels // groups, *self.kernel_size), out_channels, bias, dtype)
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


class Conv3d(_ConvNd):
    """3-D convolution over (N, C, D, H, W) inputs; weight (out_channels, in_channels / groups, kd, kh,
    kw) (nn/volumetric.py)."""
    _n = 3


class _ConvTransposeNd(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported, got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple, got {padding!r}")
        super().__init__(out_channels, in_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype)
        # The weight is (in_channels, out_channels / groups, *kernel_size).
        self.in_channels, self.out_channels = in_channels, out_channels
        self.output_padding = F._ntuple(output_padding, self._n, "output_padding", name)
        _weight_and_bias(self, (in_channels, out_channels // groups, *self.kernel_size), out_channels, bias, dtype)
        self.reset_parameters()

    def forward(self, input):
        f = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[self._n]
        return f(input, self.weight, self.bias, self.stride, self.padding, self.output_padding, self.groups,
                 self.dilation)

    def _flops(self, inputs, output):
        x = inputs[0]
        per_input = 2 * (self.out_channels // self.groups) * math.prod(self.kernel_size)
        return x.numel() * per_input + (output.numel() if self.bias is not None else 0)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution; weight (in_channels, out_channels / groups, k)."""
    _n = 1


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution (a learned upsampling); weight (in_channels, out_channels / groups, kh, kw)."""
    _n = 2


class ConvTranspose3d(_ConvTransposeNd):
    """Transposed 3-D convolution; weight (in_channels, out_channels / groups, kd, kh, kw) (nn/volumetric.py)."""
    _n = 3
