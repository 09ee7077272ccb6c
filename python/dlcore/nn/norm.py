"""Normalisation layers: ``BatchNorm1d/2d/3d`` (one fused C++ kernel forward and backward),
``LayerNorm`` and ``RMSNorm`` (fused C++ kernels too), ``GroupNorm``, ``InstanceNorm1d/2d/3d``,
``LocalResponseNorm``, and their functional forms
(re-exported by ``dlcore.nn.functional``). Arguments, defaults and buffers are PyTorch's."""

import numpy as np

from .. import _C
from ..creation import ones, tensor, zeros
from ..grad_mode import no_grad
from .module import Module, Parameter


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalises each channel of input (N, C, ...) with the batch's statistics when training
    (updating running_mean/var in place, the variance unbiased) or the running ones."""
    return _C._batch_norm(input, running_mean, running_var, weight, bias, training,
                          0.0 if momentum is None else momentum, eps)


def _normalize(x, dims, eps):
    mean = x.mean(dims, keepdim=True)
    var = x.var(dims, unbiased=False, keepdim=True)
    return (x - mean) * (var + eps).rsqrt()


def _check_normalized_shape(input, normalized_shape, op):
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or len(shape) > input.ndim or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise ValueError(f"{op}: input of shape {tuple(input.shape)} does not end in normalized_shape {shape}")
    return len(shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalises over the last len(normalized_shape) dims (mean 0, variance 1, biased),
    then applies the elementwise affine. One fused C++ kernel forward and backward."""
    return _C._layer_norm(input, _check_normalized_shape(input, normalized_shape, "layer_norm"), weight, bias, eps)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """x / sqrt(mean(x^2) + eps) over the last len(normalized_shape) dims, times weight.
    eps defaults to the machine epsilon of input's dtype, as in PyTorch."""
    if eps is None:
        eps = float(np.finfo(np.float64 if input.dtype == _C.dtype.float64 else np.float32).eps)
    return _C._rms_norm(input, _check_normalized_shape(input, normalized_shape, "rms_norm"), weight, eps)


def _check_per_channel(op, input, **tensors):
    """Each given tensor (None: absent) has one value per channel of input (N, C, ...)."""
    channels = input.shape[1]
    for what, t in tensors.items():
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"{op}: {what} of shape {tuple(t.shape)} does not match the {channels} channels "
                             f"of input of shape {tuple(input.shape)}")


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalises input (N, C, ...) over each group of C / num_groups channels (and all
    positions), then scales and shifts per channel."""
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ValueError(f"group_norm: the {input.shape[1] if input.ndim > 1 else '?'} channels of input of shape "
                         f"{tuple(input.shape)} can't be split into {num_groups} groups")
    n, c = input.shape[0], input.shape[1]
    _check_per_channel("group_norm", input, weight=weight, bias=bias)
    grouped = input.reshape(n, num_groups, -1)
    y = _normalize(grouped, [2], eps).reshape(tuple(input.shape))
    shape = [1, c] + [1] * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalises each (sample, channel) over its positions; with running statistics
    and use_input_stats=False, uses those instead (eval mode of track_running_stats)."""
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected input of shape (N, C, ...), got {tuple(input.shape)}")
    dims = list(range(2, input.ndim))
    shape = [1, input.shape[1]] + [1] * (input.ndim - 2)
    _check_per_channel("instance_norm", input, weight=weight, bias=bias, running_mean=running_mean,
                       running_var=running_var)
    if use_input_stats:
        if running_mean is not None:
            with no_grad():
                m = input.mean(dims).mean(0)
                v = input.var(dims, unbiased=True).mean(0)
                running_mean.mul_(1 - momentum).add_(m * momentum)
                running_var.mul_(1 - momentum).add_(v * momentum)
        y = _normalize(input, dims, eps)
    else:
        y = (input - running_mean.reshape(shape)) * (running_var.reshape(shape) + eps).rsqrt()
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _setup_norm(module, num_features, eps, momentum, affine, track_running_stats, dtype, count_batches):
    """The parameters (weight 1, bias 0) and running statistics shared by batch and instance norm."""
    dtype = dtype or _C._get_default_dtype()
    module.num_features, module.eps, module.momentum = num_features, eps, momentum
    module.affine, module.track_running_stats = affine, track_running_stats
    if affine:
        module.weight = Parameter(ones(num_features, dtype=dtype))
        module.bias = Parameter(zeros(num_features, dtype=dtype))
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)
    names = ["running_mean", "running_var"] + (["num_batches_tracked"] if count_batches else [])
    values = [zeros(num_features, dtype=dtype), ones(num_features, dtype=dtype), tensor(0)]
    for name, value in zip(names, values):
        module.register_buffer(name, value if track_running_stats else None)


