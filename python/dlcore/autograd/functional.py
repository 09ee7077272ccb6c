"""Derivatives of whole functions (``dlcore.autograd.functional``), with PyTorch's names:
``vjp jvp jacobian hessian vhp hvp``.

``func`` takes the tensors of ``inputs`` (one tensor or a tuple) and returns a tensor or a
tuple of tensors. Every result comes from reverse-mode passes: a Jacobian takes one pass per
output element, a Jacobian-vector product the double-backward trick (the gradient of a
vector-Jacobian product with respect to its vector). ``create_graph=True`` keeps the results
differentiable, with respect to the inputs too; without it they are detached. ``strict=True``
raises ValueError where an output does not depend on an input (otherwise that part is zeros).
"""
from .. import _C
from ..creation import ones, zeros, zeros_like
from ..grad_mode import enable_grad
from . import grad as _grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _tuple(x, what, name):
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for i, t in enumerate(items):
        if not isinstance(t, _C.Tensor):
            raise TypeError(f"{name}: {what} must be tensors, got {type(t).__name__} at position {i}")
    return is_tuple, items


def _prepare(inputs, create_graph, name):
    is_tuple, items = _tuple(inputs, "inputs", name)
    for i, t in enumerate(items):
        if not t.dtype.is_floating_point:
            raise TypeError(f"{name}: input {i} must be a floating tensor, got {t.dtype!r}")
    # With create_graph, an input that already takes part in autograd stays connected.
    prepared = tuple(t if (create_graph and t.requires_grad) else t.detach().requires_grad_() for t in items)
    return is_tuple, prepared


def _outputs(func, args, name):
    with enable_grad():
        out = func(*args)
    return _tuple(out, "the outputs of func", name)


def _grads(outs, ins, grad_outs, create_graph, strict, name):
    """The vector-Jacobian products of outs (weighted by grad_outs) for each of ins: zeros
    where an input is unused (or ValueError with strict)."""
    pairs = [(o, g) for o, g in zip(outs, grad_outs) if o.requires_grad]
    if not pairs:
        if strict:
            raise ValueError(f"{name}: the outputs do not depend on the inputs (strict=True)")
        return tuple(zeros_like(i) for i in ins)
    got = _grad([o for o, _ in pairs], list(ins), [g for _, g in pairs], retain_graph=True,
                create_graph=create_graph, allow_unused=True)
    result = []
    for k, (g, i) in enumerate(zip(got, ins)):
        if g is None:
            if strict:
                raise ValueError(f"{name}: the outputs do not depend on input {k} (strict=True)")
            g = zeros_like(i)
        result.append(g if create_graph else g.detach())
    return tuple(result)


def _check_v(v, like, what, name):
    is_tuple, vs = _tuple(v, what, name)
    if len(vs) != len(like):
        raise ValueError(f"{name}: {what} has {len(vs)} tensors for {len(like)}")
    for k, (a, b) in enumerate(zip(vs, like)):
        if tuple(a.shape) != tuple(b.shape):
            raise ValueError(f"{name}: {what} {k} has shape {tuple(a.shape)}, expected {tuple(b.shape)}")
    return vs


def _default_v(outs, v, what, name):
    if v is not None:
        return _check_v(v, outs, what, name)
    for o in outs:
        if o.numel() != 1:
            raise ValueError(f"{name}: v can be left out only for outputs of one element, got shape "
                             f"{tuple(o.shape)}")
    return tuple(ones(tuple(o.shape), dtype=o.dtype) for o in outs)


def _finish(x, create_graph):
    return x if create_graph else x.detach()


