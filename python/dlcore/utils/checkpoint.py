"""Activation checkpointing (``dlcore.utils.checkpoint``): ``checkpoint(function, *args)``
runs ``function`` without keeping its intermediate tensors and runs it again, with the
graph, when the backward pass reaches it; memory for a deep model's activations becomes
that of the checkpointed segments' inputs.

Where no tensor argument requires a gradient, ``function`` simply runs with its graph kept
(a checkpoint there would give the parameters inside no gradient). The recomputation replays
the default generator from where the forward drew (dropout draws
the same masks) unless ``preserve_rng_state=False``. The gradients reach the tensor arguments
and, through the recomputed graph, the parameters ``function`` uses (accumulated into their
``.grad``, as PyTorch's reentrant checkpoint does: ``autograd.grad`` with respect to those
parameters does not see them).
"""
from .. import _C
from ..autograd import Function
from ..autograd import backward as _backward
from ..grad_mode import enable_grad

__all__ = ["checkpoint", "checkpoint_sequential"]

Tensor = _C.Tensor


class _Checkpoint(Function):
    @staticmethod
    def forward(ctx, function, preserve_rng_state, *args):
        ctx.function, ctx.preserve = function, preserve_rng_state
        ctx.rng = _C.get_rng_state() if preserve_rng_state else None
        ctx.tensor_at = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        ctx.save_for_backward(*[args[i] for i in ctx.tensor_at])
        return function(*args)

    @staticmethod
    def backward(ctx, *grads):
        args = list(ctx.others)
        inputs = []
        for i, t in zip(ctx.tensor_at, ctx.saved_tensors):
            d = t.detach().requires_grad_(t.requires_grad)
            args[i] = d
            inputs.append(d)
        if ctx.preserve:
            outer = _C.get_rng_state()
            _C.set_rng_state(ctx.rng)
        try:
            with enable_grad():
                out = ctx.function(*args)
        finally:
            if ctx.preserve:
                _C.set_rng_state(outer)
        outs = out if isinstance(out, tuple) else (out,)
        pairs = [(o, g) for o, g in zip(outs, grads) if isinstance(o, Tensor) and o.requires_grad and g is not None]
        if pairs:
            _backward([o for o, _ in pairs], [g for _, g in pairs])
        got = [None] * len(ctx.others)
        for i, d in zip(ctx.tensor_at, inputs):
            got[i] = d.grad if d.requires_grad else None
        return (None, None) + tuple(got)


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, **kwargs):
    """function(*args), its intermediate tensors recomputed in the backward pass instead of
    kept. Keyword arguments for function are not supported (wrap it)."""
    if kwargs:
        raise ValueError(f"checkpoint: keyword arguments for the function are not supported, got "
                         f"{sorted(kwargs)}; wrap the function instead")
    if not callable(function):
        raise TypeError(f"checkpoint: expected a callable, got {type(function).__name__}")
    if _C.is_grad_enabled() and not any(isinstance(a, Tensor) and a.requires_grad for a in args):
        # No argument takes part in autograd: the checkpoint's node would not be recorded and
        # the parameters inside would get no gradient. Run it plainly instead.
        return function(*args)
    return _Checkpoint.apply(function, preserve_rng_state, *args)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, preserve_rng_state=True):
    """A Sequential (or list of modules) run in ``segments`` checkpointed parts; the last part
    runs normally, as in PyTorch."""
    fns = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if not isinstance(segments, int) or not 1 <= segments:
        raise ValueError(f"checkpoint_sequential: segments must be a positive int, got {segments!r}")
    size = max(1, len(fns) // segments)

    def run(start, end):
        def part(x):
            for f in fns[start:end]:
                x = f(x)
            return x
        return part

    start = 0
    for _ in range(segments - 1):
        end = min(len(fns), start + size)
        if end > start:
            input = checkpoint(run(start, end), input, preserve_rng_state=preserve_rng_state)
        start = end
    return run(start, len(fns))(input)
