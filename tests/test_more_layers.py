"""Channel dropouts, AlphaDropout, RReLU, Softmax2d, ChannelShuffle, the Upsampling2d
layers, LocalResponseNorm, MultiMarginLoss, EmbeddingBag, affine_grid and grid_sample
against plain NumPy references, with float64 finite-difference gradients and the errors
they raise."""
import numpy as np
import pytest

import dlcore as dl
from reference import nn as ref

nn, F = dl.nn, dl.nn.functional


def t(a, dtype=np.float64, grad=False):
    return dl.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


@pytest.mark.parametrize("layer,shape", [(nn.Dropout1d, (8, 50, 6)), (nn.Dropout3d, (4, 60, 2, 3, 2)),
                                         (nn.Dropout1d, (50, 6))])
def test_channel_dropout_zeroes_whole_channels(layer, shape):
    dl.manual_seed(0)
    x = dl.ones(*shape, dtype=dl.float64)
    p = 0.3
    out = layer(p)(x).numpy()
    spatial = 1 if layer is nn.Dropout1d else 3
    per_channel = out.reshape(*shape[:len(shape) - spatial], -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 1 / (1 - p)).all(-1))
    dropped = (per_channel == 0).all(-1).mean()
    n = per_channel.shape[0] * (per_channel.shape[1] if per_channel.ndim == 3 else 1)
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / n)
    m = layer(p).eval()
    assert m(x) is x
    with pytest.raises(ValueError, match="probability has to be between 0 and 1"):
        layer(1.5)
    with pytest.raises(ValueError, match="expected a"):
        layer(p)(dl.ones(2))


def test_alpha_dropout_keeps_mean_and_variance():
    dl.manual_seed(1)
    x = dl.randn(200000, dtype=dl.float64)
    p = 0.2
    out = nn.AlphaDropout(p)(x).numpy()
    sat = -1.0507009873554805 * 1.6732632423543772
    a = ((1 - p) * (1 + p * sat * sat)) ** -0.5
    b = -a * sat * p
    dropped = np.isclose(out, a * sat + b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out[~dropped], a * x.numpy()[~dropped] + b, rtol=1e-12)
    assert abs(dropped.mean() - p) < 5 * np.sqrt(p * (1 - p) / x.shape[0])
    assert abs(out.mean()) < 0.01 and abs(out.var() - 1) < 0.02
    assert nn.AlphaDropout(p).eval()(x) is x


def test_rrelu_slopes(rng):
    x = rng.normal(size=1000)
    np.testing.assert_allclose(nn.RReLU(0.1, 0.3).eval()(t(x)).numpy(), np.where(x >= 0, x, 0.2 * x), rtol=1e-12)
    dl.manual_seed(2)
    xt = t(x, grad=True)
    out = nn.RReLU(0.1, 0.3)(xt)
    neg = x < 0
    slope = out.detach().numpy()[neg] / x[neg]
    assert slope.min() >= 0.1 and slope.max() <= 0.3 and slope.std() > 0.03
    np.testing.assert_array_equal(out.detach().numpy()[~neg], x[~neg])
    out.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy()[neg], slope, rtol=1e-12)
    with pytest.raises(ValueError, match="expected 0 <= lower <= upper"):
        nn.RReLU(0.5, 0.1)


