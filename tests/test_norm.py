"""Normalisation layers against the NumPy references in tests/reference/nn.py: batch norm in
training (with the running statistics' update, momentum None = cumulative) and eval,
layer, group and instance norm; gradchecks; thread counts; bad inputs."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.nn import functional as F
from reference import nn as ref


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 3, 4)])
def test_batch_norm_training_and_eval(shape, rng):
    layer_type = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}[len(shape)]
    layer = layer_type(3, momentum=0.3).double()
    with dl.no_grad():
        layer.weight.copy_(dl.tensor([0.5, 1.5, -1.0]))
        layer.bias.copy_(dl.tensor([0.1, 0.0, -0.2]))
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    rm, rv = np.zeros(3), np.ones(3)
    for step in range(3):
        x = rng.normal(loc=step, size=shape)
        y, rm, rv = ref.batch_norm_train(x, w, b, rm, rv, 0.3, 1e-5)
        np.testing.assert_allclose(layer(dl.tensor(x)).detach().numpy(), y, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.running_mean.numpy(), rm, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.numpy(), rv, rtol=1e-12)
    assert layer.num_batches_tracked.item() == 3
    layer.eval()
    x = rng.normal(size=shape)
    np.testing.assert_allclose(layer(dl.tensor(x)).detach().numpy(), ref.batch_norm_eval(x, w, b, rm, rv, 1e-5),
                               rtol=1e-10, atol=1e-12)
    assert dl.autograd.gradcheck(lambda t: layer(t), [dl.tensor(x, requires_grad=True)])
    layer.train()
    ts = [dl.tensor(a, requires_grad=True) for a in (x, w, b)]
    assert dl.autograd.gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), ts)


@pytest.mark.parametrize("shape", [(4, 3, 17, 19), (6, 2, 16), (5, 2, 3, 3)], ids=["runs", "1d", "short"])
def test_batch_norm_float32_far_from_zero_on_every_isa(shape, isa, rng):
    """Values around 1000 with unit spread: the statistics and both passes of the backward
    must not lose digits to the large mean (long runs go through the SIMD kernels, short
    ones through plain loops)."""
    x = (1000 + rng.normal(size=shape)).astype(np.float32)
    w, b = np.array([0.5, -1.5, 2.0][:shape[1]]), np.array([0.1, 0.2, -0.3][:shape[1]])
    g = rng.normal(size=shape).astype(np.float32)
    tx = dl.tensor(x, requires_grad=True)
    tw, tb = dl.tensor(w).float().requires_grad_(), dl.tensor(b).float().requires_grad_()
    y = F.batch_norm(tx, None, None, tw, tb, True, eps=1e-5)
    y.backward(dl.tensor(g))
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(y.detach().numpy(), ref.batch_norm_train(x64, w, b, 0, 0, 0.1, 1e-5)[0], rtol=1e-5,
                               atol=1e-5, err_msg=isa)
    dx, dw, db = ref.batch_norm_train_grads(x64, w, g.astype(np.float64), 1e-5)
    np.testing.assert_allclose(tx.grad.numpy(), dx, rtol=1e-4, atol=1e-5, err_msg=isa)
    np.testing.assert_allclose(tw.grad.numpy(), dw, rtol=1e-4, atol=1e-3, err_msg=isa)
    np.testing.assert_allclose(tb.grad.numpy(), db, rtol=1e-5, atol=1e-4, err_msg=isa)


def test_batch_norm_eval_gradient_ignores_infinite_inputs(rng):
    layer = nn.BatchNorm2d(2).eval()
    x = rng.normal(size=(2, 2, 5, 5)).astype(np.float32)
    x[0, 0, 1, 1] = np.inf
    tx = dl.tensor(x, requires_grad=True)
    g = rng.normal(size=x.shape).astype(np.float32)
    layer(tx).backward(dl.tensor(g))
    np.testing.assert_allclose(tx.grad.numpy(), g / np.sqrt(1 + 1e-5), rtol=1e-6)


def test_batch_norm_float32_cumulative_momentum_and_no_tracking(rng):
    layer = nn.BatchNorm2d(2, momentum=None)
    xs = [rng.normal(size=(3, 2, 4, 4)).astype(np.float32) for _ in range(3)]
    for x in xs:
        y = layer(dl.tensor(x))
    np.testing.assert_allclose(layer.running_mean.numpy(), np.mean([x.mean((0, 2, 3)) for x in xs], 0), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(y.detach().numpy(), ref.batch_norm_train(xs[-1].astype(np.float64), np.ones(2),
                                                                        np.zeros(2), 0, 0, 0.1, 1e-5)[0],
                               rtol=1e-4, atol=1e-5)
    free = nn.BatchNorm1d(2, affine=False, track_running_stats=False).eval()
    x = rng.normal(size=(5, 2))
    np.testing.assert_allclose(free(dl.tensor(x)).numpy(),
                               ref.batch_norm_train(x, np.ones(2), np.zeros(2), 0, 0, 0.1, 1e-5)[0], rtol=1e-10)
    assert free.running_mean is None and list(free.parameters()) == []


def test_batch_norm_same_bits_for_any_thread_count(threads, rng):
    x = rng.normal(size=(16, 8, 20, 20)).astype(np.float32)
    out = []
    for t in (1, 2):
        dl.set_num_threads(t)
        layer = nn.BatchNorm2d(8)
        xt = dl.tensor(x, requires_grad=True)
        y = layer(xt)
        (y * y).sum().backward()
        out.append([y.detach().numpy(), xt.grad.numpy(), layer.weight.grad.numpy(), layer.running_var.numpy()])
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_layer_norm(rng):
    x = rng.normal(size=(2, 3, 4, 5))
    layer = nn.LayerNorm((4, 5)).double()
    with dl.no_grad():
        layer.weight.copy_(dl.tensor(rng.normal(size=(4, 5))))
        layer.bias.copy_(dl.tensor(rng.normal(size=(4, 5))))
    want = ref.layer_norm(x, 2, layer.weight.detach().numpy(), layer.bias.detach().numpy(), 1e-5)
    np.testing.assert_allclose(layer(dl.tensor(x)).detach().numpy(), want, rtol=1e-10, atol=1e-12)
    ts = [dl.tensor(a, requires_grad=True) for a in (x, rng.normal(size=5), rng.normal(size=5))]
    assert dl.autograd.gradcheck(lambda x, w, b: F.layer_norm(x, 5, w, b), ts)
    with pytest.raises(ValueError, match="does not end in normalized_shape"):
        F.layer_norm(dl.tensor(x), (3, 4))


def test_group_and_instance_norm(rng):
    x = rng.normal(size=(2, 6, 3, 4))
    w, b = rng.normal(size=6), rng.normal(size=6)
    np.testing.assert_allclose(F.group_norm(dl.tensor(x), 3, dl.tensor(w), dl.tensor(b)).numpy(),
                               ref.group_norm(x, 3, w, b, 1e-5), rtol=1e-10, atol=1e-12)
    ts = [dl.tensor(a, requires_grad=True) for a in (x, w, b)]
    assert dl.autograd.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), ts)
    inorm = nn.InstanceNorm2d(6, affine=True).double()
    np.testing.assert_allclose(inorm(dl.tensor(x)).detach().numpy(),
                               ref.group_norm(x, 6, np.ones(6), np.zeros(6), 1e-5), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(nn.InstanceNorm1d(6)(dl.tensor(x[0, :, 0])).numpy(),
                               ref.group_norm(x[:1, :, 0], 6, np.ones(6), np.zeros(6), 1e-5)[0], rtol=1e-10, atol=1e-12)
    x3 = rng.normal(size=(2, 6, 2, 3, 2))
    np.testing.assert_allclose(nn.InstanceNorm3d(6)(dl.tensor(x3)).numpy(),
                               ref.group_norm(x3, 6, np.ones(6), np.zeros(6), 1e-5), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="5-D"):
        nn.InstanceNorm3d(6)(dl.tensor(x[0, 0]))
    tracked = nn.InstanceNorm2d(6, track_running_stats=True).double()
    tracked(dl.tensor(x))
    np.testing.assert_allclose(tracked.running_mean.numpy(), 0.1 * x.mean((2, 3)).mean(0), rtol=1e-10)
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(4, 6)


def test_batch_norm_bad_inputs():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(dl.ones(1, 3))
    with pytest.raises(ValueError, match=r"weight must have shape \(3\)"):
        F.batch_norm(dl.ones(4, 3), None, None, dl.ones(2), None, True)
    with pytest.raises(ValueError, match="4-D"):
        nn.BatchNorm2d(3)(dl.ones(4, 3))
    with pytest.raises(ValueError, match="5-D"):
        nn.BatchNorm3d(3)(dl.ones(4, 3, 2, 2))
    with pytest.raises(TypeError, match="float64 but the input is float32"):
        F.batch_norm(dl.ones(4, 3), dl.zeros(3, dtype=dl.float64), dl.ones(3, dtype=dl.float64), training=True)
