"""L-BFGS (``dlcore.optim.LBFGS``), with PyTorch's arguments: ``step(closure)`` runs up to
``max_iter`` iterations of limited-memory BFGS on all parameters as one vector.

Each iteration takes the direction from the two-loop recursion over the last
``history_size`` pairs (s, y) of steps and gradient changes (Nocedal and Wright, Numerical
Optimization, algorithm 7.4), scaled by s.y / y.y, and moves along it by ``lr`` (the first
iteration by min(1, 1 / |g|_1) lr), or, with ``line_search_fn="strong_wolfe"``, by a step
that satisfies the strong Wolfe conditions (their algorithms 3.5 and 3.6, with cubic
interpolation). The closure must clear the gradients, compute the loss, call backward and
return the loss. The state (the history included) carries over between steps and through
``state_dict``.
"""
import math

from .. import _C
from ..creation import zeros_like
from ..grad_mode import enable_grad, no_grad
from .optimizer import Optimizer

Tensor = _C.Tensor


class LBFGS(Optimizer):
    def __init__(self, params, lr=1.0, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        for name, v in (("max_iter", max_iter), ("max_eval", max_eval), ("history_size", history_size)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"LBFGS: {name} must be a positive int, got {v!r}")
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group):
        if getattr(self, "param_groups", None):
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # ---- the parameters as one vector
    def _flat_grad(self):
        parts = [(p.grad if p.grad is not None else zeros_like(p)).reshape(-1) for p in self._params]
        return _C.cat(parts, 0).detach().clone()

    def _add(self, t, d):
        offset = 0
        with no_grad():
            for p in self._params:
                n = p.numel()
                p.add_(d[offset:offset + n].reshape(tuple(p.shape)) * t)
                offset += n

    def _values(self):
        return [p.detach().clone() for p in self._params]

    def _restore(self, values):
        with no_grad():
            for p, v in zip(self._params, values):
                p.copy_(v)

    def _evaluate(self, closure, x, t, d):
        """The loss and flat gradient at x + t d (the parameters are put back to x)."""
        self._add(t, d)
        with enable_grad():
            loss = float(closure())
        g = self._flat_grad()
        self._restore(x)
        return loss, g

    def step(self, closure):
        if closure is None:
            raise ValueError("LBFGS.step needs a closure that computes the loss and its gradients")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search = group["history_size"], group["line_search_fn"]
        state = self.state.setdefault(id(self._params[0]), {"func_evals": 0, "n_iter": 0})

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        evals = 1
        state["func_evals"] += 1
        g = self._flat_grad()
        if float(g.abs().max()) <= tol_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        # copies: the lists in the state (and in any state_dict taken from it) are never changed
        old_y, old_s, ro = (list(state.get(k, [])) for k in ("old_dirs", "old_stps", "ro"))
        h_diag, prev_g, prev_loss = state.get("H_diag", 1.0), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d, old_y, old_s, ro, h_diag = -g, [], [], [], 1.0
            else:
                y, s = g - prev_g, d * t
                ys = float((y * s).sum())
                if ys > 1e-10:  # keep the pair only where it keeps the update positive definite
                    if len(old_y) == history_size:
                        old_y.pop(0), old_s.pop(0), ro.pop(0)
                    old_y.append(y), old_s.append(s), ro.append(1.0 / ys)
                    h_diag = ys / float((y * y).sum())
                q = -g
                alpha = [0.0] * len(old_y)
                for i in reversed(range(len(old_y))):
                    alpha[i] = float((old_s[i] * q).sum()) * ro[i]
                    q = q - old_y[i] * alpha[i]
                r = q * h_diag
                for i in range(len(old_y)):
                    beta = float((old_y[i] * r).sum()) * ro[i]
                    r = r + old_s[i] * (alpha[i] - beta)
                d = r
            prev_g, prev_loss = g, loss
            t = min(1.0, 1.0 / float(g.abs().sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float((g * d).sum())
            if gtd > -tol_change:  # not a descent direction
                break
            ls_evals = 0
            if line_search == "strong_wolfe":
                x = self._values()
                loss, g, t, ls_evals = _strong_wolfe(lambda step: self._evaluate(closure, x, step, d), t, d, loss,
                                                     g, gtd, tol_change, max_eval - evals)
                self._add(t, d)
            else:
                self._add(t, d)
                if n_iter != max_iter:
                    with enable_grad():
                        loss = float(closure())
                    g = self._flat_grad()
                    ls_evals = 1
            evals += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or evals >= max_eval:
                break
            if float(g.abs().max()) <= tol_grad:
                break
            if float((d * t).abs().max()) <= tol_change or abs(loss - prev_loss) < tol_change:
                break

        state.update(d=d, t=t, old_dirs=old_y, old_stps=old_s, ro=ro, H_diag=h_diag, prev_flat_grad=prev_g,
                     prev_loss=prev_loss)
        return orig_loss


def _cubic_min(x1, f1, g1, x2, f2, g2, lo, hi):
    """The minimiser in [lo, hi] of the cubic through (x1, f1, g1) and (x2, f2, g2), or the
    midpoint where the cubic has none."""
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    disc = d1 * d1 - g1 * g2
    if disc < 0:
        return (lo + hi) / 2
    d2 = math.copysign(math.sqrt(disc), x2 - x1)
    x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    return min(max(x, lo), hi)


def _strong_wolfe(phi, t, d, f0, g0, gtd0, tol_change, budget, c1=1e-4, c2=0.9, max_ls=25):
    """A step t along d meeting f(t) <= f0 + c1 t gtd0 and |g(t).d| <= -c2 gtd0: bracketing
    then zooming with cubic interpolation. phi(t) gives (f, flat gradient) at step t.
    Returns (f, g, t, evaluations)."""
    d_max = float(d.abs().max())
    f_new, g_new = phi(t)
    evals = 1
    gtd_new = float((g_new * d).sum())
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f0, g0, gtd0
    bracket = None
    for i in range(max_ls):
        if f_new > f0 + c1 * t * gtd0 or (i > 0 and f_new >= f_prev):
            bracket = [(t_prev, f_prev, g_prev, gtd_prev), (t, f_new, g_new, gtd_new)]
            break
        if abs(gtd_new) <= -c2 * gtd0:
            return f_new, g_new, t, evals
        if gtd_new >= 0:
            bracket = [(t_prev, f_prev, g_prev, gtd_prev), (t, f_new, g_new, gtd_new)]
            break
        # extrapolate: a cubic step beyond t, at most 10 t
        t_next = _cubic_min(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, t + 0.01 * (t - t_prev), t * 10)
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = phi(t)
        evals += 1
        gtd_new = float((g_new * d).sum())
        if evals >= budget:
            return f_new, g_new, t, evals
    if bracket is None:
        return f_new, g_new, t, evals
    # zoom: keep (low, high) with low the better end, shrink by cubic steps
    for _ in range(max_ls):
        lo, hi = (bracket[0], bracket[1]) if bracket[0][1] <= bracket[1][1] else (bracket[1], bracket[0])
        if abs(hi[0] - lo[0]) * d_max < tol_change or evals >= budget:
            break
        a, b = min(lo[0], hi[0]), max(lo[0], hi[0])
        t = _cubic_min(lo[0], lo[1], lo[3], hi[0], hi[1], hi[3], a, b)
        # stay away from the ends: a step within a tenth of the bracket moves to its middle
        if min(t - a, b - t) < 0.1 * (b - a):
            t = (a + b) / 2
        f_new, g_new = phi(t)
        evals += 1
        gtd_new = float((g_new * d).sum())
        point = (t, f_new, g_new, gtd_new)
        if f_new > f0 + c1 * t * gtd0 or f_new >= lo[1]:
            bracket = [lo, point]
        else:
            if abs(gtd_new) <= -c2 * gtd0:
                return f_new, g_new, t, evals
            bracket = [point, hi] if gtd_new * (hi[0] - lo[0]) < 0 else [point, lo]
    best = min(bracket, key=lambda p: p[1])
    return best[1], best[2], best[0], evals
