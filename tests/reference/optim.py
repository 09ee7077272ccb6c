"""NumPy re-implementations of the optimizers' update rules and the learning-rate
schedules, written from PyTorch's documented algorithms (float64)."""
import math

import numpy as np


def _decay(p, g, lr, weight_decay, decoupled, maximize):
    """The Adam family's first step: g negated for maximize, then weight decay applied to p
    (decoupled, AdamW-style) or added to g (L2)."""
    g = -g if maximize else g
    if decoupled:
        return p * (1 - lr * weight_decay), g
    return p, (g + weight_decay * p if weight_decay else g)


class SGD:
    def __init__(self, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
        self.__dict__.update(locals())
        self.buf = None

    def step(self, p, g):
        g = -g if self.maximize else g
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            self.buf = g.copy() if self.buf is None else self.momentum * self.buf + (1 - self.dampening) * g
            g = g + self.momentum * self.buf if self.nesterov else self.buf
        return p - self.lr * g


class Adam:
    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                 decoupled=False):
        self.__dict__.update(locals())
        self.t, self.m, self.v, self.vmax = 0, 0.0, 0.0, 0.0

    def step(self, p, g):
        b1, b2 = self.betas
        self.t += 1
        p, g = _decay(p, g, self.lr, self.weight_decay, self.decoupled, self.maximize)
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        m_hat = self.m / (1 - b1 ** self.t)
        v = self.v
        if self.amsgrad:
            self.vmax = np.maximum(self.vmax, self.v)
            v = self.vmax
        v_hat = v / (1 - b2 ** self.t)
        return p - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False):
    return Adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=True)


class Adagrad:
    def __init__(self, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 maximize=False):
        self.__dict__.update(locals())
        self.t, self.sum = 0, initial_accumulator_value

    def step(self, p, g):
        self.t += 1
        g = -g if self.maximize else g
        if self.weight_decay:
            g = g + self.weight_decay * p
        clr = self.lr / (1 + (self.t - 1) * self.lr_decay)
        self.sum = self.sum + g * g
        return p - clr * g / (np.sqrt(self.sum) + self.eps)


class RMSprop:
    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 maximize=False):
        self.__dict__.update(locals())
        self.v, self.gavg, self.buf = 0.0, 0.0, 0.0

    def step(self, p, g):
        g = -g if self.maximize else g
        if self.weight_decay:
            g = g + self.weight_decay * p
        self.v = self.alpha * self.v + (1 - self.alpha) * g * g
        if self.centered:
            self.gavg = self.alpha * self.gavg + (1 - self.alpha) * g
            avg = np.sqrt(self.v - self.gavg ** 2) + self.eps
        else:
            avg = np.sqrt(self.v) + self.eps
        if self.momentum > 0:
            self.buf = self.momentum * self.buf + g / avg
            return p - self.lr * self.buf
        return p - self.lr * g / avg


class Adafactor:
    """Adafactor as PyTorch documents it: a relative step size, the second moment of a
    matrix's gradient factored into row and column means (over the last two dims), and the
    update's RMS clipped to d."""

    def __init__(self, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, maximize=False):
        self.__dict__.update(locals())
        self.t, self.row, self.col, self.v = 0, 0.0, 0.0, 0.0

    def step(self, p, g, eps1_default=np.finfo(np.float64).eps):
        self.t += 1
        g = -g if self.maximize else g
        eps1 = self.eps[0] if self.eps[0] is not None else eps1_default
        beta2 = 1 - self.t ** self.beta2_decay
        rho = min(self.lr, 1 / math.sqrt(self.t))
        rms = lambda x: math.sqrt(np.mean(np.square(x))) if np.size(x) else 0.0  # noqa: E731
        alpha = max(self.eps[1], rms(p)) * rho
        p = p * (1 - self.lr * self.weight_decay)
        if np.ndim(g) > 1:
            self.row = beta2 * self.row + (1 - beta2) * np.mean(g * g, axis=-1, keepdims=True)
            self.col = beta2 * self.col + (1 - beta2) * np.mean(g * g, axis=-2, keepdims=True)
            v = self.row * self.col / np.maximum(np.mean(self.row, axis=-2, keepdims=True), eps1)
        else:
            self.v = beta2 * self.v + (1 - beta2) * g * g
            v = self.v
        u = g / np.sqrt(np.maximum(v, eps1 * eps1))
        return p - alpha * u / max(1.0, rms(u) / self.d)