def _second_pass(firsts, wrt, vs, create_graph):
    """The gradients with respect to wrt of sum_k firsts[k] . vs[k] (firsts: results of a
    first pass made with create_graph), zeros where they do not depend on wrt."""
    live = [(f, w) for f, w in zip(firsts, vs) if f.requires_grad]
    got = [None] * len(wrt)
    if live:
        got = _grad([f for f, _ in live], list(wrt), [w for _, w in live], retain_graph=True,
                    create_graph=create_graph, allow_unused=True)
    return tuple(_finish(g, create_graph) if g is not None else zeros_like(x) for g, x in zip(got, wrt))


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): v shaped as the outputs (left out for one-element outputs)."""
    in_tuple, ins = _prepare(inputs, create_graph, "vjp")
    out_tuple, outs = _outputs(func, ins, "vjp")
    vs = _default_v(outs, v, "v", "vjp")
    g = _grads(outs, ins, vs, create_graph, strict, "vjp")
    outs = tuple(_finish(o, create_graph) for o in outs)
    return (outs if out_tuple else outs[0]), (g if in_tuple else g[0])


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): v shaped as the inputs (left out for one-element inputs)."""
    in_tuple, ins = _prepare(inputs, create_graph, "jvp")
    out_tuple, outs = _outputs(func, ins, "jvp")
    vs = _default_v(ins, v, "v", "jvp")
    # u -> J^T u is linear in u; its gradient along v (with respect to u) is J v.
    us = tuple(zeros_like(o).requires_grad_() for o in outs)
    with enable_grad():
        gs = _grads(outs, ins, us, True, strict, "jvp")
    jv = _second_pass(gs, us, vs, create_graph)
    outs = tuple(_finish(o, create_graph) for o in outs)
    return (outs if out_tuple else outs[0]), (jv if out_tuple else jv[0])


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d outputs / d inputs, one output element at a time: for one output and one input a
    tensor of shape output.shape + input.shape; a tuple over inputs for a tuple of inputs,
    and a tuple over outputs (of those) for a tuple of outputs."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    in_tuple, ins = _prepare(inputs, create_graph, "jacobian")
    out_tuple, outs = _outputs(func, ins, "jacobian")
    per_output = []
    for o in outs:
        rows = [[] for _ in ins]
        flat = o.reshape(-1)
        for e in range(flat.numel()):
            if o.requires_grad:
                g = _grads((flat[e],), ins, (ones((), dtype=o.dtype),), create_graph, strict, "jacobian")
            elif strict:
                raise ValueError("jacobian: the outputs do not depend on the inputs (strict=True)")
            else:
                g = tuple(zeros_like(i) for i in ins)
            for k in range(len(ins)):
                rows[k].append(g[k])
        blocks = []
        for k, i in enumerate(ins):
            shape = tuple(o.shape) + tuple(i.shape)
            blocks.append(_C.stack(rows[k], 0).reshape(shape) if rows[k] else zeros(shape, dtype=i.dtype))
        per_output.append(tuple(blocks) if in_tuple else blocks[0])
    return tuple(per_output) if out_tuple else per_output[0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The second derivatives of a function with one output element: input.shape +
    input.shape for one input, a tuple of tuples over pairs of inputs for a tuple."""
    in_tuple, ins = _prepare(inputs, create_graph, "hessian")

    def gradient(*args):
        out_tuple, outs = _outputs(func, args, "hessian")
        if out_tuple or outs[0].numel() != 1:
            raise ValueError(f"hessian: func must return one tensor of one element, got "
                             f"{'a tuple' if out_tuple else 'shape ' + str(tuple(outs[0].shape))}")
        g = _grads(outs, args, (ones(tuple(outs[0].shape), dtype=outs[0].dtype),), True, strict, "hessian")
        return g if in_tuple else g[0]

    return jacobian(gradient, ins if in_tuple else ins[0], create_graph, strict)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for func with one output element."""
    in_tuple, ins = _prepare(inputs, create_graph, "vhp")
    out_tuple, outs = _outputs(func, ins, "vhp")
    if out_tuple or outs[0].numel() != 1:
        raise ValueError("vhp: func must return one tensor of one element")
    vs = _default_v(ins, v, "v", "vhp")
    with enable_grad():
        g = _grads(outs, ins, (ones(tuple(outs[0].shape), dtype=outs[0].dtype),), True, strict, "vhp")
    h = _second_pass(g, ins, vs, create_graph)
    return _finish(outs[0], create_graph), (h if in_tuple else h[0])


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v): the Hessian is symmetric, so this is vhp's product."""
    return vhp(func, inputs, v, create_graph, strict)
