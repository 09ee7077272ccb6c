"""dlcore.autograd.Function: custom forward/backward pairs, their gradients against the
analytic ones (and float64 finite differences), double backward, several inputs and outputs,
needs_input_grad, non-differentiable outputs, unmaterialised gradients, broadcast gradients
summed to their input, once_differentiable, and the errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore.autograd import Function, gradcheck, once_differentiable


def t(a, grad=False):
    return dl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * y


class MulAdd(Function):
    """(alpha a b, a + b); alpha a number."""

    @staticmethod
    def forward(ctx, a, b, alpha):
        ctx.save_for_backward(a, b)
        ctx.alpha = alpha
        ctx.seen = ctx.needs_input_grad
        return a * b * alpha, a + b

    @staticmethod
    def backward(ctx, g_prod, g_sum):
        a, b = ctx.saved_tensors
        return g_prod * b * ctx.alpha + g_sum, g_prod * a * ctx.alpha + g_sum, None


def test_exp_values_gradients_and_double_backward(rng):
    x0 = rng.normal(size=(3, 4))
    x = t(x0, grad=True)
    y = Exp.apply(x)
    assert "ExpBackward" in repr(y.grad_fn)
    np.testing.assert_allclose(y.detach().numpy(), np.exp(x0), rtol=1e-15)
    (y * t(x0)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x0 * np.exp(x0), rtol=1e-14)
    assert gradcheck(Exp.apply, (t(x0, grad=True),))
    (g,) = dl.autograd.grad(Exp.apply(x).sum(), x, create_graph=True)
    (h,) = dl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), np.exp(x0), rtol=1e-14)


def test_several_inputs_outputs_and_needs_input_grad(rng):
    a0, b0 = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    a, b = t(a0, grad=True), t(b0, grad=True)
    prod, total = MulAdd.apply(a, b, 2.5)
    np.testing.assert_allclose(prod.detach().numpy(), 2.5 * a0 * b0)
    (prod.sum() + (total * total).sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), 2.5 * b0 + 2 * (a0 + b0), rtol=1e-14)
    np.testing.assert_allclose(b.grad.numpy(), 2.5 * a0 + 2 * (a0 + b0), rtol=1e-14)
    # one output unused: its gradient reaches backward as zeros
    a.grad = None
    MulAdd.apply(a, t(b0), 1.0)[0].sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b0)
    assert gradcheck(lambda p, q: MulAdd.apply(p, q, 0.7)[0], (t(a0, grad=True), t(b0, grad=True)))

    class Spy(MulAdd):
        @staticmethod
        def forward(ctx, a, b, alpha):
            Spy.needs = ctx.needs_input_grad
            return MulAdd.forward(ctx, a, b, alpha)

    Spy.apply(a, t(b0), 1.0)
    assert Spy.needs == (True, False, False)


def test_non_differentiable_outputs_and_unmaterialised_grads(rng):
    class MaxWithIndex(Function):
        @staticmethod
        def forward(ctx, x):
            values, index = x.max(-1)
            scaled = values * 2
            ctx.mark_non_differentiable(scaled)
            ctx.set_materialize_grads(False)
            ctx.save_for_backward(x, index)
            return values, index, scaled

        @staticmethod
        def backward(ctx, g_values, g_index, g_scaled):
            MaxWithIndex.got = (g_index, g_scaled)
            x, index = ctx.saved_tensors
            return dl.zeros_like(x).scatter(-1, index.unsqueeze(-1), g_values.unsqueeze(-1))

    x0 = rng.normal(size=(3, 5))
    x = t(x0, grad=True)
    values, index, scaled = MaxWithIndex.apply(x)
    assert values.requires_grad and not index.requires_grad and not scaled.requires_grad
    values.sum().backward()
    want = np.zeros_like(x0)
    want[np.arange(3), x0.argmax(-1)] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), want)
    assert MaxWithIndex.got == (None, None)


def test_broadcast_gradient_is_summed_to_its_input(rng):
    class AddRow(Function):
        @staticmethod
        def forward(ctx, m, row):
            return m + row

        @staticmethod
        def backward(ctx, g):
            return g, g  # g is (3, 4) for a row of (4,) or (1, 4)

    m = t(rng.normal(size=(3, 4)), grad=True)
    for shape in [(4,), (1, 4)]:
        row = t(rng.normal(size=shape), grad=True)
        out = AddRow.apply(m, row)
        (out * t(np.arange(12.0).reshape(3, 4))).sum().backward()
        np.testing.assert_allclose(row.grad.numpy(), np.arange(12.0).reshape(3, 4).sum(0).reshape(shape))


def test_input_returned_as_it_is_and_no_grad(rng):
    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = t([1.0, 2.0], grad=True)
    y = Identity.apply(x)
    assert y is not x and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    with dl.no_grad():
        assert Exp.apply(x).grad_fn is None
    assert Exp.apply(t([1.0])).grad_fn is None  # nothing needs a gradient


def test_once_differentiable():
    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = t([1.5], grad=True)
    (g,) = dl.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    assert g.item() == 3.0 and not g.requires_grad


def test_errors():
    class TooMany(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, g

    class BadShape(TooMany):
        @staticmethod
        def backward(ctx, g):
            return g[:1]

    class NotATensor(TooMany):
        @staticmethod
        def backward(ctx, g):
            return 1.0

    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    x = t([1.0, 2.0], grad=True)
    with pytest.raises(ValueError, match="TooManyBackward: backward returned 2 gradients for the 1 arguments"):
        TooMany.apply(x).sum().backward()
    with pytest.raises(ValueError, match=r"BadShapeBackward: the gradient of argument 0 has shape \(1,\), which does "
                                         r"not reduce to the argument's \(2,\)"):
        BadShape.apply(x).sum().backward()
    with pytest.raises(TypeError, match="NotATensorBackward: the gradient of argument 0 must be a tensor or None"):
        NotATensor.apply(x).sum().backward()
    with pytest.raises(NotImplementedError, match="must define backward"):
        NoBackward.apply(x).sum().backward()
    with pytest.raises(NotImplementedError, match="must define forward"):
        Function.apply(x)
    with pytest.raises(TypeError, match="save_for_backward: expected tensors or None, got int at position 1"):
        class Saver(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x
        Saver.apply(x)


def test_saved_tensors_live_in_the_graph_not_in_ctx():
    import gc
    import weakref

    class Keep(Exp):
        @staticmethod
        def forward(ctx, x):
            Keep.ctx = ctx
            return Exp.forward(ctx, x)

    x = t([0.5, 1.0], grad=True)
    y = Keep.apply(x)
    with pytest.raises(RuntimeError, match="saved_tensors: the saved tensors are kept by the graph"):
        Keep.ctx.saved_tensors
    # ctx holds no output, so an output nobody uses is freed (no cycle through the node)
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None
    # a saved tensor written in place before backward is reported
    y = Exp.apply(x)
    with dl.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*saved by ExpBackward"):
        y.sum().backward()
