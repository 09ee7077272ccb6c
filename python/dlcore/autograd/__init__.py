"""Reverse-mode automatic differentiation: backward, grad and gradcheck."""
import numpy as np

from .. import _C
from ..grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled  # noqa: F401

Node = _C.Node


def _as_list(x):
    if x is None:
        return None
    if isinstance(x, _C.Tensor):
        return [x]
    return list(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False):
    """Accumulates the gradients of ``tensors`` into the ``.grad`` of the leaves."""
    tensors = _as_list(tensors)
    grads = _as_list(grad_tensors) or []
    keep = create_graph if retain_graph is None else retain_graph
    _C._backward(tensors, grads, keep, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """The gradients of ``outputs`` with respect to ``inputs`` (a tuple), without touching ``.grad``.

    With ``create_graph=True`` the result has a graph of its own, for higher derivatives.
    """
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    gos = _as_list(grad_outputs) or []
    keep = create_graph if retain_graph is None else retain_graph
    return _C._grad(outs, ins, gos, keep, create_graph, allow_unused)


def _flat_numpy(t):
    return t.detach().numpy().reshape(-1)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compares the analytic gradients of ``fn`` with central finite differences.

    ``inputs`` is a tensor or a tuple of tensors; those with ``requires_grad`` are checked and
    should be float64. Every output element's gradient is checked (one backward per output
    element against one pair of evaluations per input element). Returns True, or raises
    (``raise_exception=True``) / returns False on a mismatch.
    """
    inputs = (inputs,) if isinstance(inputs, _C.Tensor) else tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, _C.Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradcheck: no input requires grad")
    for i in diff:
        if inputs[i].dtype != _C.dtype.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 inputs for "
                            "finite differences")

    def outputs_of(args):
        out = fn(*args)
        outs = (out,) if isinstance(out, _C.Tensor) else tuple(out)
        return [o for o in outs if isinstance(o, _C.Tensor) and o.dtype.is_floating_point]

    with enable_grad():
        outs = outputs_of(inputs)
    if not outs:
        raise ValueError("gradcheck: fn returned no floating point tensor")

    # Numerical Jacobian: perturb one element at a time (through a contiguous copy).
    numerical = {}
    for i in diff:
        base = inputs[i].detach().clone()
        flat = base.numpy().reshape(-1)
        cols = []
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            with no_grad():
                plus = [_flat_numpy(o) for o in outputs_of(_replace(inputs, i, base))]
            flat[k] = orig - eps
            with no_grad():
                minus = [_flat_numpy(o) for o in outputs_of(_replace(inputs, i, base))]
            flat[k] = orig
            cols.append(np.concatenate([(p - m) / (2 * eps) for p, m in zip(plus, minus)]))
        numerical[i] = np.stack(cols, axis=1) if cols else np.zeros((sum(o.numel() for o in outs), 0))

    # Analytic Jacobian: one autograd.grad per output element.
    analytic = {i: np.zeros_like(numerical[i]) for i in diff}
    row = 0
    for o in outs:
        for k in range(o.numel()):
            g = np.zeros(o.numel())
            g[k] = 1.0
            go = _C._from_buffer_copy(g.astype(np.float64)).reshape(list(o.shape)).to(o.dtype)
            if o.requires_grad:
                grads = grad([o], [inputs[i] for i in diff], [go], retain_graph=True, allow_unused=True)
                for i, gi in zip(diff, grads):
                    if gi is not None:
                        analytic[i][row] = _flat_numpy(gi)
            row += 1

    for i in diff:
        a, n = analytic[i], numerical[i]
        if not np.allclose(a, n, atol=atol, rtol=rtol):
            if raise_exception:
                k = np.unravel_index(np.argmax(np.abs(a - n) - rtol * np.abs(n)), a.shape)
                raise RuntimeError(f"gradcheck: Jacobian mismatch for input {i} at (output, input) "
                                   f"element {k}: analytic {a[k]!r}, numerical {n[k]!r}\n"
                                   f"analytic:\n{a}\nnumerical:\n{n}")
            return False
    return True


def _replace(inputs, i, value):
    args = list(inputs)
    args[i] = value
    return args


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """gradcheck of fn's gradient: the vector-Jacobian products of fn's outputs (weighted
    by grad_outputs, random float64 tensors by default, themselves differentiated too)
    with respect to the inputs that require grad, computed with create_graph=True and
    compared with central finite differences."""
    inputs = (inputs,) if isinstance(inputs, _C.Tensor) else tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, _C.Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradgradcheck: no input requires grad")
    with enable_grad():
        out = fn(*inputs)
    outs = [o for o in ((out,) if isinstance(out, _C.Tensor) else tuple(out))
            if isinstance(o, _C.Tensor) and o.dtype.is_floating_point]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [_C.from_numpy(rng.standard_normal(tuple(o.shape))).requires_grad_() for o in outs]
    grad_outputs = [grad_outputs] if isinstance(grad_outputs, _C.Tensor) else list(grad_outputs)
    if len(grad_outputs) != len(outs):
        raise ValueError(f"gradgradcheck: expected {len(outs)} grad_outputs, got {len(grad_outputs)}")
    n = len(inputs)

    def first_derivatives(*args):
        # The finite-difference passes hand in perturbed copies that take no part in a graph.
        xs = [a.detach().requires_grad_() if i in diff and not a.requires_grad else a
              for i, a in enumerate(args[:n])]
        gs = args[n:]
        with enable_grad():
            o = fn(*xs)
            os_ = [t for t in ((o,) if isinstance(o, _C.Tensor) else tuple(o))
                   if isinstance(t, _C.Tensor) and t.dtype.is_floating_point]
            got = grad(os_, [xs[i] for i in diff], list(gs), create_graph=True, allow_unused=True)
        return tuple(g if g is not None else xs[i] * 0.0 for g, i in zip(got, diff))

    return gradcheck(first_derivatives, tuple(inputs) + tuple(grad_outputs), eps, atol, rtol, raise_exception)


from . import functional  # noqa: E402, F401
from .anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: E402, F401
from . import graph  # noqa: E402, F401
from .function import Function, FunctionCtx, once_differentiable  # noqa: E402, F401
