"""Layers, activation modules, losses and initialisers against the NumPy references in
tests/reference/nn.py, with float64 gradient checks and bad-input errors. (The functional
activations, linear and cross_entropy also have rows in op_specs.py.)"""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.nn import functional as F
from reference import nn as ref


def t64(a, grad=True):
    return dl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def test_linear_layer_forward_backward_and_init():
    dl.manual_seed(0)
    lin = nn.Linear(5, 3).double()
    bound = 1 / math.sqrt(5)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert np.all(np.abs(w) <= bound) and np.all(np.abs(b) <= bound) and w.std() > bound / 3
    x = np.random.default_rng(0).normal(size=(2, 4, 5))
    np.testing.assert_allclose(lin(dl.tensor(x)).detach().numpy(), ref.linear(x, w, b), rtol=1e-12)
    assert dl.autograd.gradcheck(lambda x, w, b: F.linear(x, w, b), [t64(x), t64(w), t64(b)])
    assert nn.Linear(3, 2, bias=False).bias is None
    with pytest.raises(ValueError, match=r"input of shape \(2, 4\) does not match weight of shape \(3, 5\)"):
        F.linear(dl.ones(2, 4), dl.ones(3, 5))
    with pytest.raises(TypeError, match="float32 and float64"):
        F.linear(dl.ones(2, 5), dl.ones(3, 5, dtype=dl.float64))
    with pytest.raises(ValueError, match=r"bias must have shape \(3\)"):
        F.linear(dl.ones(2, 5), dl.ones(3, 5), dl.ones(4))


def test_linear_double_backward():
    x, w = t64([[0.5, -1.0]]), t64([[2.0, 3.0]])
    y = F.linear(x, w).square().sum()
    (gx,) = dl.autograd.grad(y, [x], create_graph=True)
    gx.sum().backward()
    # y = (x.w)^2, dy/dx = 2 (x.w) w, d/dw of sum(dy/dx) = 2 x sum(w) + 2 (x.w)
    xw = 0.5 * 2 - 3.0
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.array([[0.5, -1.0]]) * 5.0 + 2 * xw, rtol=1e-12)


@pytest.mark.parametrize("out_f,in_f", [(3, 7), (7, 3)])
def test_linear_weight_gradient_in_either_orientation(out_f, in_f, rng):
    """With fewer outputs than inputs the weight gradient is computed as (x^T g)^T: the same
    values as g^T x (float32, to the bit), a contiguous (out, in) tensor, and second
    derivatives still right (float64 gradgradcheck)."""
    x = rng.standard_normal((4, 33, in_f)).astype(np.float32)
    g = rng.standard_normal((4, 33, out_f)).astype(np.float32)
    lin = nn.Linear(in_f, out_f)
    lin(dl.tensor(x)).backward(dl.tensor(g))
    gw = lin.weight.grad
    assert gw.shape == (out_f, in_f) and gw.is_contiguous()
    np.testing.assert_allclose(gw.numpy(), g.reshape(-1, out_f).T.astype(np.float64) @ x.reshape(-1, in_f),
                               rtol=1e-5, atol=1e-5)
    direct = dl.matmul(dl.tensor(g.reshape(-1, out_f)).transpose(0, 1), dl.tensor(x.reshape(-1, in_f)))
    np.testing.assert_array_equal(gw.numpy(), direct.numpy())
    xs = t64(x[:1, :3].astype(np.float64))
    ws, bs = t64(rng.standard_normal((out_f, in_f))), t64(rng.standard_normal(out_f))
    assert dl.autograd.gradgradcheck(lambda x, w, b: F.linear(x, w, b), (xs, ws, bs))