class Muon:
    """Muon as PyTorch documents it, written from the equations: B <- mu B + g,
    U = g + mu B (Nesterov) or B, O = k Newton-Schulz steps on U / ||U|| (on U^T for a
    tall U), decoupled weight decay, and the step scaled by the matrix's shape. (The
    momentum is kept unnormalised here, dlcore keeps it as a moving average: the update is
    the same, the normalisation removes the scale.)"""

    def __init__(self, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.775, 2.0315), eps=1e-7, ns_steps=5, adjust_lr_fn=None):
        self.__dict__.update(locals())
        self.b = 0.0

    def orthogonalise(self, u):
        a, b, c = self.ns_coefficients
        x = u.T if u.shape[0] > u.shape[1] else u
        x = x / max(np.sqrt(np.sum(x * x)), self.eps)
        for _ in range(self.ns_steps):
            gram = x @ x.T
            x = a * x + b * gram @ x + c * gram @ gram @ x
        return x.T if u.shape[0] > u.shape[1] else x

    def step(self, p, g):
        self.b = self.momentum * self.b + g
        u = g + self.momentum * self.b if self.nesterov else self.b
        rows, cols = p.shape
        scale = 0.2 * math.sqrt(max(rows, cols)) if self.adjust_lr_fn == "match_rms_adamw" else \
            math.sqrt(max(1.0, rows / cols))
        return p * (1 - self.lr * self.weight_decay) - self.lr * scale * self.orthogonalise(u)


# ---- learning-rate schedules: lr at epoch t for a base rate
def step_lr(base, t, step_size, gamma=0.1):
    return base * gamma ** (t // step_size)


def multistep_lr(base, t, milestones, gamma=0.1):
    return base * gamma ** sum(1 for m in milestones if m <= t)


def exponential_lr(base, t, gamma):
    return base * gamma ** t


def cosine_lr(base, t, t_max, eta_min=0.0):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2


def linear_lr(base, t, start, end, total):
    return base * (start + (end - start) * min(t, total) / total)


def one_cycle_lr(t, max_lr, total, pct_start=0.3, div=25.0, final_div=1e4):
    """Two phases with cosine annealing: up from max_lr/div to max_lr until step
    pct_start*total - 1, then down to max_lr/(div*final_div) at step total - 1."""
    initial, low = max_lr / div, max_lr / div / final_div
    peak = pct_start * total - 1

    def cos(a, b, pct):
        return b + (a - b) / 2 * (math.cos(math.pi * pct) + 1)

    if t <= peak:
        return cos(initial, max_lr, t / peak)
    return cos(max_lr, low, (t - peak) / (total - 1 - peak))


def constant_lr(base, t, factor, total):
    return base * factor if t < total else base


def polynomial_lr(base, t, total, power):
    return base * (1 - min(t, total) / total) ** power


def warm_restarts_lr(base, t, t0, t_mult, eta_min):
    """Walks the periods (t0, t0 t_mult, ...) to the one holding epoch t."""
    start, length = 0, t0
    while t >= start + length:
        start += length
        length *= t_mult
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * (t - start) / length)) / 2


def cyclic_fraction(t, up, down):
    """How far up the current cycle's triangle step t is (0 at base_lr, 1 at max_lr)."""
    pos = t % (up + down)
    return pos / up if pos <= up else 1 - (pos - up) / down


