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


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm (of the given type, ``inf`` for the max) of all the tensors' values taken
    together, as a 0-d tensor of their dtype; computed in float64. With
    ``error_if_nonfinite`` a NaN or infinite norm raises RuntimeError."""
    ts = [t for t in _as_list(tensors) if t is not None]
    if not ts:
        return zeros([])
    norm_type = float(norm_type)
    with no_grad():
        if norm_type == math.inf:
            total = _C.stack([t.abs().max().double() for t in ts]).max()
        else:
            total = _C.stack([(t.abs().double() ** norm_type).sum() for t in ts]).sum() ** (1.0 / norm_type)
    value = total.item()
    if error_if_nonfinite and not math.isfinite(value):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is {value}; set "
                           "error_if_nonfinite=False to clip anyway")
    return total.to(ts[0].dtype)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales the gradients in place by max_norm / (total_norm + 1e-6) where that is below 1."""
    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    value = total_norm.item() if isinstance(total_norm, _C.Tensor) else float(total_norm)
    coef = max_norm / (value + 1e-6)
    if coef < 1.0:
        with no_grad():
            for g in grads:
                g.mul_(coef)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients in place so that their joint norm (of the given type, ``inf``
    for the max) is at most max_norm; returns the total norm before clipping as a 0-d tensor.
    With ``error_if_nonfinite`` a NaN or infinite total norm raises RuntimeError."""
    params = _as_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return zeros([])
    try:
        total = get_total_norm(grads, norm_type, error_if_nonfinite)
    except RuntimeError as e:
        raise RuntimeError(f"clip_grad_norm_: {e}") from None
    clip_grads_with_norm_(params, max_norm, total)
    return total


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
