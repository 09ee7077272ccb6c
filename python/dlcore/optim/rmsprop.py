"""RMSprop."""
from .optimizer import Optimizer


class RMSprop(Optimizer):
    """PyTorch's RMSprop: g += wd p; v = alpha v + (1 - alpha) g^2; centered: a = alpha-average
    of g and avg = sqrt(v - a^2) + eps, else sqrt(v) + eps; with momentum b = momentum b + g / avg,
    p -= lr b, else p -= lr g / avg."""

    _kind = "rmsprop"
    _slots = ("square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, *,
                 maximize=False):
        if alpha < 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _needs_slot(self, group, name):
        if name == "grad_avg":
            return group["centered"]
        if name == "momentum_buffer":
            return group["momentum"] > 0.0
        return True

    def _hyper(self, g):
        return dict(lr=g["lr"], alpha=g["alpha"], eps=g["eps"], weight_decay=g["weight_decay"],
                    momentum=g["momentum"], centered=g["centered"], maximize=g["maximize"])