class _BatchNorm(Module):
    _dims = (2, 3)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, dtype=None):
        super().__init__()
        _setup_norm(self, num_features, eps, momentum, affine, track_running_stats, dtype, count_batches=True)

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def forward(self, input):
        if input.ndim not in self._dims:
            raise ValueError(f"{type(self).__name__}: expected a {' or '.join(f'{d}-D' for d in self._dims)} input, "
                             f"got shape {tuple(input.shape)}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if momentum is None:  # a cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or not self.track_running_stats
        return batch_norm(input, self.running_mean if not use_batch or self.training else None,
                          self.running_var if not use_batch or self.training else None, self.weight, self.bias,
                          use_batch, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L)."""
    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W)."""
    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Over (N, C, D, H, W)."""
    _dims = (5,)


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        dtype = dtype or _C._get_default_dtype()
        if elementwise_affine:
            self.weight = Parameter(ones(*shape, dtype=dtype))
            if bias:
                self.bias = Parameter(zeros(*shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class RMSNorm(Module):
    """Root-mean-square normalisation over the last dims (``torch.nn.RMSNorm``): y = x /
    sqrt(mean(x^2) + eps) * weight, no mean subtraction and no bias."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(*shape, dtype=dtype or _C._get_default_dtype()))
        else:
            self.register_parameter("weight", None)

    def forward(self, input):
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        dtype = dtype or _C._get_default_dtype()
        if affine:
            self.weight = Parameter(ones(num_channels, dtype=dtype))
            self.bias = Parameter(zeros(num_channels, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(Module):
    _dims = 4

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, dtype=None):
        super().__init__()
        _setup_norm(self, num_features, eps, momentum, affine, track_running_stats, dtype, count_batches=False)

    def forward(self, input):
        x = input.unsqueeze(0) if input.ndim == self._dims - 1 else input
        if x.ndim != self._dims:
            raise ValueError(f"{type(self).__name__}: expected a {self._dims - 1}-D or {self._dims}-D input, got shape "
                             f"{tuple(input.shape)}")
        y = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          self.training or not self.track_running_stats, self.momentum, self.eps)
        return y.squeeze(0) if input.ndim == self._dims - 1 else y

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class InstanceNorm1d(_InstanceNorm):
    _dims = 3


class InstanceNorm2d(_InstanceNorm):
    _dims = 4


class InstanceNorm3d(_InstanceNorm):
    _dims = 5




def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta, the window
    centred on each channel (size // 2 before it, (size - 1) // 2 after) and zero past the
    ends, as PyTorch's."""
    if input.ndim < 3:
        raise ValueError(f"local_response_norm: expected an input of at least 3 dims, got shape "
                         f"{tuple(input.shape)}")
    if size <= 0:
        raise ValueError(f"local_response_norm: size must be positive, got {size}")
    c = input.shape[1]
    sq = input * input
    pad_shape = list(input.shape)
    pad_shape[1] = size // 2
    after = list(input.shape)
    after[1] = (size - 1) // 2
    padded = _C.cat([zeros(*pad_shape, dtype=input.dtype), sq, zeros(*after, dtype=input.dtype)], 1)
    window = padded.narrow(1, 0, c)
    for i in range(1, size):
        window = window + padded.narrow(1, i, c)
    return input / (window * (alpha / size) + k) ** beta


class LocalResponseNorm(Module):
    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
