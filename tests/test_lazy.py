"""Lazy layers (nn/lazy.py): sizes from the first input, PyTorch's initialisation bounds,
outputs against NumPy, an optimizer built before the first call updating the materialised
parameters, loading a checkpoint into placeholders, and the errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn


def test_lazy_linear_sizes_initialises_and_trains(rng):
    dl.manual_seed(0)
    layer = nn.LazyLinear(4)
    assert isinstance(layer.weight, nn.UninitializedParameter) and layer.has_uninitialized_params()
    opt = dl.optim.SGD(layer.parameters(), lr=0.5)
    x = rng.normal(size=(3, 6)).astype(np.float32)
    y = layer(dl.tensor(x))
    assert type(layer) is nn.Linear and layer.in_features == 6 and layer.weight.shape == (4, 6)
    w, b = layer.weight.detach().numpy().copy(), layer.bias.detach().numpy().copy()
    bound = 1 / np.sqrt(6)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    np.testing.assert_allclose(y.detach().numpy(), x @ w.T + b, rtol=1e-5, atol=1e-6)
    y.sum().backward()
    opt.step()  # the optimizer holds the same objects, now sized
    np.testing.assert_allclose(layer.weight.detach().numpy(), w - 0.5 * np.tile(x.sum(0), (4, 1)), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(layer.bias.detach().numpy(), b - 0.5 * 3, rtol=1e-5)


def test_lazy_conv_and_batch_norm(rng):
    conv = nn.LazyConv2d(6, 3, padding=1, groups=2)
    out = conv(dl.randn(2, 4, 5, 5))
    assert type(conv) is nn.Conv2d and conv.in_channels == 4 and conv.weight.shape == (6, 2, 3, 3)
    assert out.shape == (2, 6, 5, 5)
    unbatched = nn.LazyConv1d(3, 2)
    assert unbatched(dl.randn(5, 7)).shape == (3, 6) and unbatched.in_channels == 5
    up = nn.LazyConvTranspose3d(2, 2, stride=2)
    assert up(dl.randn(1, 3, 2, 2, 2)).shape == (1, 2, 4, 4, 4) and up.weight.shape == (3, 2, 2, 2, 2)
    with pytest.raises(ValueError, match=r"LazyConv2d: the input's 5 channels are not divisible by groups \(2\)"):
        nn.LazyConv2d(6, 3, groups=2)(dl.randn(1, 5, 4, 4))
    bn = nn.LazyBatchNorm1d(momentum=0.5)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    bn(dl.tensor(x))
    assert type(bn) is nn.BatchNorm1d and bn.num_features == 3
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.5 * x.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.5 + 0.5 * x.var(0, ddof=1), rtol=1e-5)
    np.testing.assert_array_equal(bn.weight.detach().numpy(), np.ones(3))


def test_lazy_layers_load_a_checkpoint():
    def make():
        return nn.Sequential(nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.Flatten(), nn.LazyLinear(2))

    dl.manual_seed(1)
    trained = make()
    x = dl.randn(2, 3, 6, 6)
    trained(x)
    trained.eval()
    fresh = make()
    fresh.load_state_dict(trained.state_dict())
    fresh.eval()
    np.testing.assert_array_equal(fresh(x).detach().numpy(), trained(x).detach().numpy())
    assert type(fresh[3]) is nn.Linear and fresh[3].in_features == 64 and fresh[1].num_features == 4


@pytest.mark.parametrize("cls, shape", [("LazyInstanceNorm1d", (2, 3, 7)), ("LazyInstanceNorm2d", (2, 3, 4, 5)),
                                        ("LazyInstanceNorm3d", (2, 3, 2, 3, 4))])
def test_lazy_instance_norm_sizes_from_the_input(cls, shape, rng):
    """Each row (sample, channel) normalised over its own positions, as the non-lazy layer
    with the same settings does; the channel count comes from dim 1, or dim 0 unbatched."""
    x = rng.normal(size=shape).astype(np.float32)
    axes = tuple(range(2, len(shape)))
    want = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + 1e-5)
    plain = getattr(nn, cls)()
    np.testing.assert_allclose(plain(dl.tensor(x)).numpy(), want, rtol=1e-4, atol=1e-5)
    assert type(plain).__name__ == cls[4:] and plain.num_features == 3
    tracked = getattr(nn, cls)(affine=True, track_running_stats=True, momentum=0.5)
    np.testing.assert_allclose(tracked(dl.tensor(x)).detach().numpy(), want, rtol=1e-4, atol=1e-5)
    assert tracked.weight.shape == (3,) and tracked.running_mean.shape == (3,)
    np.testing.assert_allclose(tracked.running_mean.numpy(), 0.5 * x.mean(axes).mean(0), rtol=1e-5, atol=1e-6)
    unbatched = getattr(nn, cls)(affine=True)
    np.testing.assert_allclose(unbatched(dl.tensor(x[0])).detach().numpy(), want[0], rtol=1e-4, atol=1e-5)
    assert unbatched.num_features == 3 and unbatched.weight.shape == (3,)
