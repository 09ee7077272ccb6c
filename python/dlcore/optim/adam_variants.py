"""Adamax, NAdam and RAdam: Adam's moment estimates with other steps (PyTorch's rules; the
fused C++ update is spelled out in cpp/src/kernels/cpu/optim_simd.cpp)."""
from .optimizer import Optimizer


def _check_betas(betas):
    if not 0.0 <= betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameters: {betas}")
    return tuple(betas)


class Adamax(Optimizer):
    """Adam with the infinity norm: u = max(beta2 u, |g| + eps), p -= lr / (1 - beta1^t) m / u."""

    _kind = "adamax"
    _slots = ("exp_avg", "exp_inf")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=_check_betas(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _hyper(self, g):
        return dict(lr=g["lr"], beta1=g["betas"][0], beta2=g["betas"][1], eps=g["eps"],
                    weight_decay=g["weight_decay"], maximize=g["maximize"])


class NAdam(Optimizer):
    """Adam with Nesterov momentum and the momentum schedule mu_t = beta1 (1 - 0.96^(t
    momentum_decay) / 2); ``decoupled_weight_decay`` applies the decay as AdamW does."""

    _kind = "nadam"
    _slots = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False):
        if momentum_decay < 0.0:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=_check_betas(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def _hyper(self, g):
        return dict(lr=g["lr"], beta1=g["betas"][0], beta2=g["betas"][1], eps=g["eps"],
                    weight_decay=g["weight_decay"], momentum_decay=g["momentum_decay"],
                    decoupled=g["decoupled_weight_decay"], maximize=g["maximize"])

    def _scalars(self, group, items):
        b1, psi = group["betas"][0], group["momentum_decay"]
        out = []
        for _, _, st in items:
            mu = b1 * (1.0 - 0.5 * 0.96 ** (st["step"] * psi))
            st["mu_product"] = st.get("mu_product", 1.0) * mu
            out.append(st["mu_product"])
        return out


class RAdam(Optimizer):
    """Adam with the variance rectification: a plain momentum step while the length of the
    approximated moving average is 5 or less, then the rectified adaptive step."""

    _kind = "radam"
    _slots = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=_check_betas(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def _hyper(self, g):
        return dict(lr=g["lr"], beta1=g["betas"][0], beta2=g["betas"][1], eps=g["eps"],
                    weight_decay=g["weight_decay"], decoupled=g["decoupled_weight_decay"], maximize=g["maximize"])
