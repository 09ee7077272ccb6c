"""More of PyTorch's nn names, composed of dlcore's ops and layers:

- power-average pooling ``lp_pool1d/2d/3d`` and ``LPPool1d/2d/3d`` (PyTorch's arithmetic:
  the window's average of x^p times the kernel size, to the power 1/p; inf is max pooling);
- ``max_unpool1d/3d`` and ``MaxUnpool1d/3d`` (max_unpool2d is in pooling.py);
- ``feature_alpha_dropout`` and ``FeatureAlphaDropout`` (alpha dropout of whole channels);
- ``multilabel_margin_loss`` / ``MultiLabelMarginLoss`` and
  ``triplet_margin_with_distance_loss`` / ``TripletMarginWithDistanceLoss``;
- the in-place activations of nn.functional (``relu_ elu_ leaky_relu_ hardtanh_ selu_
  celu_ rrelu_ threshold_``), the ``*_with_indices`` pools and the old ``upsample*`` names;
- ``SyncBatchNorm`` (batch norm over (N, C, ...); one process holds the whole batch) with
  ``convert_sync_batchnorm``, and ``DataParallel`` (runs the module; ``.module`` and the
  ``module.`` state-dict prefix as in PyTorch).
"""
import math

from .. import _C
from .._inplace import writer
from ..creation import rand, zeros
from . import functional as F
from ._args import _ntuple
from .dropout import _ChannelDropout
from .loss import _Loss
from .module import Module
from .norm import _BatchNorm
from .pooling import _Pool, unpool_scatter


# ---- power-average pooling

def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, n, op):
    k = _ntuple(kernel_size, n, "kernel_size", op)
    s = k if stride is None else _ntuple(stride, n, "stride", op)
    if norm_type == math.inf:
        return {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[n](input, k, s, 0, 1, ceil_mode)
    avg = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[n]
    mean = avg(input.pow(norm_type), k[0] if n == 1 else k, s[0] if n == 1 else s, 0, ceil_mode)
    return (mean * math.prod(k)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1, "lp_pool1d")


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2, "lp_pool2d")


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3, "lp_pool3d")


class _LPPool(_Pool):
    _fn = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input):
        return type(self)._fn(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class LPPool1d(_LPPool):
    _fn = staticmethod(lp_pool1d)


class LPPool2d(_LPPool):
    _fn = staticmethod(lp_pool2d)


class LPPool3d(_LPPool):
    _fn = staticmethod(lp_pool3d)


# ---- unpooling

def _max_unpool(input, indices, kernel_size, stride, padding, output_size, n, op):
    """Each value put at its flat index into an output of spatial size output_size (or
    (in - 1) stride - 2 padding + kernel per dim); zeros elsewhere."""
    batched = input.ndim == n + 2
    if input.ndim not in (n + 1, n + 2):
        raise ValueError(f"{op}: expected a {n + 1}-D or {n + 2}-D input, got shape {tuple(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise ValueError(f"{op}: indices of shape {tuple(indices.shape)} must match the input's "
                         f"{tuple(input.shape)}")
    x, idx = (input, indices) if batched else (input.unsqueeze(0), indices.unsqueeze(0))
    k = _ntuple(kernel_size, n, "kernel_size", op)
    s = k if stride is None else _ntuple(stride, n, "stride", op)
    p = _ntuple(padding, n, "padding", op)
    if output_size is None:
        size = tuple((x.shape[2 + i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(n))
    else:
        size = tuple(output_size)[-n:]
    N, C = x.shape[0], x.shape[1]
    flat = idx.reshape(N, C, -1)
    total = math.prod(size)
    if flat.numel() and (bool((flat < 0).any().item()) or bool((flat >= total).any().item())):
        bad = int(flat[(flat < 0) | (flat >= total)][0].item())
        raise IndexError(f"{op}: index {bad} is out of range for an output of size {size}")
    out = unpool_scatter(x.reshape(N, C, -1), flat, total).reshape(N, C, *size)
    return out if batched else out.squeeze(0)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1, "max_unpool1d")


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3, "max_unpool3d")


class _MaxUnpool(_Pool):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, input, indices, output_size=None):
        return type(self)._fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpool):
    _fn = staticmethod(max_unpool1d)


class MaxUnpool3d(_MaxUnpool):
    _fn = staticmethod(max_unpool3d)


# ---- dropout

def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout with one draw per channel (dims 0 and 1 of (N, C, ...)): a dropped
    channel takes SELU's negative saturation value throughout."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"feature_alpha_dropout: probability has to be between 0 and 1, got {p}")
    if not training or p == 0.0:
        return input
    if input.ndim < 2:
        raise ValueError(f"feature_alpha_dropout: expected an input of at least 2 dims (N, C, ...), got shape "
                         f"{tuple(input.shape)}")
    if p == 1.0:
        return input * 0.0
    sat = -F._SELU_SCALE * F._SELU_ALPHA
    a = ((1.0 - p) * (1.0 + p * sat * sat)) ** -0.5
    keep = rand(*(tuple(input.shape[:2]) + (1,) * (input.ndim - 2)), dtype=input.dtype) >= p
    return _C.where(keep, input, sat) * a + (-a * sat * p)


class FeatureAlphaDropout(_ChannelDropout):
    """Alpha dropout of whole channels (see feature_alpha_dropout); the identity in eval mode."""
    _fn = staticmethod(feature_alpha_dropout)


# ---- losses