def test_softmax2d_and_channel_shuffle(rng):
    x = rng.normal(size=(2, 5, 3, 4))
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(nn.Softmax2d()(t(x)).numpy(), e / e.sum(1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(nn.Softmax2d()(t(x[0])).numpy(), (e / e.sum(1, keepdims=True))[0], rtol=1e-12)
    y = rng.normal(size=(2, 6, 3))
    want = y.reshape(2, 3, 2, 3).transpose(0, 2, 1, 3).reshape(2, 6, 3)
    np.testing.assert_array_equal(nn.ChannelShuffle(3)(t(y)).numpy(), want)
    assert dl.autograd.gradcheck(lambda a: F.channel_shuffle(a, 2), [t(y, grad=True)])
    with pytest.raises(ValueError, match="6 channels cannot be split into 4 groups"):
        F.channel_shuffle(t(y), 4)


def test_upsampling_2d_layers():
    x = t([[[[0.0, 1.0], [2.0, 3.0]]]])
    # align_corners=True: corners kept, the centre the mean of the four
    np.testing.assert_allclose(nn.UpsamplingBilinear2d(size=(3, 3))(x).numpy()[0, 0],
                               [[0.0, 0.5, 1.0], [1.0, 1.5, 2.0], [2.0, 2.5, 3.0]], rtol=1e-12)
    np.testing.assert_array_equal(nn.UpsamplingNearest2d(scale_factor=2)(x).numpy()[0, 0],
                                  np.repeat(np.repeat([[0.0, 1.0], [2.0, 3.0]], 2, 0), 2, 1))


def lrn_reference(x, size, alpha, beta, k):
    c = x.shape[1]
    out = np.empty_like(x)
    for i in range(c):
        lo, hi = max(0, i - size // 2), min(c, i + (size - 1) // 2 + 1)
        s = (x[:, lo:hi] ** 2).sum(1)
        out[:, i] = x[:, i] / (k + alpha / size * s) ** beta
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_local_response_norm_matches_reference(size, rng):
    x = rng.normal(size=(2, 6, 3, 2)) * 3
    np.testing.assert_allclose(nn.LocalResponseNorm(size, 0.5, 0.75, 2.0)(t(x)).numpy(),
                               lrn_reference(x, size, 0.5, 0.75, 2.0), rtol=1e-12)
    assert dl.autograd.gradcheck(lambda a: F.local_response_norm(a, size, 0.5, 0.75, 2.0), [t(x[:1, :, :1], grad=True)])


def multi_margin_reference(x, y, p, margin, w):
    n, c = x.shape
    out = np.zeros(n)
    for i in range(n):
        for j in range(c):
            if j != y[i]:
                h = max(0.0, margin - x[i, y[i]] + x[i, j]) ** p
                out[i] += h * (w[y[i]] if w is not None else 1.0)
    return out / c


@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_matches_reference(p, rng):
    x, y = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    w = rng.uniform(0.5, 2, size=4)
    for weight in (None, w):
        want = multi_margin_reference(x, y, p, 0.7, weight)
        wt = None if weight is None else t(weight)
        for reduction, red in [("none", want), ("sum", want.sum()), ("mean", want.mean())]:
            got = F.multi_margin_loss(t(x), dl.tensor(y), p, 0.7, wt, reduction)
            np.testing.assert_allclose(got.numpy(), red, rtol=1e-12)
    np.testing.assert_allclose(nn.MultiMarginLoss(p)(t(x[0]), dl.tensor(y[:1])).item(),
                               multi_margin_reference(x[:1], y[:1], p, 1.0, None)[0], rtol=1e-12)
    assert dl.autograd.gradcheck(lambda a: F.multi_margin_loss(a, dl.tensor(y), p, 0.7, t(w)), [t(x, grad=True)])
    with pytest.raises(ValueError, match="p must be 1 or 2"):
        nn.MultiMarginLoss(3)
    with pytest.raises(IndexError, match="target 4 is out of range for 4 classes"):
        F.multi_margin_loss(t(x), dl.tensor([0, 1, 2, 3, 4]))


def bag_reference(weight, idx, starts, lengths, mode, psw=None, padding_idx=None):
    out = np.zeros((len(starts), weight.shape[1]))
    for b, (s, n) in enumerate(zip(starts, lengths)):
        ids = [(i, e) for i, e in enumerate(idx[s:s + n], s) if e != padding_idx]
        if not ids:
            continue
        rows = np.array([weight[e] * (psw[i] if psw is not None else 1.0) for i, e in ids])
        out[b] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0)}[mode]
    return out


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_reference(mode, rng):
    weight = rng.normal(size=(10, 3))
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9, 0])
    offsets = [0, 4, 4, 7]  # the second bag is empty
    starts, lengths = np.array(offsets), np.diff(offsets + [len(idx)])
    got = F.embedding_bag(dl.tensor(idx), t(weight), dl.tensor(offsets), mode=mode)
    np.testing.assert_allclose(got.numpy(), bag_reference(weight, idx, starts, lengths, mode), rtol=1e-12)
    last = F.embedding_bag(dl.tensor(idx), t(weight), dl.tensor(offsets + [9]), mode=mode, include_last_offset=True)
    np.testing.assert_allclose(last.numpy(), got.numpy(), rtol=1e-12)
    two_d = idx[:8].reshape(2, 4)
    np.testing.assert_allclose(F.embedding_bag(dl.tensor(two_d), t(weight), mode=mode).numpy(),
                               bag_reference(weight, idx[:8], [0, 4], [4, 4], mode), rtol=1e-12)
    np.testing.assert_allclose(F.embedding_bag(dl.tensor(idx), t(weight), dl.tensor(offsets), mode=mode,
                                               padding_idx=4).numpy(),
                               bag_reference(weight, idx, starts, lengths, mode, padding_idx=4), rtol=1e-12)
    assert dl.autograd.gradcheck(lambda w: F.embedding_bag(dl.tensor(idx), w, dl.tensor(offsets), mode=mode),
                                 [t(weight, grad=True)])


