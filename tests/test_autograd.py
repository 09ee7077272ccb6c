"""Autograd engine: accumulation, graphs, hooks, grad mode, autograd.grad, higher
derivatives, and the errors for misuse."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn


def leaf(values, dtype=dl.float64):
    return dl.tensor(values, dtype=dtype, requires_grad=True)


def test_leaf_and_non_leaf():
    x = leaf([1.0, 2.0])
    y = x * 2
    assert x.is_leaf and x.grad_fn is None and x.requires_grad
    assert not y.is_leaf and y.grad_fn is not None and y.grad_fn.name() == "mul"
    assert dl.tensor([1.0]).is_leaf and not dl.tensor([1.0]).requires_grad


def test_grad_accumulates_across_backward_calls():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -4.0, 6.0])
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, -1.0, 9.0])
    x.grad = None
    x.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0, 1.0])


def test_shared_subexpression_and_diamond_graph():
    x = leaf([0.5, 1.5])
    a = x.exp()
    y = (a * a + a.sin()).sum()  # a used twice
    y.backward()
    xa = np.array([0.5, 1.5])
    expected = 2 * np.exp(2 * xa) + np.cos(np.exp(xa)) * np.exp(xa)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_backward_with_gradient_argument_and_non_scalar_error():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()
    y.backward(dl.tensor([1.0, 0.5, 0.0], dtype=dl.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 0.0])
    with pytest.raises(ValueError, match=r"gradient of shape \(2,\) does not match"):
        (x * 2).backward(dl.tensor([1.0, 1.0], dtype=dl.float64))


def test_second_backward_through_freed_graph_is_an_error():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()
    z = (x * x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0 + 4.0, 4.0 + 8.0])


def test_backward_on_tensor_without_grad_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        dl.tensor([1.0]).sum().backward()


def test_no_grad_and_enable_grad_context_and_decorator():
    x = leaf([1.0])
    with dl.no_grad():
        y = x * 2
        assert not dl.is_grad_enabled()
        with dl.enable_grad():
            z = x * 2
    assert dl.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and z.requires_grad

    @dl.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    with dl.set_grad_enabled(False):
        assert not (x + 1).requires_grad
    assert dl.is_grad_enabled()


def test_detach_shares_storage_and_stops_gradient():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = x * 3
    yd = y.detach()
    yd += 1
    np.testing.assert_allclose(y.detach().numpy(), [4.0, 7.0])


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="only floating point tensors"):
        dl.tensor([1, 2]).requires_grad_()
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="leaf tensors"):
        y.requires_grad_(False)


def test_retain_grad_and_non_leaf_grad():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])
    z = x * 3
    (z * z).sum().backward()
    assert z.grad is None


def test_register_hook_on_leaf_and_non_leaf():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 2
    y.register_hook(lambda g: g * 10)  # replaces the gradient flowing on
    y.sum().backward()
    np.testing.assert_allclose(seen[0], [20.0, 20.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])


def test_removed_hooks_no_longer_run():
    x = leaf([1.0, 2.0])
    h1 = x.register_hook(lambda g: g * 100)
    y = x * 2
    h2 = y.register_hook(lambda g: g * 10)
    h1.remove()
    h2.remove()
    h2.remove()  # a second remove is harmless
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_hook_exception_propagates():
    x = leaf([1.0])

    def bad(g):
        raise KeyError("from the hook")

    x.register_hook(bad)
    with pytest.raises(KeyError, match="from the hook"):
        (x * 2).sum().backward()


def test_autograd_grad_does_not_touch_dot_grad():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    y = (x * w).sum()
    gx, gw = dl.autograd.grad(y, (x, w))
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_autograd_grad_unused_and_non_leaf_inputs():
    x = leaf([1.0, 2.0])
    u = leaf([1.0])
    h = x * x
    y = (h * 2).sum()
    with pytest.raises(RuntimeError, match="not have been used"):
        dl.autograd.grad(y, [u], retain_graph=True)
    gh, gu = dl.autograd.grad(y, [h, u], allow_unused=True)
    np.testing.assert_allclose(gh.numpy(), [2.0, 2.0])
    assert gu is None


def test_higher_order_derivatives_with_create_graph():
    x = leaf([0.3, -1.2])
    y = (x ** 3 + x.sin()).sum()
    (g,) = dl.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([0.3, -1.2]) ** 2 + np.cos([0.3, -1.2]))
    (h,) = dl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * np.array([0.3, -1.2]) - np.sin([0.3, -1.2]), rtol=1e-12)


def test_double_backward_through_saved_outputs():
    x = leaf([0.2, 0.7])
    y = x.exp().tanh().sigmoid().sum()
    (g,) = dl.autograd.grad(y, x, create_graph=True)
    g.sum().backward()

    def f(v):
        return 1 / (1 + np.exp(-np.tanh(np.exp(v))))

    def df(v, e=1e-5):
        return (f(v + e) - f(v - e)) / (2 * e)

    v = np.array([0.2, 0.7])
    np.testing.assert_allclose(x.grad.numpy(), (df(v + 1e-4) - df(v - 1e-4)) / 2e-4, rtol=1e-4)


@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_second_derivative_with_a_zero(dim, rng):
    # d/dx of sum(C * grad prod(x)), against central differences of the gradient written in
    # NumPy (the product of the others along dim). Its backward was once a kernel without a
    # graph: the second derivative then lost prod's own part.
    x0 = rng.normal(size=(3, 4))
    x0[1, 2] = 0.0
    C = rng.normal(size=(3, 4))

    def grad_np(m):
        if dim is None:
            return np.array([np.prod(np.delete(m.ravel(), i)) for i in range(m.size)]).reshape(m.shape)
        out = np.empty_like(m)
        for idx in np.ndindex(m.shape):
            line = np.take(m, idx[1 - dim], axis=1 - dim)
            out[idx] = np.prod(np.delete(line, idx[dim]))
        return out

    x = dl.tensor(x0, requires_grad=True)
    y = x.prod() if dim is None else x.prod(dim)
    (g,) = dl.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), grad_np(x0), rtol=1e-12, atol=1e-15)
    (h,) = dl.autograd.grad((g * dl.tensor(C)).sum(), x)
    want = np.zeros_like(x0)
    for idx in np.ndindex(x0.shape):
        e = np.zeros_like(x0)
        e[idx] = 1e-6
        want[idx] = ((C * grad_np(x0 + e)).sum() - (C * grad_np(x0 - e)).sum()) / 2e-6
    np.testing.assert_allclose(h.numpy(), want, rtol=1e-6, atol=1e-8)


def test_inplace_on_tensor_needed_by_backward_is_an_error():
    x = leaf([1.0, 2.0])
    y = x * 2
    z = y * y  # saves y
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()
    e = x.exp()  # saves its output
    e.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        e.sum().backward()


def test_inplace_on_non_leaf_is_differentiated():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.mul_(y.detach() + 1)  # y * (y + 1) with the factor constant
    y += x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 * 3 + 1, 2 * 5 + 1])


def test_inplace_on_leaf_requiring_grad_is_an_error_unless_no_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x.add_(1.0)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x *= 2
    with dl.no_grad():
        x.add_(1.0)
        x -= 0.5
    np.testing.assert_allclose(x.detach().numpy(), [1.5, 2.5])
    assert x.requires_grad and x.is_leaf


def test_version_counter_counts_inplace_writes_on_views():
    x = dl.zeros(4)
    v0 = x._version
    x[1:3] = 5.0
    x.add_(1)
    assert x._version == v0 + 2
    assert x.tolist() == [1.0, 6.0, 6.0, 1.0]


def test_view_gradients():
    x = leaf(np.arange(12.0).reshape(3, 4))
    y = x[1:, ::2].t().reshape(-1) * dl.arange(4, dtype=dl.float64)
    y.sum().backward()
    expected = np.zeros((3, 4))
    expected[1:, ::2] = np.arange(4.0).reshape(2, 2).T
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_split_joins_its_pieces_gradients_with_and_without_a_graph():
    """cat's backward hands each piece a view of its gradient, so the split before it gets
    pieces lying side by side in one buffer, which it may pass on as one view. The values
    match 3 x^2 w, and a second backward adds to the first; with create_graph the join is
    recorded (gradgradcheck fails where the view is passed on without its graph)."""
    rng = np.random.default_rng(0)
    xv, wv = rng.normal(size=(2, 3, 6)), rng.normal(size=(2, 3, 6))
    x, w = leaf(xv), dl.tensor(wv)

    def f(x):
        a, b, c = (x * 1.0).chunk(3, -1)
        return dl.cat([a, b, c], -1) ** 3 * w

    for _ in range(2):
        f(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * 3 * xv ** 2 * wv, rtol=1e-13)
    assert dl.autograd.gradgradcheck(f, (x,))


def test_broadcast_gradients_sum_to_input_shape():
    a = leaf(np.ones((3, 1)))
    b = leaf(np.ones((4,)))
    (a * b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.full((3, 1), 4.0))
    np.testing.assert_allclose(b.grad.numpy(), np.full((4,), 3.0))


def test_mixed_dtype_gradients_keep_input_dtype():
    a = dl.tensor([1.0, 2.0], dtype=dl.float32, requires_grad=True)
    b = dl.tensor([3.0, 4.0], dtype=dl.float64, requires_grad=True)
    y = a * b
    assert y.dtype == dl.float64
    y.sum().backward()
    assert a.grad.dtype == dl.float32 and b.grad.dtype == dl.float64
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 4.0])


def test_gradcheck_detects_a_wrong_gradient():
    x = leaf([0.5, 1.0])
    h = []

    def f(t):
        y = t * t
        if not h:
            h.append(y.register_hook(lambda g: g * 2))  # corrupts the analytic gradient
        return y

    assert not dl.autograd.gradcheck(f, (x,), raise_exception=False)


def test_post_accumulate_grad_hook_steps_an_optimizer_in_backward(rng):
    """The optimizer-in-backward pattern: each parameter's hook gets the parameter object
    itself (a dict key) once its .grad holds the whole gradient of the pass."""
    m = nn.Linear(3, 2)
    w0, b0 = m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()
    x = rng.normal(size=(4, 3)).astype(np.float32)
    opts = {p: dl.optim.SGD([p], lr=0.1) for p in m.parameters()}
    seen = []

    def hook(p):
        seen.append((p is m.weight, p.grad.numpy().copy()))
        opts[p].step()
        opts[p].zero_grad()

    handles = [p.register_post_accumulate_grad_hook(hook) for p in m.parameters()]
    m(dl.tensor(x)).sum().backward()
    dw, db = np.ones((2, 1)) * x.sum(0), np.full(2, 4.0)  # d sum(x W^T + b)
    assert sorted(k for k, _ in seen) == [False, True]
    np.testing.assert_allclose(dict(seen)[True], dw, rtol=1e-6)
    np.testing.assert_allclose(m.weight.detach().numpy(), w0 - 0.1 * dw, rtol=1e-6)
    np.testing.assert_allclose(m.bias.detach().numpy(), b0 - 0.1 * db, rtol=1e-6)
    assert m.weight.grad is None  # zeroed by the hook
    seen.clear()
    handles[0].remove()
    dl.autograd.grad(m(dl.tensor(x)).sum(), [m.bias])  # no .grad accumulated: no hook
    assert seen == []
    m(dl.tensor(x)).sum().backward()
    assert [k for k, _ in seen] == [False]  # the weight's hook is gone
    with pytest.raises(RuntimeError, match="cannot be registered on non-leaf tensors"):
        (m.weight * 2).register_post_accumulate_grad_hook(hook)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        dl.zeros(2).register_post_accumulate_grad_hook(hook)


def test_post_accumulate_grad_hook_sees_the_sum_of_two_passes():
    a = dl.tensor([1.0, 2.0], requires_grad=True)
    grads = []
    a.register_post_accumulate_grad_hook(lambda t: grads.append(t.grad.numpy().copy()))
    (a * 3).sum().backward()
    (a * a).sum().backward()
    np.testing.assert_array_equal(grads[0], [3, 3])
    np.testing.assert_array_equal(grads[1], [3 + 2, 3 + 4])


# ---- anomaly mode -----------------------------------------------------------------------

def test_anomaly_mode_names_the_node_that_made_a_nan_and_where_it_was_created():
    x = leaf([4.0, 1.0])
    with pytest.warns(UserWarning, match="anomaly detection is on"), dl.autograd.detect_anomaly():
        assert dl.is_anomaly_enabled() and dl.is_anomaly_check_nan_enabled()
        loss = dl.sqrt(x - 4.0).sum()  # sqrt'(0) = inf, sqrt(-3) = nan: the gradient has a nan
        with pytest.raises(RuntimeError) as err:
            loss.backward()
    assert not dl.is_anomaly_enabled()
    text = str(err.value)
    assert "Function 'sqrt' returned nan values in its 0th output" in text
    assert "The forward call that created 'sqrt':" in text
    assert "loss = dl.sqrt(x - 4.0).sum()" in text  # this file's line, from the recorded stack
    # Without anomaly mode the same graph gives a gradient with the nan in it, no error.
    x = leaf([4.0, 1.0])
    dl.sqrt(x - 4.0).sum().backward()
    g = x.grad.numpy()
    assert np.isinf(g[0]) and np.isnan(g[1])


def test_anomaly_mode_without_the_nan_check_lets_nans_through():
    x = leaf([0.0, 1.0])
    with pytest.warns(UserWarning), dl.autograd.detect_anomaly(check_nan=False):
        assert not dl.is_anomaly_check_nan_enabled()
        (x / x).sum().backward()  # d/d(denominator) of x / x at 0 is 0 / 0
    assert np.isnan(x.grad.numpy()[0])


def test_anomaly_mode_adds_the_node_and_the_forward_stack_to_backward_errors():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.warns(UserWarning), dl.autograd.detect_anomaly():
        z = y * y  # saves y
        y.add_(1.0)
        with pytest.raises(RuntimeError) as err:
            z.sum().backward()
    text = str(err.value)
    assert "modified by an inplace operation" in text
    assert "raised by the backward of 'mul' in anomaly mode" in text
    assert "z = y * y  # saves y" in text


def test_anomaly_mode_checks_custom_functions():
    class Bad(dl.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1.0

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = leaf([1.0])
    with dl.autograd.set_detect_anomaly(True):
        out = Bad.apply(x).sum()
        with pytest.raises(RuntimeError, match="Function 'BadBackward' returned nan values in its 0th output"):
            out.backward()
    assert not dl.is_anomaly_enabled()


def test_set_detect_anomaly_as_a_call_stays_and_as_a_block_is_undone():
    try:
        dl.autograd.set_detect_anomaly(True, check_nan=False)
        assert dl.is_anomaly_enabled() and not dl.is_anomaly_check_nan_enabled()
        with dl.autograd.set_detect_anomaly(False):
            assert not dl.is_anomaly_enabled()
        assert dl.is_anomaly_enabled() and not dl.is_anomaly_check_nan_enabled()
    finally:
        dl.set_anomaly_enabled(False)
    assert not dl.is_anomaly_enabled() and dl.is_anomaly_check_nan_enabled()

    @dl.autograd.detect_anomaly()
    def inside():
        return dl.is_anomaly_enabled()

    with pytest.warns(UserWarning):
        assert inside()
    assert not dl.is_anomaly_enabled()


# ---- saved-tensor hooks ----------------------------------------------------------------

def test_saved_tensors_hooks_pack_and_unpack_every_saved_tensor():
    x = leaf([[0.5, -1.0], [2.0, 0.1]])
    shapes = []

    def pack(t):
        shapes.append(tuple(t.shape))
        return t.detach().numpy().copy()  # kept outside dlcore, as an offloading hook would

    with dl.autograd.graph.saved_tensors_hooks(pack, dl.from_numpy):
        y = (x * x).sigmoid().sum()
    assert shapes == [(2, 2), (2, 2), (2, 2)]  # mul keeps both operands, sigmoid its output
    y.backward()
    xv = x.detach().numpy()
    s = 1 / (1 + np.exp(-xv * xv))
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s) * 2 * xv, rtol=1e-14)
    # outside the block nothing is packed
    shapes.clear()
    (x * x).sum()
    assert shapes == []


def test_saved_tensors_hooks_keep_the_history_for_double_backward():
    x = leaf([1.5, -0.5])
    with dl.autograd.graph.saved_tensors_hooks(lambda t: ("kept", t), lambda kept: kept[1]):
        z = (x ** 3).sum()
        e = x.exp()  # saves its output
    (g,) = dl.autograd.grad(z, x, create_graph=True)
    (h,) = dl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), 3 * np.array([1.5, -0.5]) ** 2, rtol=1e-14)
    np.testing.assert_allclose(h.numpy(), 6 * np.array([1.5, -0.5]), rtol=1e-14)
    (ge,) = dl.autograd.grad(e.sum(), x, create_graph=True)
    (he,) = dl.autograd.grad(ge.sum(), x)
    np.testing.assert_allclose(he.numpy(), np.exp([1.5, -0.5]), rtol=1e-14)


def test_saved_tensors_hooks_reach_custom_functions_and_nest():
    class Exp(dl.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            out = a.exp()
            ctx.save_for_backward(a, out)
            return out

        @staticmethod
        def backward(ctx, g):
            a, out = ctx.saved_tensors
            return g * out

    outer, inner = [], []
    x = leaf([0.3, -1.2])
    with dl.autograd.graph.saved_tensors_hooks(lambda t: outer.append(1) or t, lambda t: t):
        with dl.autograd.graph.saved_tensors_hooks(lambda t: inner.append(1) or t, lambda t: t):
            y = Exp.apply(x)
        z = y.exp()  # the outer pair again: exp keeps its output
    assert len(inner) == 2 and len(outer) == 1
    z.sum().backward()
    v = np.array([0.3, -1.2])
    np.testing.assert_allclose(x.grad.numpy(), np.exp(np.exp(v)) * np.exp(v), rtol=1e-14)


def test_save_on_cpu_copies_and_in_place_changes_stay_out():
    x = leaf([1.0, 2.0])
    y = x * 2
    with dl.autograd.graph.save_on_cpu():
        z = (y * y).sum()  # keeps a copy of y
    with dl.no_grad():
        y.add_(100.0)  # without the copy this would be an in-place error at backward
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 8 * np.array([1.0, 2.0]), rtol=1e-14)


def test_saved_tensors_hooks_errors():
    x = leaf([1.0, 2.0])
    with dl.autograd.graph.disable_saved_tensors_hooks("hooks are off in this library"):
        with pytest.raises(RuntimeError, match="hooks are off in this library"):
            x * x
    with dl.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: dl.zeros(3, dtype=dl.float64)):
        y = (x * x).sum()
    with pytest.raises(ValueError, match=r"unpack returned a tensor of shape \(3,\) .* for a tensor of shape \(2,\)"):
        y.backward()
    with dl.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: "not a tensor"):
        y = (x * x).sum()
    with pytest.raises(TypeError, match="unpack_hook must return a Tensor, got str"):
        y.backward()
    with pytest.raises(TypeError, match="callable"):
        dl.autograd.graph.saved_tensors_hooks(None, lambda t: t)
