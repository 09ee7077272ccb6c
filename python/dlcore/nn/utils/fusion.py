"""Folding an eval-mode batch norm into the convolution or linear layer before it, as
``torch.nn.utils.fusion``: y = gamma (W x + b - mean) / sqrt(var + eps) + beta is
W' x + b' with W' = W s and b' = (b - mean) s + beta, s = gamma / sqrt(var + eps) per
output channel."""
import copy

from ...grad_mode import no_grad
from ..module import Parameter


def _scale(bn_rv, bn_eps, bn_w):
    s = (bn_rv + bn_eps).rsqrt()
    return s * bn_w if bn_w is not None else s


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """(W', b') as Parameters; the output channels are dim 0 of W (dim 1 with transpose)."""
    with no_grad():
        s = _scale(bn_rv, bn_eps, bn_w)
        shape = [1] * conv_w.ndim
        shape[1 if transpose else 0] = -1
        w = conv_w * s.reshape(shape).to(conv_w.dtype)
        b = conv_b if conv_b is not None else bn_rm * 0
        b = (b - bn_rm) * s + (bn_b if bn_b is not None else 0.0)
    return Parameter(w.contiguous(), conv_w.requires_grad), Parameter(b.to(conv_w.dtype), conv_w.requires_grad)


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of conv (in eval mode, as bn must be) computing conv then bn."""
    if conv.training or bn.training:
        raise ValueError("fuse_conv_bn_eval: fusion only for eval mode (call .eval() on both)")
    if not bn.track_running_stats:
        raise ValueError("fuse_conv_bn_eval: the batch norm keeps no running statistics")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """(W', b') for a Linear followed by a BatchNorm1d over its outputs."""
    return fuse_conv_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)


def fuse_linear_bn_eval(linear, bn):
    """A copy of linear (eval mode) computing linear then bn."""
    if linear.training or bn.training:
        raise ValueError("fuse_linear_bn_eval: fusion only for eval mode (call .eval() on both)")
    if linear.out_features != bn.num_features:
        raise ValueError(f"fuse_linear_bn_eval: the linear layer's {linear.out_features} outputs and the batch "
                         f"norm's {bn.num_features} features differ")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused
