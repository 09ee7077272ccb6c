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


def _replaced(grads, r):
    """A hook's result in place of grads when it returned one."""
    if r is None:
        return grads
    return tuple(r) if isinstance(r, (tuple, list)) else (r,)


class _Identity(Function):
    """Copies of the tensors it is given (after the call's state), the node the hooks hang on."""

    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tuple(t.clone() for t in tensors)


class _Outputs(_Identity):
    @staticmethod
    def backward(ctx, *grads):
        st = ctx.state
        for hook in list(st.module._backward_pre_hooks.values()):
            grads = _replaced(grads, hook(st.module, grads))
        st.grad_output = grads
        if st.n_inputs == 0:
            for hook in list(st.module._backward_hooks.values()):
                hook(st.module, (None,), grads)
        return (None,) + tuple(grads)


class _Inputs(_Identity):
    @staticmethod
    def backward(ctx, *grads):
        st = ctx.state
        for hook in list(st.module._backward_hooks.values()):
            grads = _replaced(grads, hook(st.module, grads, st.grad_output))
        return (None,) + tuple(grads)


def _passed(node, state, items):
    """items with the tensors among them that require grad passed through node (one call
    for all, so the hooks see them together); items as they are if there are none."""
    positions = [i for i, a in enumerate(items) if isinstance(a, Tensor) and a.requires_grad]
    if not positions:
        return list(items)
    out = node.apply(state, *[items[i] for i in positions])
    items = list(items)
    for i, v in zip(positions, out if isinstance(out, tuple) else (out,)):
        items[i] = v
    return items


def wrap_inputs(module, args):
    """(args with the tensors that require grad passed through the inputs' node, state)."""
    state = _CallState(module, sum(isinstance(a, Tensor) and a.requires_grad for a in args))
    if state.n_inputs and _C.is_grad_enabled():
        args = tuple(_passed(_Inputs, state, args))
    return args, state


def wrap_outputs(state, out):
    """out (a tensor or a tuple/list of values) with its tensors that require grad passed
    through the outputs' node."""
    if not _C.is_grad_enabled():
        return out
    if isinstance(out, Tensor):
        return _passed(_Outputs, state, [out])[0]
    if isinstance(out, (tuple, list)):
        return type(out)(_passed(_Outputs, state, out))
    return out
