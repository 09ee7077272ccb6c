"""dlcore.vision (models, filters) and the resampling layers (interpolate, PixelShuffle,
ZeroPad2d, Dropout2d) against NumPy references and known facts (published parameter
counts, filter responses)."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.nn import functional as F
from dlcore.vision import models
from reference import conv as ref


@pytest.mark.parametrize("align", [False, True])
def test_bilinear_and_linear_interpolate(align, rng):
    x = rng.normal(size=(2, 3, 5, 7))
    got = F.interpolate(dl.tensor(x), size=(8, 4), mode="bilinear", align_corners=align)
    want = ref.interpolate_linear_1d(ref.interpolate_linear_1d(x, 2, 8, align), 3, 4, align)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    assert dl.autograd.gradcheck(lambda t: F.interpolate(t, size=(8, 4), mode="bilinear", align_corners=align),
                                 [dl.tensor(x, requires_grad=True)])
    s = rng.normal(size=(2, 3, 6))
    np.testing.assert_allclose(F.interpolate(dl.tensor(s), size=9, mode="linear", align_corners=align).numpy(),
                               ref.interpolate_linear_1d(s, 2, 9, align), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("align", [False, True])
def test_bicubic_and_trilinear_interpolate(align, rng):
    x = rng.normal(size=(2, 3, 5, 7))
    got = F.interpolate(dl.tensor(x), size=(9, 4), mode="bicubic", align_corners=align)
    want = ref.interpolate_cubic_1d(ref.interpolate_cubic_1d(x, 2, 9, align), 3, 4, align)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    assert dl.autograd.gradcheck(lambda t: F.interpolate(t, size=(9, 4), mode="bicubic", align_corners=align),
                                 [dl.tensor(x[:1, :1], requires_grad=True)])
    v = rng.normal(size=(1, 2, 3, 4, 5))
    got = nn.Upsample(size=(5, 3, 8), mode="trilinear", align_corners=align)(dl.tensor(v))
    want = v
    for axis, n in zip((2, 3, 4), (5, 3, 8)):
        want = ref.interpolate_linear_1d(want, axis, n, align)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    assert dl.autograd.gradcheck(lambda t: F.interpolate(t, size=(3, 2, 6), mode="trilinear", align_corners=align),
                                 [dl.tensor(v[:, :1], requires_grad=True)])


def test_nearest_exact_and_area_interpolate(rng):
    x = rng.normal(size=(1, 2, 6, 5))
    got = F.interpolate(dl.tensor(x), size=(4, 8), mode="nearest-exact").numpy()
    rows = [min(int(np.floor((i + 0.5) * 6 / 4)), 5) for i in range(4)]
    cols = [min(int(np.floor((j + 0.5) * 5 / 8)), 4) for j in range(8)]
    np.testing.assert_array_equal(got, x[:, :, rows][:, :, :, cols])
    np.testing.assert_allclose(F.interpolate(dl.tensor(x), size=(4, 3), mode="area").numpy(),
                               ref.adaptive_pool2d(x, (4, 3), np.mean), rtol=1e-12, atol=1e-12)
    v = rng.normal(size=(1, 2, 4, 6, 5))
    np.testing.assert_allclose(F.interpolate(dl.tensor(v), scale_factor=0.5, mode="area").numpy(),
                               ref.adaptive_pool3d(v, (2, 3, 2), np.mean), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"interpolate: mode 'bicubic' needs a 4-D input, got shape \(1, 2, 4, 6, 5\)"):
        F.interpolate(dl.tensor(v), scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="interpolate: antialias=True is not supported"):
        F.interpolate(dl.tensor(x), scale_factor=2, mode="bilinear", antialias=True)
    with pytest.raises(ValueError, match="interpolate: size and scale_factor need 2 values for a 4-D input"):
        F.interpolate(dl.tensor(x), size=(2, 3, 4))


def test_nearest_interpolate_and_upsample(rng):
    x = rng.normal(size=(1, 2, 3, 4))
    up = nn.Upsample(scale_factor=2)(dl.tensor(x)).numpy()
    np.testing.assert_array_equal(up, x.repeat(2, 2).repeat(2, 3))
    down = F.interpolate(dl.tensor(x), size=(2, 3)).numpy()
    np.testing.assert_array_equal(down, x[:, :, [0, 1]][:, :, :, [0, 1, 2]])
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(dl.tensor(x))
    with pytest.raises(ValueError, match="needs a 4-D input"):
        F.interpolate(dl.tensor(x[0]), size=4, mode="bilinear")


def test_pixel_shuffle_and_unshuffle(rng):
    x = rng.normal(size=(2, 8, 3, 5))
    got = nn.PixelShuffle(2)(dl.tensor(x)).numpy()
    want = np.zeros((2, 2, 6, 10))
    for c in range(2):
        for i in range(2):
            for j in range(2):
                want[:, c, i::2, j::2] = x[:, c * 4 + i * 2 + j]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(nn.PixelUnshuffle(2)(dl.tensor(got)).numpy(), x)
    with pytest.raises(ValueError, match="divisible"):
        F.pixel_shuffle(dl.ones(1, 3, 2, 2), 2)


def test_zero_pad_and_dropout2d(rng):
    x = rng.normal(size=(1, 2, 3, 3))
    np.testing.assert_array_equal(nn.ZeroPad2d((1, 0, 2, 1))(dl.tensor(x)).numpy(),
                                  np.pad(x, ((0, 0), (0, 0), (2, 1), (1, 0))))
    d = nn.Dropout2d(0.5)
    dl.manual_seed(1)
    y = d(dl.ones(64, 8, 3, 3)).numpy()
    per_channel = y.reshape(64, 8, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.35 < (per_channel[..., 0] == 0).mean() < 0.65
    assert d.eval()(dl.tensor(x)).numpy() is not None and np.array_equal(d(dl.tensor(x)).numpy(), x)


def test_filters(rng):
    x = rng.uniform(size=(2, 3, 9, 10))
    np.testing.assert_allclose(dl.vision.mean_filter(dl.tensor(x), 3).numpy(),
                               ref.window_view(x, 3, "reflect").mean((-2, -1)), rtol=1e-12)
    np.testing.assert_allclose(dl.vision.median_filter(dl.tensor(x), 5).numpy(),
                               np.median(ref.window_view(x, 5, "reflect"), (-2, -1)), rtol=1e-12)
    const = dl.full((1, 1, 8, 8), 3.0, dtype=dl.float64)
    np.testing.assert_allclose(dl.vision.gaussian_blur(const, 1.5).numpy(), 3.0, rtol=1e-12)
    blur = dl.vision.gaussian_blur(dl.tensor(x), 1.0).numpy()
    assert blur.std() < x.std()  # smoothing lowers the variance
    edge = np.zeros((1, 1, 6, 6))
    edge[..., 3:] = 1.0
    mag = dl.vision.sobel(dl.tensor(edge)).numpy()[0, 0]
    np.testing.assert_allclose(mag[:, 2:4], 4.0)  # |[-1 0 1; -2 0 2; -1 0 1] . step| = 4 beside the edge
    np.testing.assert_allclose(mag[:, [0, 5]], 0.0)
    assert dl.autograd.gradcheck(lambda t: dl.vision.gaussian_blur(t, 0.8), [dl.tensor(x[:1, :1], requires_grad=True)])
    with pytest.raises(ValueError, match="odd"):
        dl.vision.mean_filter(dl.tensor(x), 4)


@pytest.mark.parametrize("build,shape,out,params", [
    (lambda: models.LeNet5(), (2, 1, 28, 28), (2, 10), 61706),
    (lambda: models.resnet18(), (1, 3, 64, 64), (1, 1000), 11689512),
    (lambda: models.resnet_cifar(depth=20), (2, 3, 32, 32), (2, 10), 272474),
    (lambda: models.ResNet(models.Bottleneck, [1, 1, 1, 1], 5, widths=(8, 16, 32, 64)), (2, 3, 64, 64), (2, 5), None),
    (lambda: models.VGG("small"), (2, 3, 32, 32), (2, 10), None),
    (lambda: models.UNet(1, 2, base=8, depth=2), (2, 1, 16, 24), (2, 2, 16, 24), None),
    (lambda: models.UNet(3, 1, base=4, depth=2, up="upsample"), (1, 3, 8, 8), (1, 1, 8, 8), None),
], ids=["lenet5", "resnet18", "resnet20", "bottleneck", "vgg", "unet", "unet-upsample"])
def test_models(build, shape, out, params):
    dl.manual_seed(0)
    model = build()
    x = dl.randn(*shape)
    y = model(x)
    assert y.shape == out
    if params is not None:  # the published parameter counts
        assert sum(p.numel() for p in model.parameters()) == params
    y.square().mean().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    assert all(math.isfinite(p.grad.abs().sum().item()) for p in model.parameters())


def test_unet_rejects_sides_not_divisible():
    with pytest.raises(ValueError, match="divisible by 8"):
        models.UNet(depth=3)(dl.ones(1, 1, 20, 16))


@pytest.mark.parametrize("name,dims,mode", [
    ("ZeroPad1d", 1, "constant"), ("ZeroPad3d", 3, "constant"), ("ConstantPad1d", 1, "constant"),
    ("ConstantPad2d", 2, "constant"), ("ConstantPad3d", 3, "constant"), ("ReflectionPad1d", 1, "reflect"),
    ("ReflectionPad2d", 2, "reflect"), ("ReflectionPad3d", 3, "reflect"), ("ReplicationPad1d", 1, "edge"),
    ("ReplicationPad2d", 2, "edge"), ("ReplicationPad3d", 3, "edge"), ("CircularPad1d", 1, "wrap"),
    ("CircularPad2d", 2, "wrap"), ("CircularPad3d", 3, "wrap")])
def test_padding_layers_match_numpy_pad(name, dims, mode):
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 5, 6)[:2 + dims])
    pads = (2, 1, 0, 3, 1, 2)[:2 * dims]
    layer = getattr(nn, name)
    m = layer(pads, 1.5) if name.startswith("Constant") else layer(pads)
    # NumPy's pad_width runs from the first dim; F.pad's from the last.
    width = [(0, 0)] * 2 + [(pads[2 * k], pads[2 * k + 1]) for k in range(dims)][::-1]
    kw = {"constant_values": 1.5 if name.startswith("Constant") else 0.0} if mode == "constant" else {}
    np.testing.assert_array_equal(m(dl.tensor(x)).numpy(), np.pad(x, width, mode=mode, **kw))
    assert layer(1)(dl.tensor(x)).shape == tuple(n + 2 if i >= 2 else n for i, n in enumerate(x.shape))
    with pytest.raises(ValueError, match=f"{name}: padding must be an int or {2 * dims} ints"):
        layer((1,) * (2 * dims + 1))