def test_maxout():
    dl.manual_seed(1)
    m = nn.Maxout(4, 3, pieces=2).double()
    assert m.weight.shape == (6, 4)
    x = np.random.default_rng(1).normal(size=(5, 4))
    np.testing.assert_allclose(m(dl.tensor(x)).detach().numpy(),
                               ref.maxout(x, m.weight.detach().numpy(), m.bias.detach().numpy(), 2), rtol=1e-12)
    assert dl.autograd.gradcheck(lambda x: m(x), [t64(x)])


ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.1), lambda x: ref.leaky_relu(x, 0.1)),
    (nn.ELU(0.5), lambda x: ref.elu(x, 0.5)),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Softplus(2.0, 3.0), lambda x: ref.softplus(x, 2.0, 3.0)),
    (nn.GELU(), ref.gelu),
    (nn.GELU("tanh"), ref.gelu_tanh),
    (nn.SiLU(), ref.silu),
    (nn.Hardtanh(-2.0, 0.5), lambda x: ref.hardtanh(x, -2.0, 0.5)),
    (nn.ReLU6(), lambda x: np.clip(x, 0, 6)),
    (nn.Hardsigmoid(), ref.hardsigmoid),
    (nn.PiecewiseLinear(), ref.piecewise_linear),
    (nn.Step(), ref.heaviside_step),
    (nn.Sign(), np.sign),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.LogSoftmax(dim=-1), lambda x: ref.log_softmax(x, -1)),
    (nn.LogSigmoid(), lambda x: -np.log1p(np.exp(-x))),
    (nn.Softsign(), lambda x: x / (1 + np.abs(x))),
    (nn.Tanhshrink(), lambda x: x - np.tanh(x)),
    (nn.Hardswish(), lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
    (nn.Mish(), lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    (nn.SELU(), lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
    (nn.CELU(0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x / 0.7))),
    (nn.Softmin(dim=1), lambda x: np.exp(-x) / np.exp(-x).sum(1, keepdims=True)),
    (nn.GLU(dim=0), lambda x: x[:2] / (1 + np.exp(-x[2:]))),
]


@pytest.mark.parametrize("module,reffn", ACTIVATIONS, ids=[repr(m) for m, _ in ACTIVATIONS])
def test_activation_modules(module, reffn):
    x = np.random.default_rng(2).uniform(-7, 7, size=(4, 9))
    x[0, :3] = [0.0, -0.5, 0.5]
    np.testing.assert_allclose(module(dl.tensor(x)).numpy(), reffn(x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("fn", [F.logsigmoid, F.softsign, F.tanhshrink, F.hardswish, F.mish, F.selu,
                                lambda x: F.celu(x, 0.5), lambda x: F.softmin(x, 1), lambda x: F.glu(x, 1),
                                lambda x: F.normalize(x, 3.0, 1), lambda x: F.cosine_similarity(x, x * x + 1, 1),
                                lambda x: F.pairwise_distance(x, x.flip(0))], ids=lambda f: getattr(f, "__name__", ""))
def test_composed_activations_and_similarities_have_gradients(fn):
    x = np.random.default_rng(3).uniform(-3, 3, size=(3, 4))
    x[0, 0] = 0.25  # away from hardswish's kinks at -3 and 3
    assert dl.autograd.gradcheck(fn, [t64(x)])


def test_softmax_takes_a_dtype():
    x = dl.tensor([[1.0, 2.0, 3.0]])
    y = F.softmax(x, -1, dtype=dl.float64)
    assert y.dtype == dl.float64
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(y.numpy()[0], e / e.sum(), rtol=1e-7)
    assert F.log_softmax(x, dim=1, dtype=dl.float64).dtype == dl.float64


def test_normalize_cosine_similarity_pairwise_distance_match_numpy():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((3, 5)), rng.standard_normal((1, 5))
    na, nb = np.linalg.norm(a, axis=1, keepdims=True), np.linalg.norm(b, axis=1, keepdims=True)
    np.testing.assert_allclose(F.normalize(dl.tensor(a)).numpy(), a / na, rtol=1e-12)
    np.testing.assert_allclose(F.normalize(dl.tensor(a), 1.0, 0).numpy(), a / np.abs(a).sum(0), rtol=1e-12)
    want = (a * b).sum(1) / (na[:, 0] * nb[:, 0])
    np.testing.assert_allclose(F.cosine_similarity(dl.tensor(a), dl.tensor(b)).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(nn.CosineSimilarity()(dl.tensor(a), dl.tensor(b)).numpy(), want, rtol=1e-12)
    assert F.cosine_similarity(dl.zeros(2, 3), dl.ones(2, 3)).numpy().tolist() == [0.0, 0.0]
    c = rng.standard_normal((3, 5))
    np.testing.assert_allclose(F.pairwise_distance(dl.tensor(a), dl.tensor(c)).numpy(),
                               np.linalg.norm(a - c + 1e-6, axis=1), rtol=1e-12)
    np.testing.assert_allclose(nn.PairwiseDistance(p=1.0, keepdim=True)(dl.tensor(a), dl.tensor(c)).numpy(),
                               np.abs(a - c + 1e-6).sum(1, keepdims=True), rtol=1e-12)
    with pytest.raises(ValueError, match=r"glu: dim 1 of a tensor of shape \(3, 5\) must have an even size"):
        F.glu(dl.tensor(a), 1)


def test_step_and_sign_have_zero_gradient_and_nan_propagates():
    x = t64([-1.0, 0.0, 2.0])
    (F.heaviside_step(x) + F.sign(x)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)
    nan = dl.tensor([float("nan")])
    for f in (F.leaky_relu, F.elu, F.gelu, F.silu, F.hardtanh, F.piecewise_linear, F.heaviside_step, F.softplus):
        assert math.isnan(f(nan).item()), f


def test_activation_double_backward_is_an_error():
    x = t64([0.3, -0.2])
    (g,) = dl.autograd.grad(F.silu(x).sum(), [x], create_graph=False)
    s = 1 / (1 + np.exp(-np.array([0.3, -0.2])))
    np.testing.assert_allclose(g.numpy(), s * (1 + np.array([0.3, -0.2]) * (1 - s)), rtol=1e-12)
    with pytest.raises(RuntimeError, match="silu: the gradient of its backward is not implemented"):
        dl.autograd.grad(F.silu(x).sum(), [x], create_graph=True)[0].sum().backward()
    with pytest.raises(TypeError, match="gelu: expected a float32 or float64 tensor, got int64"):
        F.gelu(dl.tensor([1, 2]))
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(x, approximate="fast")


def test_dropout_is_reproducible_scaled_and_off_in_eval():
    d = nn.Dropout(0.25)
    x = dl.ones(20000)
    dl.manual_seed(5)
    a = d(x).numpy()
    dl.manual_seed(5)
    b = d(x).numpy()
    np.testing.assert_array_equal(a, b)
    kept = a != 0
    assert set(np.unique(a)) == {0.0, np.float32(1 / 0.75)}
    assert abs(kept.mean() - 0.75) < 0.02
    xg = dl.ones(10, requires_grad=True)
    dl.manual_seed(6)
    out = d(xg)
    out.sum().backward()
    np.testing.assert_array_equal(xg.grad.numpy(), out.detach().numpy())
    d.eval()
    assert d(x) is x
    assert np.all(F.dropout(x, 1.0).numpy() == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_mask_is_the_same_on_any_thread_count_and_twice_differentiable(threads):
    x = dl.ones(100000, dtype=dl.float64, requires_grad=True)
    outs = []
    for n in (1, 2, 3):
        dl.set_num_threads(n)
        dl.manual_seed(9)
        outs.append(F.dropout(x, 0.4).detach().numpy().copy())
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])
    dl.manual_seed(9)
    y = F.dropout(x, 0.4)
    (g,) = dl.autograd.grad((y * y).sum(), [x], create_graph=True)  # 2 x mask^2 / (1 - p)^2
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (outs[0] / 1.0) ** 2, rtol=1e-12)


def test_embedding_lookup_gradient_and_padding():
    dl.manual_seed(0)
    emb = nn.Embedding(6, 3, padding_idx=2)
    w = emb.weight.detach().numpy().copy()
    assert np.all(w[2] == 0)
    idx = np.array([[1, 2, 1], [5, 0, 2]])
    out = emb(dl.tensor(idx))
    np.testing.assert_array_equal(out.detach().numpy(), w[idx])
    out.sum().backward()
    counts = np.bincount(idx.ravel(), minlength=6).astype(np.float32)
    counts[2] = 0  # the padding row gets no gradient
    np.testing.assert_array_equal(emb.weight.grad.numpy(), np.repeat(counts[:, None], 3, 1))
    with pytest.raises(IndexError):
        emb(dl.tensor([6]))
    with pytest.raises(IndexError, match=r"index -1 is out of range for 6 embeddings"):
        emb(dl.tensor([[0, 3], [-1, 2]]))  # not the last row, as index_select would take
    assert emb(dl.tensor(np.zeros((0, 2), np.int64))).shape == (0, 2, 3)
    with pytest.raises(TypeError, match="int64"):
        emb(dl.tensor([1.0]))
    with pytest.raises(IndexError, match="padding_idx 7"):
        nn.Embedding(3, 2, padding_idx=7)


# ---- losses
def loss_inputs(rng, shape=(4, 5)):
    return rng.normal(size=shape), rng.normal(size=shape)


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse", "l1", "huber"])
def test_regression_losses(name, reduction, rng):
    x, y = loss_inputs(rng)
    layer = {"mse": nn.MSELoss, "l1": nn.L1Loss, "huber": lambda r: nn.HuberLoss(r, delta=0.7)}[name](reduction)
    want = {"mse": ref.mse_loss, "l1": ref.l1_loss,
            "huber": lambda a, b, r: ref.huber_loss(a, b, r, 0.7)}[name](x, y, reduction)
    np.testing.assert_allclose(layer(dl.tensor(x), dl.tensor(y)).numpy(), want, rtol=1e-12)
    assert dl.autograd.gradcheck(lambda a: layer(a, dl.tensor(y)), [t64(x)])
    np.testing.assert_allclose(layer(dl.tensor(x).float(), dl.tensor(y).float()).numpy(), want, rtol=1e-5)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_probabilities(reduction, rng):
    x = rng.normal(size=(4, 5))
    p = rng.uniform(size=(4, 5))
    p /= p.sum(1, keepdims=True)
    w = np.linspace(0.5, 1.5, 5)
    loss = nn.CrossEntropyLoss(weight=dl.tensor(w), reduction=reduction, label_smoothing=0.1)
    np.testing.assert_allclose(loss(dl.tensor(x), dl.tensor(p)).numpy(),
                               ref.cross_entropy_probs(x, p, w, 0.1, reduction), rtol=1e-12)
    assert dl.autograd.gradcheck(lambda a: loss(a, dl.tensor(p)), [t64(x)])


def test_cross_entropy_against_reference_float32_and_errors(rng):
    x = rng.normal(size=(64, 10)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    got = F.cross_entropy(dl.tensor(x), dl.tensor(y)).item()
    assert math.isclose(got, ref.cross_entropy(x.astype(np.float64), y), rel_tol=1e-6)
    with pytest.raises(IndexError, match="target 10 is out of bounds for 10 classes"):
        F.cross_entropy(dl.tensor(x), dl.tensor(np.full(64, 10)))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        F.cross_entropy(dl.tensor(x), dl.tensor(np.full(64, -1)))
    with pytest.raises(ValueError, match=r"target of shape \(3,\) does not match logits of shape \(64, 10\)"):
        F.cross_entropy(dl.tensor(x), dl.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"weight must have shape \(10\)"):
        F.cross_entropy(dl.tensor(x), dl.tensor(y), weight=dl.ones(3))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(dl.tensor(x), dl.tensor(y), label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(dl.tensor(x), dl.tensor(y), reduction="avg")
    assert math.isnan(F.cross_entropy(dl.tensor(x[:2]), dl.tensor([-100, -100])).item())


def test_cross_entropy_many_classes_on_every_isa(isa, rng):
    """1003 adjacent classes (each ISA's vector exp, max and their tails), weights and label
    smoothing; the gradient against softmax minus one-hot; a NaN logit spoils only its row."""
    n, c = 7, 1003
    x = rng.normal(scale=3.0, size=(n, c)).astype(np.float32)
    y = rng.integers(0, c, n)
    w = np.linspace(0.5, 2.0, c).astype(np.float32)
    got = F.cross_entropy(dl.tensor(x), dl.tensor(y), weight=dl.tensor(w), label_smoothing=0.1, ignore_index=y[2])
    want = ref.cross_entropy(x.astype(np.float64), y, w.astype(np.float64), y[2], 0.1, "mean")
    assert math.isclose(got.item(), want, rel_tol=1e-5)
    xt = dl.tensor(x, requires_grad=True)
    F.cross_entropy(xt, dl.tensor(y)).backward()
    x64 = x.astype(np.float64)
    p = np.exp(x64 - x64.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(n), y] -= 1.0
    np.testing.assert_allclose(xt.grad.numpy(), p / n, rtol=0, atol=1e-7)
    x[3, 500] = np.nan
    xt = dl.tensor(x, requires_grad=True)
    loss = F.cross_entropy(xt, dl.tensor(y), reduction="none")
    loss.backward(dl.ones(n))
    lv = loss.detach().numpy()
    assert np.isnan(lv[3]) and not np.isnan(np.delete(lv, 3)).any()
    g = xt.grad.numpy()
    assert np.isnan(g[3]).all() and not np.isnan(np.delete(g, 3, axis=0)).any()
    # Class counts around a vector's lanes and the exp loop's two-vector step; a row with
    # +inf or only -inf logits gives NaN, as its softmax has a NaN.
    for c in (1, 2, 15, 16, 17, 33, 76):
        x = rng.normal(scale=3.0, size=(5, c)).astype(np.float32)
        y = rng.integers(0, c, 5)
        x[1, 0] = np.inf
        x[2] = -np.inf
        got = F.cross_entropy(dl.tensor(x), dl.tensor(y), reduction="none").numpy()
        assert np.isnan(got[1:3]).all()
        want = [ref.cross_entropy(x[i:i + 1].astype(np.float64), y[i:i + 1]) for i in (0, 3, 4)]
        np.testing.assert_allclose(got[[0, 3, 4]], want, rtol=1e-6, atol=1e-6, err_msg=f"{c} classes")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction, rng):
    logp = ref.log_softmax(rng.normal(size=(2, 4, 3)), 1)
    y = np.array([[0, 3, 1], [2, 2, 0]])
    w = np.array([1.0, 0.5, 2.0, 1.5])
    loss = nn.NLLLoss(weight=dl.tensor(w), ignore_index=3, reduction=reduction)
    np.testing.assert_allclose(loss(dl.tensor(logp), dl.tensor(y)).numpy(), ref.nll_loss(logp, y, w, 3, reduction),
                               rtol=1e-12)
    assert dl.autograd.gradcheck(lambda a: loss(a, dl.tensor(y)), [t64(logp)])
    with pytest.raises(IndexError, match="target 4 is out of bounds for 4 classes"):
        F.nll_loss(dl.tensor(logp), dl.tensor(np.full((2, 3), 4)))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction, rng):
    p, y = rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(size=(3, 4))
    w = rng.uniform(0.5, 2, (3, 4))
    np.testing.assert_allclose(nn.BCELoss(dl.tensor(w), reduction)(dl.tensor(p), dl.tensor(y)).numpy(),
                               ref.binary_cross_entropy(p, y, w, reduction), rtol=1e-12)
    assert dl.autograd.gradcheck(lambda a: F.binary_cross_entropy(a, dl.tensor(y), reduction=reduction), [t64(p)])
    x = rng.normal(scale=3, size=(3, 4))
    pw = np.array([1.0, 2.0, 0.5, 3.0])
    layer = nn.BCEWithLogitsLoss(weight=dl.tensor(w), reduction=reduction, pos_weight=dl.tensor(pw))
    np.testing.assert_allclose(layer(dl.tensor(x), dl.tensor(y)).numpy(),
                               ref.binary_cross_entropy_with_logits(x, y, w, reduction, pw), rtol=1e-10)
    assert dl.autograd.gradcheck(lambda a: layer(a, dl.tensor(y)), [t64(x)])


def test_binary_losses_are_stable_at_the_extremes():
    x = dl.tensor([-200.0, 200.0, 0.0])
    y = dl.tensor([1.0, 0.0, 1.0])
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, y, reduction="none").numpy(),
                               [200.0, 200.0, math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(F.binary_cross_entropy(dl.tensor([0.0, 1.0]), dl.tensor([1.0, 0.0]),
                                                      reduction="none").numpy(), [100.0, 100.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        F.binary_cross_entropy(dl.tensor([1.5]), dl.tensor([1.0]))
    with pytest.raises(ValueError, match="same shape"):
        F.mse_loss(dl.ones(2), dl.ones(3))


# ---- init
def test_calculate_gain():
    assert nn.init.calculate_gain("relu") == math.sqrt(2)
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / 1.04)
    assert nn.init.calculate_gain("linear") == 1 and nn.init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        nn.init.calculate_gain("swishy")


@pytest.mark.parametrize("name,expected_std", [
    ("xavier_uniform_", math.sqrt(2 / (300 + 200))),
    ("xavier_normal_", math.sqrt(2 / (300 + 200))),
    ("kaiming_uniform_", math.sqrt(2 / 300)),
    ("kaiming_normal_", math.sqrt(2 / 300)),
])
def test_variance_scaling_inits(name, expected_std):
    dl.manual_seed(0)
    w = dl.empty(200, 300)
    kw = {"nonlinearity": "relu"} if name.startswith("kaiming") else {}
    out = getattr(nn.init, name)(w, **kw)
    assert out is w
    a = w.numpy()
    assert abs(a.std() / expected_std - 1) < 0.02 and abs(a.mean()) < 0.01 * expected_std * 10
    if "uniform" in name:
        assert np.abs(a).max() <= expected_std * math.sqrt(3) * (1 + 1e-6)


def test_orthogonal_constant_and_uniform():
    dl.manual_seed(0)
    for shape in [(5, 3), (3, 5), (4, 2, 2)]:
        w = nn.init.orthogonal_(dl.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
        small = w @ w.T if shape[0] <= w.shape[1] else w.T @ w
        np.testing.assert_allclose(small, 4.0 * np.eye(small.shape[0]), atol=1e-5)
    assert np.all(nn.init.constant_(dl.empty(3), 0.25).numpy() == 0.25)
    assert np.all(nn.init.ones_(dl.empty(2)).numpy() == 1) and np.all(nn.init.zeros_(dl.ones(2)).numpy() == 0)
    u = nn.init.uniform_(dl.empty(10000), -2.0, 3.0).numpy()
    assert u.min() >= -2.0 and u.max() < 3.0 and abs(u.mean() - 0.5) < 0.05
    n = nn.init.normal_(dl.empty(10000, dtype=dl.float64), 1.0, 0.5).numpy()
    assert abs(n.mean() - 1.0) < 0.02 and abs(n.std() - 0.5) < 0.02
    with pytest.raises(ValueError, match="fewer than 2 dims"):
        nn.init.xavier_uniform_(dl.empty(3))
    p = nn.Parameter(dl.zeros(3, 3))
    nn.init.kaiming_uniform_(p)  # in place on a parameter that requires grad
    assert p.requires_grad and p.grad_fn is None and np.any(p.detach().numpy() != 0)


def test_eye_dirac_sparse_and_the_deprecated_names(rng):
    np.testing.assert_array_equal(nn.init.eye_(dl.empty(2, 3)).numpy(), np.eye(2, 3))
    w = nn.init.dirac_(dl.empty(6, 2, 3, 3), groups=2)  # 3 output channels per group, 2 inputs
    want = np.zeros((6, 2, 3, 3))
    for out, inp in [(0, 0), (1, 1), (3, 0), (4, 1)]:
        want[out, inp, 1, 1] = 1.0
    np.testing.assert_array_equal(w.numpy(), want)
    x = rng.normal(size=(1, 4, 5, 5)).astype(np.float32)  # a same-size convolution keeps its input
    y = F.conv2d(dl.tensor(x), nn.init.dirac_(dl.empty(4, 4, 3, 3)), padding=1)
    np.testing.assert_array_equal(y.numpy(), x)
    assert nn.init.dirac_(dl.empty(2, 3, 4)).numpy()[1, 1, 2] == 1  # even kernel: index k // 2
    dl.manual_seed(0)
    s = nn.init.sparse_(dl.empty(200, 50), sparsity=0.3, std=0.5).numpy()
    assert ((s == 0).sum(0) == 60).all()  # ceil(0.3 * 200) zeros in every column
    assert abs(s[s != 0].std() / 0.5 - 1) < 0.05
    assert not np.signbit(s[s == 0]).any()
    for bad, match in [(lambda: nn.init.eye_(dl.empty(2, 2, 2)), "only tensors with 2 dimensions"),
                       (lambda: nn.init.dirac_(dl.empty(3, 3)), "3, 4, or 5 dimensions"),
                       (lambda: nn.init.dirac_(dl.empty(3, 3, 3), groups=2), r"dim 0 \(3\) must be divisible"),
                       (lambda: nn.init.sparse_(dl.empty(3, 3), 1.5), r"sparsity must be in \[0, 1\]")]:
        with pytest.raises(ValueError, match=match):
            bad()
    with pytest.warns(FutureWarning, match="nn.init.xavier_uniform is now deprecated"):
        w = nn.init.xavier_uniform(dl.empty(3, 4))
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 7)
    with pytest.warns(FutureWarning, match="nn.init.constant is now deprecated"):
        assert (nn.init.constant(dl.empty(2), 3.0).numpy() == 3).all()


@pytest.mark.parametrize("name,deriv", [("relu", lambda x: (x > 0).astype(float)),
                                        ("sigmoid", lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
                                        ("tanh", lambda x: 1 - np.tanh(x) ** 2)])
@pytest.mark.parametrize("dtype", [dl.float32, dl.float64], ids=["f32", "f64"])
def test_relu_sigmoid_tanh_fused_backward_on_every_isa(name, deriv, dtype, isa, rng):
    """Their backward is one fused kernel from the saved output (1003 elements: vector
    loop and tail), and stays differentiable when create_graph=True."""
    x = rng.uniform(-4, 4, 1003)
    t = dl.tensor(x).to(dtype).requires_grad_()
    g = rng.uniform(-1, 1, 1003)
    getattr(dl, name)(t).backward(dl.tensor(g).to(dtype))
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == dl.float64 else dict(rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(t.grad.numpy(), g * deriv(x), err_msg=isa, **tol)


KEPT_DERIVATIVES = [("gelu", F.gelu, ref.gelu_grad),
                    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), ref.gelu_tanh_grad),
                    ("silu", F.silu, ref.silu_grad),
                    ("elu", lambda x: F.elu(x, 0.5), lambda x: ref.elu_grad(x, 0.5)),
                    ("softplus", lambda x: F.softplus(x, 2.0, 3.0), lambda x: ref.softplus_grad(x, 2.0, 3.0))]


@pytest.mark.parametrize("name,fn,deriv", KEPT_DERIVATIVES, ids=[k[0] for k in KEPT_DERIVATIVES])
@pytest.mark.parametrize("dtype", [dl.float32, dl.float64], ids=["f32", "f64"])
def test_activations_keep_their_derivative_from_the_forward(name, fn, deriv, dtype, isa, rng):
    """gelu, silu, elu and softplus write f'(x) in the forward pass that records the node and
    keep it in place of x (1003 elements: vector loop and tail): the gradient is g f'(x) of
    the input as it was, even after the input is changed in place, and a graph of the
    gradient (create_graph=True) is still refused."""
    x = rng.uniform(-4, 4, 1003)
    leaf = dl.tensor(x).to(dtype).requires_grad_()
    h = leaf * 1.0
    y = fn(h)
    with dl.no_grad():
        h.add_(100.0)  # the node does not read h again
    g = rng.uniform(-1, 1, 1003)
    y.backward(dl.tensor(g).to(dtype))
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == dl.float64 else dict(rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(leaf.grad.numpy(), g * deriv(x), err_msg=isa, **tol)
    with dl.no_grad():
        np.testing.assert_array_equal(fn(dl.tensor(x).to(dtype)).numpy(), y.detach().numpy())
    with pytest.raises(RuntimeError, match="the gradient of its backward is not implemented"):
        dl.autograd.grad(fn(leaf).sum(), [leaf], create_graph=True)


def test_gelu_relative_error_in_both_tails_on_every_isa(isa):
    """float32 GELU and its derivative from -14 to 14, against Phi written with erfc: the
    vector forms (AVX2, AVX-512) stay within 1e-6 relative error down to Phi's subnormals
    at x = -13; libm's float erfc (the generic set) within 2e-5. gelu(inf) is inf (the
    limit), gelu(-inf) is NaN (-inf times Phi = 0) and NaN stays NaN."""
    x = np.concatenate([np.linspace(-14, 14, 20011), [0.0, -0.0, 1e-30, -1e-30]]).astype(np.float32)
    t = dl.tensor(x, requires_grad=True)
    y = F.gelu(t)
    y.sum().backward()
    x64 = x.astype(np.float64)
    want_y, want_g = ref.gelu(x64), ref.gelu_grad(x64)
    # The derivative's error is relative to its two terms, which cancel near x = -0.75.
    scale_g = ref.normal_cdf(x64) + np.abs(x64) * np.exp(-0.5 * x64 * x64) / math.sqrt(2 * math.pi)
    rtol = 2e-5 if isa == "generic" else 1e-6
    tiny = np.finfo(np.float32).tiny  # below it only absolute error counts
    assert np.all(np.abs(y.detach().numpy() - want_y) <= rtol * np.maximum(np.abs(want_y), tiny)), isa
    assert np.all(np.abs(t.grad.numpy() - want_g) <= rtol * np.maximum(scale_g, tiny)), isa
    special = F.gelu(dl.tensor(np.array([np.inf, -np.inf, np.nan], np.float32))).numpy()
    assert special[0] == np.inf and np.isnan(special[1]) and np.isnan(special[2]), isa


def test_tanh_second_derivative_through_the_composite_rule():
    x = t64([0.3, -1.2])
    (g,) = dl.autograd.grad(dl.tanh(x).sum(), [x], create_graph=True)
    g.sum().backward()
    y = np.tanh([0.3, -1.2])
    np.testing.assert_allclose(x.grad.numpy(), -2 * y * (1 - y ** 2), rtol=1e-12)


# Bounds with most of the mass inside (redrawing), a slice of the upper tail and one far
# in the lower tail (inverse CDF by bisection), and the default bounds at a small std.
@pytest.mark.parametrize("mean,std,a,b", [(1.0, 2.0, -1.0, 2.0), (0.0, 1.0, 2.0, 3.0),
                                          (0.0, 1.0, -6.0, -5.0), (0.5, 0.02, -2.0, 2.0)])
def test_trunc_normal_moments_against_the_formulas(mean, std, a, b):
    n = 400_000
    x = nn.init.trunc_normal_(dl.empty(n, dtype=dl.float64), mean, std, a, b, generator=dl.Generator().manual_seed(5))
    x = x.numpy()
    assert x.min() >= a and x.max() <= b
    want_mean, want_std = ref.truncated_normal_moments(mean, std, a, b)
    # Five standard errors of the sample mean and of the sample standard deviation
    # (whose standard error is at most about std / sqrt(n) for these bounded shapes).
    assert abs(x.mean() - want_mean) < 5 * want_std / np.sqrt(n)
    assert abs(x.std() - want_std) < 5 * want_std / np.sqrt(n)


def test_trunc_normal_edge_cases_and_errors():
    t = nn.init.trunc_normal_(dl.empty(3, 4), std=0.0, a=1.0, b=2.0)
    assert np.all(t.numpy() == 1.0)  # all the mass at the mean, clamped into [a, b]
    g1, g2 = dl.Generator().manual_seed(1), dl.Generator().manual_seed(1)
    np.testing.assert_array_equal(nn.init.trunc_normal_(dl.empty(50), generator=g1).numpy(),
                                  nn.init.trunc_normal_(dl.empty(50), generator=g2).numpy())
    w = nn.Parameter(dl.zeros(2, 2))
    nn.init.trunc_normal_(w, std=0.02)
    assert w.requires_grad and w.grad_fn is None
    with pytest.raises(ValueError, match="trunc_normal_: std must be non-negative, got -1"):
        nn.init.trunc_normal_(dl.empty(2), std=-1.0)
    with pytest.raises(ValueError, match="trunc_normal_: the bounds need a < b, got a=2.0, b=2.0"):
        nn.init.trunc_normal_(dl.empty(2), a=2.0, b=2.0)