def multilabel_margin_loss(input, target, reduction="mean"):
    """For input (C) or (N, C) and target of the same shape listing each sample's classes
    (integers, up to the first -1): sum over listed classes j (as often as listed) and
    unlisted classes i of max(0, 1 - (x_j - x_i)), divided by C."""
    if tuple(input.shape) != tuple(target.shape) or input.ndim not in (1, 2):
        raise ValueError(f"multilabel_margin_loss: expected input and target of one shape (C) or (N, C), got "
                         f"{tuple(input.shape)} and {tuple(target.shape)}")
    if target.dtype.is_floating_point or target.dtype == _C.dtype.bool:
        raise TypeError(f"multilabel_margin_loss: expected an integer target, got {target.dtype.name}")
    x, t = (input, target) if input.ndim == 2 else (input.unsqueeze(0), target.unsqueeze(0))
    n, c = x.shape
    if t.numel() and (bool((t < -1).any().item()) or bool((t >= c).any().item())):
        raise IndexError(f"multilabel_margin_loss: target values must be -1 or classes in [0, {c})")
    listed = (t >= 0).to(_C.dtype.int64).cumprod(1) > 0  # entries before the first -1
    counts = zeros(n, c + 1, dtype=_C.dtype.int64).scatter_add(1, _C.where(listed, t, c), listed.to(_C.dtype.int64))
    counts = counts[:, :c].to(x.dtype)
    is_target = counts > 0
    hinge = (1.0 - x.unsqueeze(2) + x.unsqueeze(1)).relu()  # [n, j, i] = max(0, 1 - (x_j - x_i))
    loss = (hinge * counts.unsqueeze(2) * (~is_target).unsqueeze(1).to(x.dtype)).sum((1, 2)) / c
    if input.ndim == 1:
        loss = loss.squeeze(0)
    return F._reduce(loss, reduction, "multilabel_margin_loss")


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin) with distance_function d (pairwise_distance by
    default); swap uses min(d(a, n), d(p, n))."""
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be greater than 0, got {margin}")
    d = distance_function or F.pairwise_distance
    d_pos, d_neg = d(anchor, positive), d(anchor, negative)
    if swap:
        d_neg = _C.minimum(d_neg, d(positive, negative))
    return F._reduce((d_pos - d_neg + margin).relu(), reduction, "triplet_margin_with_distance_loss")


class MultiLabelMarginLoss(_Loss):
    def forward(self, input, target):
        return multilabel_margin_loss(input, target, self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    def __init__(self, *, distance_function=None, margin=1.0, swap=False, reduction="mean"):
        super().__init__(reduction)
        self.distance_function, self.margin, self.swap = distance_function, margin, swap

    def forward(self, anchor, positive, negative):
        return triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=self.distance_function,
                                                 margin=self.margin, swap=self.swap, reduction=self.reduction)


# ---- functional odds and ends

relu_ = writer("relu_", F.relu, "relu(input)")
elu_ = writer("elu_", F.elu, "elu(input, alpha)")
leaky_relu_ = writer("leaky_relu_", F.leaky_relu, "leaky_relu(input, negative_slope)")
hardtanh_ = writer("hardtanh_", F.hardtanh, "hardtanh(input, min_val, max_val)")
selu_ = writer("selu_", F.selu, "selu(input)")
celu_ = writer("celu_", F.celu, "celu(input, alpha)")
rrelu_ = writer("rrelu_", F.rrelu, "rrelu(input, lower, upper, training)")
threshold_ = writer("threshold_", F.threshold, "threshold(input, threshold, value)")


def _with_indices(pool):
    def f(*args, **kwargs):
        kwargs["return_indices"] = True
        return pool(*args, **kwargs)
    f.__name__ = pool.__name__ + "_with_indices"
    f.__doc__ = f"{pool.__name__}(..., return_indices=True): (values, indices)."
    return f


max_pool1d_with_indices = _with_indices(F.max_pool1d)
max_pool2d_with_indices = _with_indices(F.max_pool2d)
max_pool3d_with_indices = _with_indices(F.max_pool3d)
adaptive_max_pool1d_with_indices = _with_indices(F.adaptive_max_pool1d)
adaptive_max_pool2d_with_indices = _with_indices(F.adaptive_max_pool2d)
adaptive_max_pool3d_with_indices = _with_indices(F.adaptive_max_pool3d)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """PyTorch's older name of interpolate."""
    return F.interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return F.interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Bilinear with align_corners=True, as PyTorch's older function."""
    return F.interpolate(input, size, scale_factor, "bilinear", True)


FUNCTIONS = ["lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d", "max_unpool3d", "feature_alpha_dropout",
             "multilabel_margin_loss", "triplet_margin_with_distance_loss", "relu_", "elu_", "leaky_relu_",
             "hardtanh_", "selu_", "celu_", "rrelu_", "threshold_", "max_pool1d_with_indices",
             "max_pool2d_with_indices", "max_pool3d_with_indices", "adaptive_max_pool1d_with_indices",
             "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices", "upsample", "upsample_nearest",
             "upsample_bilinear"]


# ---- single-process stand-ins

class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, ...) inputs of any rank. Synchronising statistics across
    processes has nothing to do in one process, so this is BatchNorm over the whole batch."""

    _dims = (2, 3, 4, 5)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)
        self.process_group = process_group

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """module with every BatchNorm1d/2d/3d replaced by a SyncBatchNorm holding the same
        parameters and statistics (module itself if it is one)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            new = cls(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats,
                      process_group)
            new.load_state_dict(module.state_dict())
            new.train(module.training)
            return new
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child, process_group)
        return module


class DataParallel(Module):
    """Runs module on the CPU (there is one device): module(*inputs). Kept so that scripts
    written for several GPUs run unchanged, with PyTorch's ``module.`` state-dict prefix."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module, self.device_ids, self.output_device, self.dim = module, device_ids, output_device, dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
