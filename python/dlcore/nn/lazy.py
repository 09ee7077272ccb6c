"""Lazy layers, as PyTorch's: ``LazyLinear``, ``LazyConv1d/2d/3d``,
``LazyConvTranspose1d/2d/3d``, ``LazyBatchNorm1d/2d/3d`` and ``LazyInstanceNorm1d/2d/3d``
take their input size (in_features, in_channels, num_features) from the first input they
see. Until then their
parameters are ``UninitializedParameter`` placeholders (an optimizer may already hold them:
the same objects get their values) and their running statistics ``UninitializedBuffer``.
The first call sizes and initialises everything, then the module becomes the ordinary layer
(``LazyLinear`` turns into ``Linear``); loading a state dict sizes the placeholders from the
checkpoint instead.
"""
from .. import _C
from ..creation import empty, zeros
from ..grad_mode import no_grad
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .module import Module, Parameter
from .norm import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _BatchNorm,
                   _InstanceNorm)

Tensor = _C.Tensor


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet (no values); materialize(shape) gives it
    its memory and makes it a plain Parameter (the same object)."""

    def __init__(self, requires_grad=True, device=None, dtype=None):
        super().__init__(zeros(0, dtype=dtype or _C._get_default_dtype()), requires_grad)

    def materialize(self, shape, device=None, dtype=None):
        self.data = empty(*shape, dtype=dtype or self.dtype)
        self.__class__ = Parameter

    def __repr__(self):
        return "<UninitializedParameter>"

    __str__ = __repr__


class UninitializedBuffer(Tensor):
    """A buffer whose shape is not known yet; materialize(shape) returns the zero-filled
    tensor that takes its place in the module."""

    def __init__(self, requires_grad=False, device=None, dtype=None):
        super().__init__(zeros(0, dtype=dtype or _C._get_default_dtype()))

    def materialize(self, shape, device=None, dtype=None):
        return zeros(*shape, dtype=dtype or self.dtype)

    def __repr__(self):
        return "<UninitializedBuffer>"

    __str__ = __repr__


def _uninitialized(t):
    return isinstance(t, (UninitializedParameter, UninitializedBuffer))


class LazyModuleMixin:
    """Sizes the module from its first input (initialize_parameters), then turns it into
    cls_to_become."""

    cls_to_become = None

    def has_uninitialized_params(self):
        return any(_uninitialized(t) for t in list(self._parameters.values()) + list(self._buffers.values()))

    def __call__(self, *args, **kwargs):
        if isinstance(self, LazyModuleMixin) and args:
            # A module with no placeholders at all (instance norm without affine or running
            # statistics) still takes its sizes from the input.
            if self.has_uninitialized_params() or not any(
                    t is not None for t in list(self._parameters.values()) + list(self._buffers.values())):
                self.initialize_parameters(args[0])
            self._sizes_from_parameters()
            self.__class__ = self.cls_to_become
        return Module.__call__(self, *args, **kwargs)

    def _materialize_buffer(self, name, shape):
        self._buffers[name] = self._buffers[name].materialize(shape)


def _size(input, dim, batched_ndim, name):
    """input.shape[dim] of a batched input (dim - 1 of an unbatched one)."""
    if input.ndim == batched_ndim:
        return input.shape[dim]
    if input.ndim == batched_ndim - 1:
        return input.shape[dim - 1]
    raise ValueError(f"{name}: expected a {batched_ndim - 1}-D or {batched_ndim}-D input, got shape "
                     f"{tuple(input.shape)}")


class LazyLinear(LazyModuleMixin, Linear):
    """Linear(in_features, out_features) with in_features the first input's last size."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        Module.__init__(self)
        self.in_features, self.out_features = 0, out_features
        self.weight = UninitializedParameter(dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def initialize_parameters(self, input):
        if input.ndim < 1:
            raise ValueError("LazyLinear: the input must have at least 1 dim")
        self.in_features = input.shape[-1]
        self.weight.materialize((self.out_features, self.in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.reset_parameters()

    def _sizes_from_parameters(self):
        self.in_features = self.weight.shape[1]


class _LazyConv(LazyModuleMixin):
    """A convolution of unknown in_channels (the first input's channel count)."""

    _transposed = False

    def __init__(self, out_channels, kernel_size, *args, **kwargs):
        groups = kwargs.get("groups", 1)
        # The layer's own constructor with a stand-in channel count, then placeholders.
        self.cls_to_become.__init__(self, groups, out_channels, kernel_size, *args, **kwargs)
        self.in_channels = 0
        dtype = self.weight.dtype
        self.weight = UninitializedParameter(dtype=dtype)
        if self.bias is not None:
            self.bias = UninitializedParameter(dtype=dtype)

    def initialize_parameters(self, input):
        name = type(self).__name__
        c = _size(input, 1, self._n + 2, name)
        if c % self.groups:
            raise ValueError(f"{name}: the input's {c} channels are not divisible by groups ({self.groups})")
        self.in_channels = c
        if self._transposed:
            shape = (c, self.out_channels // self.groups) + tuple(self.kernel_size)
        else:
            shape = (self.out_channels, c // self.groups) + tuple(self.kernel_size)
        self.weight.materialize(shape)
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()

    def _sizes_from_parameters(self):
        self.in_channels = self.weight.shape[0] if self._transposed else self.weight.shape[1] * self.groups


class LazyConv1d(_LazyConv, Conv1d):
    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConv, ConvTranspose1d):
    cls_to_become = ConvTranspose1d
    _transposed = True


class LazyConvTranspose2d(_LazyConv, ConvTranspose2d):
    cls_to_become = ConvTranspose2d
    _transposed = True


class LazyConvTranspose3d(_LazyConv, ConvTranspose3d):
    cls_to_become = ConvTranspose3d
    _transposed = True


class _LazyNorm(LazyModuleMixin):
    """Batch or instance norm of unknown num_features (the first input's channel count)."""

    _base = _BatchNorm

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
        self._base.__init__(self, 0, eps, momentum, affine, track_running_stats, dtype)
        if affine:
            self.weight = UninitializedParameter(dtype=self.weight.dtype)
            self.bias = UninitializedParameter(dtype=self.bias.dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=self.running_mean.dtype)
            self.running_var = UninitializedBuffer(dtype=self.running_var.dtype)

    def initialize_parameters(self, input):
        if input.ndim < 2:
            raise ValueError(f"{type(self).__name__}: expected an input of at least 2 dims (N, C, ...), got shape "
                             f"{tuple(input.shape)}")
        # An unbatched instance-norm input (C, ...) has its channels first.
        c = input.shape[0] if self._base is _InstanceNorm and input.ndim == self._dims - 1 else input.shape[1]
        self.num_features = c
        if self.affine:
            self.weight.materialize((c,))
            self.bias.materialize((c,))
            with no_grad():
                self.weight.fill_(1.0)
                self.bias.zero_()
        if self.track_running_stats:
            self._materialize_buffer("running_mean", (c,))
            self._materialize_buffer("running_var", (c,))
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                if getattr(self, "num_batches_tracked", None) is not None:
                    self.num_batches_tracked.zero_()

    def _sizes_from_parameters(self):
        t = self.weight if self.affine else self.running_mean
        if t is not None:
            self.num_features = t.shape[0]


class LazyBatchNorm1d(_LazyNorm, BatchNorm1d):
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNorm, BatchNorm2d):
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNorm, BatchNorm3d):
    cls_to_become = BatchNorm3d


class _LazyInstanceNorm(_LazyNorm):
    _base = _InstanceNorm

    def __init__(self, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None, dtype=None):
        super().__init__(eps, momentum, affine, track_running_stats, device, dtype)


class LazyInstanceNorm1d(_LazyInstanceNorm, InstanceNorm1d):
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyInstanceNorm, InstanceNorm2d):
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyInstanceNorm, InstanceNorm3d):
    cls_to_become = InstanceNorm3d
