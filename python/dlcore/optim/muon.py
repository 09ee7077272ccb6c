"""Muon (Jordan et al., 2024) with PyTorch's rule (``torch.optim.Muon``): momentum SGD for
2-D weights whose update is the momentum orthogonalised by a Newton-Schulz iteration.
Composed of dlcore ops (three small matmuls per iteration), one parameter at a time."""
import math

from ..creation import zeros_like
from .rprop_asgd import _ComposedOptimizer

_ADJUST_LR = ("original", "match_rms_adamw")


def _newton_schulz(g, coefficients, steps, eps):
    """An approximation of U V^T for g = U S V^T: X = g / max(||g||_F, eps), then `steps`
    times X <- a X + (b A + c A^2) X with A = X X^T, on the wide orientation (X^T for a
    tall g, so that A is the smaller Gram matrix). In g's dtype (PyTorch rounds X to
    bfloat16 first, which dlcore does not have: its updates differ from PyTorch's by
    bfloat16's rounding, about 1e-2 relative)."""
    a, b, c = coefficients
    tall = g.shape[0] > g.shape[1]
    x = g.t() if tall else g
    x = x / x.norm().clamp_min(eps)
    for _ in range(steps):
        gram = x @ x.t()
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.t() if tall else x


def _adjusted_lr(lr, shape, how):
    rows, cols = shape
    if how == "match_rms_adamw":
        return 0.2 * lr * math.sqrt(max(rows, cols))
    return lr * math.sqrt(max(1.0, rows / cols))


class Muon(_ComposedOptimizer):
    """Muon, step t for a 2-D parameter p with gradient g:

    - B <- momentum B + (1 - momentum) g; U = (1 - momentum) g + momentum B (nesterov) or
      B (the momentum_buffer is this moving average, as PyTorch keeps it; the update is
      the same as with B <- momentum B + g, U = g + momentum B, whose scale the next line
      removes)
    - O = NS(U): ns_steps (< 100) Newton-Schulz iterations with coefficients (a, b, c),
      from U scaled to Frobenius norm 1 (U / max(||U||, eps))
    - p <- p (1 - lr weight_decay) (decoupled weight decay)
    - p <- p - lr' O, with lr' = lr sqrt(max(1, rows / cols)) (adjust_lr_fn "original", the
      default) or 0.2 lr sqrt(max(rows, cols)) ("match_rms_adamw", AdamW's update RMS)

    Only 2-D parameters: biases, embeddings and the like belong to another optimizer
    (AdamW), in a second optimizer or a second parameter group of one that takes them.
    """

    _slots = ("momentum_buffer",)

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                                      ns_coefficients=tuple(ns_coefficients), eps=eps, ns_steps=ns_steps,
                                      adjust_lr_fn=adjust_lr_fn, maximize=False))

    def _validate(self, group):
        if group["lr"] < 0.0:
            raise ValueError(f"Learning rate should be >= 0 but is: {group['lr']}")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"weight decay should be >= 0 but is: {group['weight_decay']}")
        if group["momentum"] < 0.0:
            raise ValueError(f"momentum should be >= 0 but is: {group['momentum']}")
        if group["eps"] < 0.0:
            raise ValueError(f"eps should be >= 0 but is: {group['eps']}")
        steps = group["ns_steps"]
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps < 100:
            raise ValueError(f"ns_steps should be an int from 0 to 99 but is: {steps!r}")
        if len(group["ns_coefficients"]) != 3:
            raise ValueError(f"ns_coefficients should be three numbers (a, b, c), got {group['ns_coefficients']}")
        if group["adjust_lr_fn"] is not None and group["adjust_lr_fn"] not in _ADJUST_LR:
            raise ValueError(f"Adjust learning rate function {group['adjust_lr_fn']} is not supported "
                             f"(use one of {', '.join(_ADJUST_LR)})")
        for p in group["params"]:
            if p.ndim != 2:
                raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                 f"{tuple(p.shape)}")

    def _init_slot(self, group, name, p):
        return zeros_like(p)

    def _update(self, group, p, g, st):
        mu, lr = group["momentum"], group["lr"]
        buf = st["momentum_buffer"]
        buf.lerp_(g, 1.0 - mu)
        update = g.lerp(buf, mu) if group["nesterov"] else buf
        o = _newton_schulz(update, group["ns_coefficients"], group["ns_steps"], group["eps"])
        if group["weight_decay"]:
            p.mul_(1.0 - lr * group["weight_decay"])
        p.sub_(o * _adjusted_lr(lr, tuple(p.shape), group["adjust_lr_fn"]))
