"""Adagrad."""
from .optimizer import Optimizer, _full_like


class Adagrad(Optimizer):
    """PyTorch's Adagrad: g += wd p; sum += g^2; p -= lr / (1 + (t - 1) lr_decay) g / (sqrt(sum) + eps)."""

    _kind = "adagrad"
    _slots = ("sum",)

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 *, maximize=False):
        if lr_decay < 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if initial_accumulator_value < 0.0:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))

    def _init_slot(self, group, name, p):
        return _full_like(p, group["initial_accumulator_value"])

    def _hyper(self, g):
        return dict(lr=g["lr"], lr_decay=g["lr_decay"], weight_decay=g["weight_decay"], eps=g["eps"],
                    maximize=g["maximize"])
