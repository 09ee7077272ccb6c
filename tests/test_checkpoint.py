"""utils.checkpoint: outputs and gradients with the same bits as without checkpointing (dropout included), the
outer random stream left as it was, segments, arguments that need no gradient, and errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.utils.checkpoint import checkpoint, checkpoint_sequential


def model():
    dl.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 16), nn.Tanh(),
                         nn.Dropout(0.2), nn.Linear(16, 3))


def run(run_model, x_requires_grad=True):
    m = model()
    x = dl.tensor(np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32), requires_grad=x_requires_grad)
    dl.manual_seed(7)
    y = run_model(m, x)
    (y * y).sum().backward()
    after = dl.rand(4).numpy()  # where the default stream is after forward and backward
    grads = [p.grad.numpy() for p in m.parameters()] + ([x.grad.numpy()] if x_requires_grad else [])
    return y.detach().numpy(), grads, after


@pytest.mark.parametrize("wrap", [lambda m, x: checkpoint(m, x),
                                  lambda m, x: checkpoint_sequential(m, 3, x),
                                  lambda m, x: m[3:](checkpoint(m[:3], x))])
@pytest.mark.parametrize("x_requires_grad", [True, False])
def test_same_bits_as_without_checkpointing(wrap, x_requires_grad):
    y0, g0, r0 = run(lambda m, x: m(x), x_requires_grad)
    y1, g1, r1 = run(wrap, x_requires_grad)
    np.testing.assert_array_equal(y1, y0)
    assert len(g1) == len(g0)
    for a, b in zip(g1, g0):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(r1, r0)


def test_several_outputs_and_plain_arguments():
    a = dl.tensor(np.arange(3.0), requires_grad=True)
    b = dl.tensor(np.ones(3), requires_grad=True)

    def f(x, scale, y):
        return (x * y * scale).exp(), x + y

    p, q = checkpoint(f, a, 0.5, b)
    (p.sum() + (q * q).sum()).backward()
    want_a = 0.5 * np.exp(0.5 * np.arange(3.0)) + 2 * (np.arange(3.0) + 1)
    np.testing.assert_allclose(a.grad.numpy(), want_a, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), 0.5 * np.arange(3.0) * np.exp(0.5 * np.arange(3.0))
                               + 2 * (np.arange(3.0) + 1), rtol=1e-12)


def test_errors():
    x = dl.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"checkpoint: keyword arguments for the function are not supported, "
                                         r"got \['scale'\]"):
        checkpoint(lambda t, scale=1: t * scale, x, scale=2)
    with pytest.raises(TypeError, match="checkpoint: expected a callable, got int"):
        checkpoint(3, x)
    with pytest.raises(ValueError, match="checkpoint_sequential: segments must be a positive int, got 0"):
        checkpoint_sequential(nn.Sequential(nn.Identity()), 0, x)
