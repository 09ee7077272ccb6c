"""nn/more_layers.py against NumPy: power-average pooling, unpooling in 1-D and 3-D, feature
alpha dropout, the multilabel margin and triplet-with-distance losses, the in-place
activations of nn.functional, the *_with_indices and upsample names, SyncBatchNorm and
DataParallel; gradients by float64 finite differences; the errors."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.autograd import gradcheck
from dlcore.nn import functional as F
from reference import conv as ref


def t(a, grad=False, dtype=np.float64):
    return dl.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def check(got, want, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=rtol, atol=atol)


def lp_reference(x, p, k, s, ceil):
    """Per window: the mean of x^p over the window's elements inside the input, times the
    kernel's size, to the power 1/p (PyTorch's arithmetic; the sum for whole windows)."""
    n = x.ndim - 2
    out = [ref._pool_out(x.shape[2 + i], k[i], s[i], 0, 1, ceil) for i in range(n)]
    y = np.zeros(x.shape[:2] + tuple(out))
    for pos in np.ndindex(*out):
        win = tuple(slice(pos[i] * s[i], min(pos[i] * s[i] + k[i], x.shape[2 + i])) for i in range(n))
        vals = x[(slice(None), slice(None)) + win] ** p
        y[(slice(None), slice(None)) + pos] = (vals.mean(tuple(range(2, 2 + n))) * math.prod(k)) ** (1 / p)
    return y


@pytest.mark.parametrize("ceil", [False, True])
def test_lp_pool(rng, ceil):
    x = np.abs(rng.normal(size=(2, 3, 7, 6, 5))) + 0.1
    check(F.lp_pool1d(t(x[..., 0, 0]), 3, 2, ceil_mode=ceil), lp_reference(x[..., 0, 0], 3, (2,), (2,), ceil))
    check(nn.LPPool2d(2, (3, 2), (2, 1), ceil_mode=ceil)(t(x[..., 0])),
          lp_reference(x[..., 0], 2, (3, 2), (2, 1), ceil))
    check(F.lp_pool3d(t(x), 1.5, 2, ceil_mode=ceil), lp_reference(x, 1.5, (2, 2, 2), (2, 2, 2), ceil))
    check(F.lp_pool2d(t(x[..., 0]), math.inf, 2), ref.max_pool2d(x[..., 0], (2, 2), (2, 2))[0])
    assert gradcheck(lambda a: F.lp_pool2d(a, 2, 2), (t(x[:1, :1, :4, :4, 0], True),))


def test_max_unpool_1d_and_3d(rng):
    x = rng.normal(size=(2, 3, 6, 4, 4))
    y, idx = F.max_pool3d(t(x), 2, return_indices=True)
    out = nn.MaxUnpool3d(2)(y, idx)
    want = np.zeros(x.size).reshape(2, 3, -1)
    np.put_along_axis(want, idx.numpy().reshape(2, 3, -1), y.numpy().reshape(2, 3, -1), 2)
    check(out, want.reshape(x.shape))
    s = rng.normal(size=(2, 3, 9))
    y1, idx1 = F.max_pool1d_with_indices(t(s), 3, 2)
    got = F.max_unpool1d(y1, idx1, 3, 2, output_size=(9,))
    want = np.zeros((2, 3, 9))
    np.put_along_axis(want, idx1.numpy(), y1.numpy(), 2)
    check(got, want)
    assert gradcheck(lambda v: nn.MaxUnpool1d(3, 2)(v, idx1), (t(y1.numpy(), True),))
    with pytest.raises(IndexError, match=r"max_unpool1d: index \d+ is out of range for an output of size \(4,\)"):
        F.max_unpool1d(y1, idx1, 3, 2, output_size=(4,))
    with pytest.raises(ValueError, match="max_unpool3d: indices of shape"):
        F.max_unpool3d(y, idx[:, :1], 2)


def test_unpooling_overlapping_windows_writes_each_maximum_once():
    # Windows of 2 at stride 1 over [1, 5, 2] both pick the 5: it goes back once, not twice.
    x = t([[[[1.0, 5.0, 2.0]]]])
    vals, idx = F.max_pool2d(x, (1, 2), (1, 1), return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), [[[[1, 1]]]])
    check(F.max_unpool2d(vals, idx, (1, 2), (1, 1), output_size=(1, 3)), [[[[0.0, 5.0, 0.0]]]])
    v1, i1 = F.max_pool1d(x[0], 2, 1, return_indices=True)
    check(F.max_unpool1d(v1, i1, 2, 1), [[[0.0, 5.0, 0.0]]])


def test_feature_alpha_dropout(rng):
    dl.manual_seed(3)
    x = t(rng.normal(size=(400, 8, 5)))
    y = F.feature_alpha_dropout(x, 0.25, training=True).numpy()
    sat = -1.0507009873554805 * 1.6732632423543772
    a = ((1 - 0.25) * (1 + 0.25 * sat * sat)) ** -0.5
    kept = np.isclose(y, x.numpy() * a + (-a * sat * 0.25))
    dropped = np.isclose(y, sat * a + (-a * sat * 0.25))
    assert (kept | dropped).all()
    per_channel = kept.all(2) | dropped.all(2)  # whole channels at once
    assert per_channel.all()
    assert abs(dropped[:, :, 0].mean() - 0.25) < 0.03
    check(nn.FeatureAlphaDropout(0.25).eval()(x), x.numpy())
    with pytest.raises(ValueError, match="feature_alpha_dropout: probability has to be between 0 and 1, got 1.5"):
        F.feature_alpha_dropout(x, 1.5, True)


def test_multilabel_margin_loss(rng):
    x = rng.normal(size=(3, 5))
    y = np.array([[3, 0, -1, 1, 2], [2, 2, -1, 0, 0], [-1, 1, 2, 3, 4]])
    want = []
    for xi, yi in zip(x, y):
        listed = []
        for v in yi:
            if v < 0:
                break
            listed.append(v)
        total = sum(max(0.0, 1 - (xi[j] - xi[i])) for j in listed for i in range(5) if i not in listed)
        want.append(total / 5)
    check(F.multilabel_margin_loss(t(x), dl.tensor(y), reduction="none"), want)
    check(nn.MultiLabelMarginLoss()(t(x), dl.tensor(y)), np.mean(want))
    check(F.multilabel_margin_loss(t(x[0]), dl.tensor(y[0]), reduction="sum"), want[0])
    assert gradcheck(lambda a: F.multilabel_margin_loss(a, dl.tensor(y)), (t(x, True),))
    with pytest.raises(IndexError, match=r"multilabel_margin_loss: target values must be -1 or classes in \[0, 5\)"):
        F.multilabel_margin_loss(t(x), dl.tensor(y + 5))


def test_triplet_margin_with_distance_loss(rng):
    a, p, n = (rng.normal(size=(4, 6)) for _ in range(3))

    def cos_dist(u, v):
        return 1 - F.cosine_similarity(u, v)

    def np_cos(u, v):
        return 1 - (u * v).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)

    want = np.maximum(np_cos(a, p) - np.minimum(np_cos(a, n), np_cos(p, n)) + 0.5, 0)
    got = F.triplet_margin_with_distance_loss(t(a), t(p), t(n), distance_function=cos_dist, margin=0.5, swap=True,
                                              reduction="none")
    check(got, want)
    default = nn.TripletMarginWithDistanceLoss()(t(a), t(p), t(n))
    d = lambda u, v: np.linalg.norm(u - v + 1e-6, axis=1)  # noqa: E731  (pairwise_distance's eps)
    check(default, np.maximum(d(a, p) - d(a, n) + 1.0, 0).mean())
    with pytest.raises(ValueError, match="triplet_margin_with_distance_loss: margin must be greater than 0, got 0"):
        F.triplet_margin_with_distance_loss(t(a), t(p), t(n), margin=0)


def test_functional_in_place_activations_and_aliases(rng):
    x = rng.normal(size=(3, 4))
    for name, args, want in [("relu_", (), np.maximum(x, 0)), ("leaky_relu_", (0.2,), np.where(x > 0, x, 0.2 * x)),
                             ("hardtanh_", (-0.5, 0.5), np.clip(x, -0.5, 0.5)),
                             ("elu_", (1.0,), np.where(x > 0, x, np.expm1(x))),
                             ("threshold_", (0.1, 9.0), np.where(x > 0.1, x, 9.0))]:
        y = t(x)
        assert getattr(F, name)(y, *args) is y
        check(y, want, rtol=1e-7)
    v = rng.normal(size=(1, 2, 4, 4))
    vals, idx = F.max_pool2d_with_indices(t(v), 2)
    want_vals, want_idx = ref.max_pool2d(v, (2, 2), (2, 2))
    check(vals, want_vals)
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    assert len(F.adaptive_max_pool3d_with_indices(t(v[:, :, None]), 1)) == 2
    check(F.upsample_bilinear(t(v), scale_factor=2),
          ref.interpolate_linear_1d(ref.interpolate_linear_1d(v, 2, 8, True), 3, 8, True))
    check(F.upsample(t(v), size=(2, 2)), v[:, :, ::2, ::2])


def test_sync_batch_norm_and_data_parallel(rng):
    model = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3), nn.Sequential(nn.BatchNorm1d(3)))
    with dl.no_grad():
        model[1].weight.fill_(1.5)
        model[1].running_mean.fill_(0.25)
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(converted[1], nn.SyncBatchNorm) and isinstance(converted[2][0], nn.SyncBatchNorm)
    check(converted[1].weight, np.full(3, 1.5))
    check(converted[1].running_mean, np.full(3, 0.25))
    x = rng.normal(size=(4, 3, 2, 3, 2))
    y = nn.SyncBatchNorm(3)(t(x, dtype=np.float32)).detach().numpy()
    mu, var = x.mean((0, 2, 3, 4), keepdims=True), x.var((0, 2, 3, 4), keepdims=True)
    np.testing.assert_allclose(y, (x - mu) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"SyncBatchNorm: expected a 2-D or 3-D or 4-D or 5-D input"):
        nn.SyncBatchNorm(3)(t(np.ones(3), dtype=np.float32))
    lin = nn.Linear(2, 3)
    dp = nn.DataParallel(lin, device_ids=[0])
    assert dp.module is lin and list(dp.state_dict()) == ["module.weight", "module.bias"]
    z = dl.randn(4, 2)
    np.testing.assert_array_equal(dp(z).detach().numpy(), lin(z).detach().numpy())