def test_embedding_bag_per_sample_weights_and_layer(rng):
    weight = rng.normal(size=(6, 2))
    idx, offsets, psw = np.array([0, 5, 5, 1]), [0, 1], rng.normal(size=4)
    got = F.embedding_bag(dl.tensor(idx), t(weight), dl.tensor(offsets), mode="sum", per_sample_weights=t(psw))
    np.testing.assert_allclose(got.numpy(), bag_reference(weight, idx, [0, 1], [1, 3], "sum", psw), rtol=1e-12)
    assert dl.autograd.gradcheck(
        lambda w, s: F.embedding_bag(dl.tensor(idx), w, dl.tensor(offsets), mode="sum", per_sample_weights=s),
        [t(weight, grad=True), t(psw, grad=True)])
    layer = nn.EmbeddingBag(6, 2, mode="max", padding_idx=5)
    assert np.all(layer.weight.detach().numpy()[5] == 0)
    out = layer(dl.tensor(idx), dl.tensor(offsets))
    out.sum().backward()
    assert np.all(layer.weight.grad.numpy()[5] == 0)
    with pytest.raises(ValueError, match="per_sample_weights is only supported with mode='sum'"):
        F.embedding_bag(dl.tensor(idx), t(weight), dl.tensor(offsets), mode="mean", per_sample_weights=t(psw))
    with pytest.raises(ValueError, match="offsets must start at 0"):
        F.embedding_bag(dl.tensor(idx), t(weight), dl.tensor([1, 2]))
    with pytest.raises(IndexError, match="index 6 is out of range for 6 embeddings"):
        F.embedding_bag(dl.tensor([6]), t(weight), dl.tensor([0]))
    with pytest.raises(ValueError, match="mode must be one of"):
        nn.EmbeddingBag(3, 2, mode="median")


