"""Module backward hooks, as PyTorch's register_full_backward_hook and
register_full_backward_pre_hook: around a hooked module's call, one identity node over
the tensor inputs that require grad and one over the tensor outputs (both
autograd.Functions). The outputs' node sees grad_output first and runs the pre-hooks
(hook(module, grad_output), a non-None result replacing it); the inputs' node then runs
the hooks (hook(module, grad_input, grad_output), a non-None result replacing
grad_input). When no input requires grad the hooks run at the outputs' node with
grad_input all None. The identity nodes copy the tensors they pass (one copy per hooked
call)."""
from .. import _C
from ..autograd.function import Function

Tensor = _C.Tensor


class _CallState:
    def __init__(self, module, n_inputs):
        self.module, self.n_inputs, self.grad_output = module, n_inputs, None


class _Outputs(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tuple(t.clone() for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        st = ctx.state
        for hook in list(st.module._backward_pre_hooks.values()):
            r = hook(st.module, grads)
            if r is not None:
                grads = tuple(r) if isinstance(r, (tuple, list)) else (r,)
        st.grad_output = grads
        if st.n_inputs == 0:
            for hook in list(st.module._backward_hooks.values()):
                hook(st.module, (None,), grads)
        return (None,) + tuple(grads)


class _Inputs(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tuple(t.clone() for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        st = ctx.state
        for hook in list(st.module._backward_hooks.values()):
            r = hook(st.module, grads, st.grad_output)
            if r is not None:
                grads = tuple(r) if isinstance(r, (tuple, list)) else (r,)
        return (None,) + tuple(grads)


def _replace(items, positions, values):
    items = list(items)
    for i, v in zip(positions, values):
        items[i] = v
    return items


def wrap_inputs(module, args):
    """(args with the tensors that require grad passed through the inputs' node, state)."""
    positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    state = _CallState(module, len(positions))
    if positions and _C.is_grad_enabled():
        passed = _Inputs.apply(state, *[args[i] for i in positions])
        passed = passed if isinstance(passed, tuple) else (passed,)
        args = tuple(_replace(args, positions, passed))
    return args, state


def wrap_outputs(state, out):
    """out (a tensor or a tuple/list of values) with its tensors that require grad passed
    through the outputs' node."""
    single = isinstance(out, Tensor)
    items = [out] if single else list(out) if isinstance(out, (tuple, list)) else None
    if items is None or not _C.is_grad_enabled():
        return out
    positions = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
    if not positions:
        return out
    passed = _Outputs.apply(state, *[items[i] for i in positions])
    passed = passed if isinstance(passed, tuple) else (passed,)
    items = _replace(items, positions, passed)
    return items[0] if single else type(out)(items)
