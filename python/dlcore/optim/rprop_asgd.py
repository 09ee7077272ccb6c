"""Rprop and ASGD, PyTorch's rules, as updates composed of dlcore ops (one parameter at a
time: the fused C++ updates serve the optimizers of the hot training loops)."""
from .. import _C
from ..creation import ones_like
from .optimizer import Optimizer, _full_like


class _ComposedOptimizer(Optimizer):
    """An optimizer whose step runs _update(group, p, grad, state) per parameter with a
    gradient, under no_grad; state starts as {"step": 0} plus _init_slot for each slot."""

    def _step_group(self, group):
        for p, g, st in self._stepped(group):
            self._update(group, p, -g if group["maximize"] else g, st)


class Rprop(_ComposedOptimizer):
    """Resilient backpropagation: each weight has its own step size, multiplied by
    etas[1] while its gradient keeps its sign and by etas[0] when the sign flips (then
    that step is skipped), kept within step_sizes; the weight moves by its step size
    against the gradient's sign."""

    _slots = ("prev", "step_size")

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, maximize=False):
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        super().__init__(params, dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize))

    def _init_slot(self, group, name, p):
        return _full_like(p, group["lr"] if name == "step_size" else 0.0)

    def _update(self, group, p, g, st):
        minus, plus = group["etas"]
        lo, hi = group["step_sizes"]
        s = (g * st["prev"]).sign()
        one = ones_like(s)  # the factors in the parameter's dtype (a bare 1.2 would be float32)
        factor = _C.where(s > 0, one * plus, _C.where(s < 0, one * minus, one))
        st["step_size"].mul_(factor).clamp_(lo, hi)
        g = _C.where(s < 0, 0.0, g)
        p.sub_(g.sign() * st["step_size"])
        st["prev"].copy_(g)


class ASGD(_ComposedOptimizer):
    """Averaged SGD: p <- p (1 - lambd eta) - eta (g + weight_decay p), with the rate eta =
    lr / (1 + lambd lr t)^alpha, and ax, the average of the iterates from step t0 on
    (mu = 1 / max(1, t - t0))."""

    _slots = ("ax",)

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, *, maximize=False):
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      maximize=maximize))

    def _init_numbers(self, group):
        return {"eta": group["lr"], "mu": 1.0}

    def _update(self, group, p, g, st):
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        eta = st["eta"]
        p.mul_(1.0 - group["lambd"] * eta)
        p.sub_(eta * g)
        if st["mu"] != 1.0:
            st["ax"].add_((p - st["ax"]) * st["mu"])
        else:
            st["ax"].copy_(p)
        t = st["step"]
        st["eta"] = group["lr"] / (1.0 + group["lambd"] * group["lr"] * t) ** group["alpha"]
        st["mu"] = 1.0 / max(1.0, t - group["t0"])