def cyclic_lr(base, top, t, up, down, mode="triangular", gamma=1.0):
    amplitude = {"triangular": 1.0, "triangular2": 0.5 ** (t // (up + down)), "exp_range": gamma ** t}[mode]
    return base + (top - base) * cyclic_fraction(t, up, down) * amplitude


class Adamax:
    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
        self.__dict__.update(locals())
        self.t, self.m, self.u = 0, 0.0, 0.0

    def step(self, p, g):
        b1, b2 = self.betas
        self.t += 1
        g = -g if self.maximize else g
        if self.weight_decay:
            g = g + self.weight_decay * p
        self.m = b1 * self.m + (1 - b1) * g
        self.u = np.maximum(b2 * self.u, np.abs(g) + self.eps)
        return p - self.lr / (1 - b1 ** self.t) * self.m / self.u


class NAdam:
    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, maximize=False):
        self.__dict__.update(locals())
        self.t, self.m, self.v, self.mu_product = 0, 0.0, 0.0, 1.0

    def step(self, p, g):
        b1, b2 = self.betas
        self.t += 1
        p, g = _decay(p, g, self.lr, self.weight_decay, self.decoupled_weight_decay, self.maximize)
        mu = b1 * (1 - 0.5 * 0.96 ** (self.t * self.momentum_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((self.t + 1) * self.momentum_decay))
        self.mu_product *= mu
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        denom = np.sqrt(self.v / (1 - b2 ** self.t)) + self.eps
        p = p - self.lr * (1 - mu) / (1 - self.mu_product) * g / denom
        return p - self.lr * mu_next / (1 - self.mu_product * mu_next) * self.m / denom


class RAdam:
    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
                 maximize=False):
        self.__dict__.update(locals())
        self.t, self.m, self.v = 0, 0.0, 0.0

    def step(self, p, g):
        b1, b2 = self.betas
        self.t += 1
        p, g = _decay(p, g, self.lr, self.weight_decay, self.decoupled_weight_decay, self.maximize)
        self.m = b1 * self.m + (1 - b1) * g
        self.v = b2 * self.v + (1 - b2) * g * g
        m_hat = self.m / (1 - b1 ** self.t)
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * self.t * b2 ** self.t / (1 - b2 ** self.t)
        if rho_t > 5:
            r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = math.sqrt(1 - b2 ** self.t) / (np.sqrt(self.v) + self.eps)
            return p - self.lr * m_hat * r * adaptive
        return p - self.lr * m_hat


class Adadelta:
    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
        self.__dict__.update(locals())
        self.v, self.u = 0.0, 0.0

    def step(self, p, g):
        g = -g if self.maximize else g
        if self.weight_decay:
            g = g + self.weight_decay * p
        self.v = self.rho * self.v + (1 - self.rho) * g * g
        d = np.sqrt(self.u + self.eps) / np.sqrt(self.v + self.eps) * g
        self.u = self.rho * self.u + (1 - self.rho) * d * d
        return p - self.lr * d


class Rprop:
    """Per-weight step sizes: times etas[1] while the gradient keeps its sign, times etas[0]
    (and no step) when it flips, within step_sizes; p moves by -sign(g) step."""

    def __init__(self, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
        self.__dict__.update(locals())
        self.prev = None
        self.size = None

    def step(self, p, g):
        g = -g if self.maximize else g
        if self.prev is None:
            self.prev, self.size = np.zeros_like(p), np.full_like(p, self.lr)
        out, prev = p.copy(), self.prev.copy()
        for i in range(p.size):
            s = g.flat[i] * prev.flat[i]
            factor = self.etas[1] if s > 0 else (self.etas[0] if s < 0 else 1.0)
            self.size.flat[i] = min(max(self.size.flat[i] * factor, self.step_sizes[0]), self.step_sizes[1])
            gi = 0.0 if s < 0 else g.flat[i]
            out.flat[i] -= np.sign(gi) * self.size.flat[i]
            self.prev.flat[i] = gi
        return out


class ASGD:
    """SGD with the decay p (1 - lambd eta), eta = lr / (1 + lambd lr t)^alpha after step t,
    and the average ax of the iterates (mu = 1 / max(1, t - t0))."""

    def __init__(self, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False):
        self.__dict__.update(locals())
        self.t, self.eta, self.mu, self.ax = 0, lr, 1.0, None

    def step(self, p, g):
        g = -g if self.maximize else g
        self.t += 1
        g = g + self.weight_decay * p
        p = p * (1 - self.lambd * self.eta) - self.eta * g
        self.ax = p.copy() if self.mu == 1 else self.ax + (p - self.ax) * self.mu
        self.eta = self.lr / (1 + self.lambd * self.lr * self.t) ** self.alpha
        self.mu = 1 / max(1, self.t - self.t0)
        return p
