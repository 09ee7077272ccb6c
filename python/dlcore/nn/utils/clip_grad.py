"""Gradient clipping and an L1 penalty."""
import math

from ... import _C
from ...creation import zeros
from ...grad_mode import no_grad

Tensor = _C.Tensor


def _as_list(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scales the gradients in place so that their joint norm (of the given type, ``inf``
    for the max) is at most max_norm; returns the total norm before clipping as a 0-d tensor.
    With ``error_if_nonfinite`` a NaN or infinite total norm raises RuntimeError."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return zeros([])
    norm_type = float(norm_type)
    with no_grad():
        if norm_type == math.inf:
            total = _C.stack([g.abs().max().double() for g in grads]).max()
        else:
            total = _C.stack([(g.abs().double() ** norm_type).sum() for g in grads]).sum() ** (1.0 / norm_type)
        value = total.item()
        if error_if_nonfinite and not math.isfinite(value):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                               f"{value}; set error_if_nonfinite=False to clip anyway")
        coef = max_norm / (value + 1e-6)
        if coef < 1.0:
            for g in grads:
                g.mul_(coef)
    return total.to(grads[0].dtype)


def clip_grad_value_(parameters, clip_value):
    """Clamps every gradient element into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def l1_penalty(parameters, weight=1.0):
    """weight * sum of |p| over the parameters: add it to the loss for L1 regularisation
    (differentiable; its gradient is weight * sign(p))."""
    terms = [p.abs().sum() for p in _as_list(parameters)]
    if not terms:
        return zeros([])
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total * weight
