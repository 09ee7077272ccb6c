"""Module.register_full_backward_hook / register_full_backward_pre_hook: the gradients
they see against autograd.grad and NumPy, their replacements taking effect, the inputs
that need no gradient, and removal."""
import numpy as np

import dlcore as dl
from dlcore import nn


def test_full_backward_hook_sees_grad_input_and_grad_output(rng):
    dl.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4).double(), nn.Tanh(), nn.Linear(4, 2).double())
    seen = {}
    handle = m[2].register_full_backward_hook(lambda mod, gi, go: seen.update(gi=gi, go=go))
    x = dl.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    h = m[1](m[0](x))
    out = m[2](h)
    g = rng.normal(size=(5, 2))
    out.backward(dl.tensor(g))
    np.testing.assert_allclose(seen["go"][0].numpy(), g)
    np.testing.assert_allclose(seen["gi"][0].numpy(), g @ m[2].weight.detach().numpy(), rtol=1e-12)
    handle.remove()
    seen.clear()
    m(x).sum().backward()
    assert not seen


def test_hooks_replace_gradients(rng):
    lin = nn.Linear(3, 2).double()
    x = dl.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    lin.register_full_backward_pre_hook(lambda mod, go: (go[0] * 3.0,))
    lin(x).sum().backward()
    w = lin.weight.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 3.0 * np.ones((4, 2)) @ w, rtol=1e-12)
    np.testing.assert_allclose(lin.weight.grad.numpy(), 3.0 * np.ones((2, 4)) @ x.detach().numpy(), rtol=1e-12)
    x.grad = None
    lin.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0.0,))
    lin(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((4, 3)))


def test_hook_when_no_input_needs_a_gradient(rng):
    lin = nn.Linear(3, 2).double()
    calls = []
    lin.register_full_backward_hook(lambda mod, gi, go: calls.append((gi, go[0].shape)))
    lin(dl.tensor(rng.normal(size=(4, 3)))).sum().backward()
    assert calls == [((None,), (4, 2))]
    assert lin.weight.grad is not None