def unfold_reference(x, k, d, p, s):
    """im2col written out: column (oh, ow), row c kh kw + i kw + j = padded x[c, oh s + i d, ow s + j d]."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c * k[0] * k[1], oh * ow))
    for ci in range(c):
        for i in range(k[0]):
            for j in range(k[1]):
                for a in range(oh):
                    for b in range(ow):
                        row, col = a * s[0] + i * d[0], b * s[1] + j * d[1]
                        out[:, (ci * k[0] + i) * k[1] + j, a * ow + b] = xp[:, ci, row, col]
    return out


@pytest.mark.parametrize("k,d,p,s", [((2, 2), (1, 1), (0, 0), (1, 1)), ((3, 2), (2, 1), (1, 2), (2, 1)),
                                     ((1, 3), (1, 2), (0, 1), (3, 2))])
def test_unfold_and_fold_match_im2col_and_its_adjoint(k, d, p, s, rng):
    x = rng.normal(size=(2, 3, 7, 6))
    cols = unfold_reference(x, k, d, p, s)
    np.testing.assert_allclose(nn.Unfold(k, d, p, s)(t(x)).numpy(), cols, rtol=1e-12)
    np.testing.assert_allclose(F.unfold(t(x[0]), k, d, p, s).numpy(), cols[0], rtol=1e-12)
    # fold is unfold's adjoint: <unfold(x), y> = <x, fold(y)> for every y
    y = rng.normal(size=cols.shape)
    back = nn.Fold((7, 6), k, d, p, s)(t(y)).numpy()
    assert back.shape == x.shape
    np.testing.assert_allclose((cols * y).sum(), (x * back).sum(), rtol=1e-12)
    assert dl.autograd.gradcheck(lambda a: F.unfold(a, k, d, p, s), [t(x[:1, :2], grad=True)])
    assert dl.autograd.gradcheck(lambda a: F.fold(a, (7, 6), k, d, p, s), [t(y[:1], grad=True)])


def test_fold_unfold_errors():
    with pytest.raises(ValueError, match="fold: input has 5 blocks but output_size"):
        F.fold(dl.ones(1, 4, 5), (3, 3), 2)
    with pytest.raises(ValueError, match="unfold: a 5x5 kernel .* does not fit a 3x3 image"):
        F.unfold(dl.ones(1, 1, 3, 3), 5)
    with pytest.raises(ValueError, match="unfold: kernel_size must be an int or a tuple of 2 ints"):
        F.unfold(dl.ones(1, 1, 3, 3), (1, 2, 3))
    with pytest.raises(ValueError, match="fold: input has 5 rows, not a multiple of the kernel's 4 taps"):
        F.fold(dl.ones(1, 5, 4), (3, 3), 2)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_against_reference(mode, padding_mode, align_corners, rng):
    x = rng.normal(size=(2, 3, 4, 5))
    grid = rng.uniform(-1.6, 1.6, size=(2, 3, 6, 2))  # points inside and outside the image
    got = F.grid_sample(dl.tensor(x), dl.tensor(grid), mode=mode, padding_mode=padding_mode,
                        align_corners=align_corners)
    want = ref.grid_sample(x, grid, mode, padding_mode, align_corners)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    if mode == "bilinear":
        assert dl.autograd.gradcheck(
            lambda a, g: F.grid_sample(a, g, padding_mode=padding_mode, align_corners=align_corners),
            (dl.tensor(x, requires_grad=True), dl.tensor(grid, requires_grad=True)))


def test_affine_grid_against_reference(rng):
    theta = rng.normal(size=(2, 2, 3))
    for align_corners in (False, True):
        g = F.affine_grid(dl.tensor(theta), (2, 3, 4, 5), align_corners=align_corners).numpy()
        xs = np.linspace(-1, 1, 5) if align_corners else (np.arange(5) * 2 + 1) / 5 - 1
        ys = np.linspace(-1, 1, 4) if align_corners else (np.arange(4) * 2 + 1) / 4 - 1
        for n in range(2):
            for i in range(4):
                for j in range(5):
                    np.testing.assert_allclose(g[n, i, j], theta[n] @ [xs[j], ys[i], 1.0], rtol=1e-12, atol=1e-15)
    # the identity transform samples the image back, and theta gets gradients
    x = rng.normal(size=(1, 2, 3, 4))
    eye = dl.tensor(np.array([[[1.0, 0, 0], [0, 1, 0]]]), requires_grad=True)
    out = F.grid_sample(dl.tensor(x), F.affine_grid(eye, (1, 2, 3, 4), align_corners=True), align_corners=True)
    np.testing.assert_allclose(out.detach().numpy(), x, atol=1e-12)
    assert dl.autograd.gradcheck(lambda t: F.grid_sample(dl.tensor(x), F.affine_grid(t, (1, 2, 3, 4))),
                                 (dl.tensor(theta[:1] * 0.5, requires_grad=True),))


def test_grid_sample_errors():
    x, g = dl.zeros(1, 1, 2, 2), dl.zeros(1, 2, 2, 2)
    with pytest.raises(ValueError, match="grid_sample: mode must be 'bilinear' or 'nearest', got 'bicubic'"):
        F.grid_sample(x, g, mode="bicubic")
    with pytest.raises(ValueError, match="grid_sample: padding_mode must be 'zeros', 'border' or 'reflection'"):
        F.grid_sample(x, g, padding_mode="wrap")
    with pytest.raises(ValueError, match=r"grid_sample: expected input \(N, C, H, W\) and grid \(N, Ho, Wo, 2\), "
                                         r"got \(1, 1, 2, 2\) and \(1, 2, 2, 3\)"):
        F.grid_sample(x, dl.zeros(1, 2, 2, 3))
    with pytest.raises(TypeError, match="grid_sample: input and grid must be floating tensors of one dtype"):
        F.grid_sample(x, g.double())
    with pytest.raises(ValueError, match=r"affine_grid: theta must have shape \(1, 2, 3\) for size \(1, 1, 2, 2\)"):
        F.affine_grid(dl.zeros(1, 3, 3), (1, 1, 2, 2))
    with pytest.raises(ValueError, match="affine_grid: only 4-D sizes"):
        F.affine_grid(dl.zeros(1, 2, 3), (1, 1, 2, 2, 2))
