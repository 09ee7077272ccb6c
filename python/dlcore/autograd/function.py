"""Custom differentiable operations (``dlcore.autograd.Function``), as in PyTorch:

    class Exp(dl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)

``forward`` runs without recording (its ops build no graph); ``apply`` then gives the outputs
one node whose backward calls ``backward(ctx, *grads)``, one gradient per output in, one per
forward argument out (None for arguments that are not tensors or need none). A gradient of
another shape is summed down to its input's shape where it broadcasts to it. Written with
dlcore ops, ``backward`` can itself be differentiated (``create_graph=True``).
"""
import functools

from .. import _C
from .._composite import broadcast_shapes
from ..creation import zeros
from ..grad_mode import no_grad

Tensor = _C.Tensor


def _sum_to_shape(g, shape):
    """g summed over the dims along which shape was broadcast to g's shape."""
    if tuple(broadcast_shapes(tuple(g.shape), shape)) != tuple(g.shape):
        raise ValueError("not broadcastable")
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(tuple(range(lead)))
    dims = tuple(d for d, n in enumerate(shape) if n == 1 and g.shape[d] != 1)
    return g.sum(dims, keepdim=True) if dims else g


class FunctionCtx:
    """What forward leaves for backward: saved tensors, the inputs that need gradients, and
    outputs marked as non-differentiable."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._non_differentiable = set()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward: expected tensors or None, got {type(t).__name__} at position {i}")
        self._saved = tensors

    @property
    def saved_tensors(self):
        if self._saved is None:
            raise RuntimeError("saved_tensors: the saved tensors are kept by the graph and given back only "
                               "inside backward")
        return self._saved

    def mark_non_differentiable(self, *outputs):
        self._non_differentiable.update(id(o) for o in outputs)

    def set_materialize_grads(self, value):
        """With False, outputs that got no gradient reach backward as None, not zeros."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors):
        raise NotImplementedError("mark_dirty: dlcore's custom Functions cannot modify their inputs in place")


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``; call
    ``apply(*args)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, ...) to be differentiated")

    @classmethod
    def apply(cls, *args, **kwargs):
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(needs)
        with no_grad():
            result = cls.forward(ctx, *args, **kwargs)
        is_tuple = isinstance(result, tuple)
        outs = list(result) if is_tuple else [result]
        if not (_C.is_grad_enabled() and any(needs)):
            return result
        inputs_at = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        shapes = {i: tuple(args[i].shape) for i in inputs_at}
        originals = list(outs)
        for k, o in enumerate(outs):
            # an input returned as it is gets an alias of its own to carry this node's history
            if isinstance(o, Tensor) and any(o is a for a in args):
                outs[k] = o.detach()
        marked = [o if isinstance(o, Tensor) and o.dtype.is_floating_point
                  and id(originals[k]) not in ctx._non_differentiable else None for k, o in enumerate(outs)]
        out_meta = [(tuple(o.shape), o.dtype) if isinstance(o, Tensor) else None for o in outs]
        n_args, name = len(args), cls.__name__ + "Backward"
        # The graph keeps the saved tensors (a saved output without its own history, so that
        # output -> node -> saved output makes no cycle); ctx keeps none of them.
        saved = list(ctx._saved)
        saved_output = [next((k for k, o in enumerate(originals) if o is v), -1) for v in saved]
        ctx._saved = None

        def backward_fn(grads, saved_now):
            grads = list(grads) + [None] * (len(out_meta) - len(grads))
            for k, g in enumerate(grads):
                if g is None and ctx.materialize_grads and out_meta[k] is not None:
                    grads[k] = zeros(out_meta[k][0], dtype=out_meta[k][1])
            ctx._saved = tuple(saved_now)
            try:
                got = cls.backward(ctx, *grads)
            finally:
                ctx._saved = None
            got = got if isinstance(got, tuple) else (got,)
            if len(got) != n_args:
                raise ValueError(f"{name}: backward returned {len(got)} gradients for the {n_args} "
                                 "arguments of forward")
            picked = []
            for i in inputs_at:
                g = got[i]
                if g is not None:
                    if not isinstance(g, Tensor):
                        raise TypeError(f"{name}: the gradient of argument {i} must be a tensor or None, "
                                        f"got {type(g).__name__}")
                    if tuple(g.shape) != shapes[i]:
                        try:
                            g = _sum_to_shape(g, shapes[i])
                        except (ValueError, RuntimeError):
                            raise ValueError(f"{name}: the gradient of argument {i} has shape {tuple(g.shape)}, "
                                             f"which does not reduce to the argument's {shapes[i]}") from None
                picked.append(g)
            return picked

        _C._custom_node(name, [args[i] for i in inputs_at], marked, saved, saved_output, backward_fn)
        return tuple(outs) if is_tuple else outs[0]


def once_differentiable(backward):
    """Runs a Function's backward without recording, for a backward that is not written to be
    differentiated again."""
    @functools.wraps(backward)
    def wrapped(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)
    return wrapped
