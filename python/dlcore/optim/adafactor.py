"""Adafactor (Shazeer and Stern, 2018) with PyTorch's rule (``torch.optim.Adafactor``): the
second moment of a matrix's gradient kept as its row and column means (memory m + n, not
m n), a relative step size, and the update clipped by its RMS. Composed of dlcore ops, one
parameter at a time."""
import math

from .._composite import finfo
from ..creation import zeros
from .rprop_asgd import _ComposedOptimizer


class Adafactor(_ComposedOptimizer):
    """Adafactor, step t for a parameter p with gradient g:

    - beta2_t = 1 - t^beta2_decay; rho_t = min(lr, 1 / sqrt(t)); alpha = max(eps2, RMS(p)) rho_t
    - weight decay: p <- p (1 - lr weight_decay)
    - p with 2 or more dims (factored over the last two): row_var <- lerp(row_var, mean(g^2,
      -1), 1 - beta2_t), col_var likewise over dim -2; v = row_var col_var / max(eps1,
      mean(row_var over rows)); 0- or 1-D: v <- lerp(v, g^2, 1 - beta2_t)
    - u = g / sqrt(max(v, eps1^2)); p <- p - alpha u / max(1, RMS(u) / d)

    ``eps = (eps1, eps2)``; eps1 None means the dtype's machine epsilon.
    """

    _slots = ("row_var", "col_var", "variance")

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d,
                                      weight_decay=weight_decay, foreach=foreach, maximize=maximize))

    def _validate(self, group):
        eps = group["eps"]
        checks = [(group["lr"] >= 0.0, f"Learning rate should be >= 0 but is: {group['lr']}"),
                  (group["beta2_decay"] <= 0.0, f"beta2_decay should be <= 0 but is: {group['beta2_decay']}"),
                  (eps[0] is None or eps[0] >= 0.0, f"epsilon1 should be >= 0 but is: {eps[0]}"),
                  (eps[1] >= 0.0, f"epsilon2 should be >= 0 but is: {eps[1]}"),
                  (group["d"] >= 1.0, f"Clipping threshold d should be >= 1 but is: {group['d']}"),
                  (group["weight_decay"] >= 0.0, f"weight_decay should be >= 0 but is: {group['weight_decay']}")]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def _slot_shape(self, name, p):
        shape = list(p.shape)
        if name == "row_var":
            shape[-1] = 1
        elif name == "col_var":
            shape[-2] = 1
        return tuple(shape)

    def _init_slot(self, group, name, p):
        if (name == "variance") == (p.ndim > 1):  # factored: row_var and col_var; else variance
            return None
        return zeros(self._slot_shape(name, p), dtype=p.dtype)

    def _update(self, group, p, g, st):
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = finfo(p.dtype).eps
        lr, t = group["lr"], st["step"]
        one_minus_beta2 = t ** group["beta2_decay"]
        rho = min(lr, 1.0 / math.sqrt(t))
        n = max(p.numel(), 1)
        alpha = max(eps2, float((p * p).sum()) ** 0.5 / n ** 0.5) * rho
        if group["weight_decay"]:
            p.mul_(1.0 - lr * group["weight_decay"])
        if p.ndim > 1:
            row, col = st["row_var"], st["col_var"]
            row.lerp_((g * g).mean(-1, keepdim=True), one_minus_beta2)
            col.lerp_((g * g).mean(-2, keepdim=True), one_minus_beta2)
            v = (row @ col) / row.mean(-2, keepdim=True).clamp_min(eps1)
        else:
            st["variance"].lerp_(g * g, one_minus_beta2)
            v = st["variance"]
        u = g * v.clamp_min(eps1 * eps1).rsqrt()
        denom = max(1.0, float((u * u).sum()) ** 0.5 / (n ** 0.5 * group["d"]))
        p.sub_(u * (alpha / denom))
