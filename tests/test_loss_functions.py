"""Losses for distributions, embeddings and ranking (nn/loss_functions.py) and their layers
against references written element by element (tests/reference/nn.py), float64 gradchecks,
and bad arguments; plus the layers added with them (PReLU, Hardshrink, Softshrink,
Threshold, ParameterList, ParameterDict) and parameters_to_vector."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.nn import functional as F
from reference import nn as ref

REDUCTIONS = ["mean", "sum", "none"]


def t64(a, grad=True):
    return dl.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def close(got, want):
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-10, atol=1e-12)


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    return {
        "x": rng.standard_normal((4, 5)),
        "p": rng.dirichlet(np.ones(5), size=4),
        "y": np.where(rng.random(4) < 0.5, 1.0, -1.0),
        "y2": np.where(rng.random((4, 5)) < 0.5, 1.0, -1.0),
        "bits": (rng.random((4, 5)) < 0.5).astype(np.float64),
        "counts": rng.integers(0, 6, (4, 5)).astype(np.float64),
        "var": rng.uniform(0.1, 2.0, (4, 5)),
    }


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_kl_div(data, reduction):
    logq = np.log(data["p"][::-1].copy())
    p = data["p"].copy()
    p[0, 0] = 0.0  # a zero target contributes nothing
    close(F.kl_div(t64(logq), t64(p), reduction), ref.kl_div(logq, p, reduction))
    close(nn.KLDivLoss(reduction, log_target=True)(t64(logq), t64(np.log(data["p"]))),
          ref.kl_div(logq, np.log(data["p"]), reduction, log_target=True))
    assert dl.autograd.gradcheck(lambda a, b: F.kl_div(a, b, reduction), (t64(logq), t64(data["p"])))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_losses_for_gaussian_and_poisson(data, reduction):
    x, t, v = data["x"], data["x"][::-1].copy(), data["var"]
    for full in (False, True):
        close(F.gaussian_nll_loss(t64(x), t64(t), t64(v), full, 1e-6, reduction),
              ref.gaussian_nll(x, t, v, full, 1e-6, reduction))
        close(nn.PoissonNLLLoss(True, full, reduction=reduction)(t64(x), t64(data["counts"])),
              ref.poisson_nll(x, data["counts"], True, full, 1e-8, reduction))
        rate = np.exp(x)
        close(F.poisson_nll_loss(t64(rate), t64(data["counts"]), False, full, 1e-8, reduction),
              ref.poisson_nll(rate, data["counts"], False, full, 1e-8, reduction))
    # A variance per row broadcasts; values below eps are held at eps.
    v1 = np.array([[0.5], [1e-9], [2.0], [1.0]])
    close(nn.GaussianNLLLoss(reduction=reduction)(t64(x), t64(t), t64(v1)),
          ref.gaussian_nll(x, t, v1, False, 1e-6, reduction))
    assert dl.autograd.gradcheck(lambda a, b, c: F.gaussian_nll_loss(a, b, c, reduction=reduction),
                                 (t64(x), t64(t), t64(v)))
    assert dl.autograd.gradcheck(lambda a: F.poisson_nll_loss(a, t64(data["counts"], False), full=True,
                                                              reduction=reduction), (t64(x),))
    with pytest.raises(ValueError, match="var has negative entries"):
        F.gaussian_nll_loss(t64(x), t64(t), t64(-v))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_and_embedding_losses(data, reduction):
    x, y, y2 = data["x"], data["y"], data["y2"]
    a, b = x[:, 0], x[:, 1]
    close(F.margin_ranking_loss(t64(a), t64(b), t64(y), 0.3, reduction), ref.margin_ranking(a, b, y, 0.3, reduction))
    close(nn.HingeEmbeddingLoss(0.5, reduction)(t64(x), t64(y2)), ref.hinge_embedding(x, y2, 0.5, reduction))
    close(nn.SoftMarginLoss(reduction)(t64(x), t64(y2)), ref.soft_margin(x, y2, reduction))
    w = np.linspace(0.5, 1.5, 5)
    close(F.multilabel_soft_margin_loss(t64(x), t64(data["bits"]), t64(w, False), reduction),
          ref.multilabel_soft_margin(x, data["bits"], w, reduction))
    close(nn.MultiLabelSoftMarginLoss(reduction=reduction)(t64(x), t64(data["bits"])),
          ref.multilabel_soft_margin(x, data["bits"], None, reduction))
    x2 = x[::-1].copy()
    close(nn.CosineEmbeddingLoss(0.1, reduction)(t64(x), t64(x2), t64(y)),
          ref.cosine_embedding(x, x2, y, 0.1, reduction))
    n = x * 0.5 + 1
    for swap in (False, True):
        close(F.triplet_margin_loss(t64(x), t64(x2), t64(n), 1.0, 2.0, 1e-6, swap, reduction),
              ref.triplet_margin(x, x2, n, 1.0, 2.0, 1e-6, swap, reduction))
    close(nn.TripletMarginLoss(margin=2.0, p=1.0, reduction=reduction)(t64(x), t64(x2), t64(n)),
          ref.triplet_margin(x, x2, n, 2.0, 1.0, 1e-6, False, reduction))
    for fn, args in [(lambda p, q: F.margin_ranking_loss(p, q, t64(y, False), 0.3, reduction), (t64(a), t64(b))),
                     (lambda p: F.soft_margin_loss(p, t64(y2, False), reduction), (t64(x),)),
                     (lambda p: F.multilabel_soft_margin_loss(p, t64(data["bits"], False), None, reduction),
                      (t64(x),)),
                     (lambda p, q: F.cosine_embedding_loss(p, q, t64(y, False), 0.1, reduction),
                      (t64(x), t64(x2))),
                     (lambda p, q, r: F.triplet_margin_loss(p, q, r, reduction=reduction),
                      (t64(x), t64(x2), t64(n)))]:
        assert dl.autograd.gradcheck(fn, args)


def test_loss_argument_errors(data):
    x = t64(data["x"])
    with pytest.raises(ValueError, match="reduction must be"):
        F.kl_div(x, x, "avg")
    with pytest.raises(ValueError, match="reduction must be"):
        nn.MarginRankingLoss(reduction="avg")
    with pytest.raises(ValueError, match=r"expected input and target of the same shape \(N, C\)"):
        F.multilabel_soft_margin_loss(x, x[:2])
    with pytest.raises(ValueError, match="margin must be positive"):
        F.triplet_margin_loss(x, x, x, margin=0.0)


def test_prelu_shrinks_and_threshold(data):
    x = data["x"]
    m = nn.PReLU(5, init=0.1)
    assert m.weight.shape == (5,) and [n for n, _ in m.named_parameters()] == ["weight"]
    w = np.linspace(0.1, 0.5, 5)
    close(F.prelu(t64(x), t64(w, False)), np.where(x >= 0, x, w * x))
    close(nn.PReLU()(dl.tensor(x)), np.where(x >= 0, x, 0.25 * x))
    close(F.hardshrink(t64(x), 0.5), np.where(np.abs(x) > 0.5, x, 0.0))
    close(nn.Softshrink(0.5)(t64(x)), np.sign(x) * np.maximum(np.abs(x) - 0.5, 0.0))
    close(nn.Threshold(0.2, -1.0)(t64(x)), np.where(x > 0.2, x, -1.0))
    assert dl.autograd.gradcheck(lambda a, b: F.prelu(a, b), (t64(x), t64(w)))
    for fn in (F.hardshrink, F.softshrink, lambda a: F.threshold(a, 0.2, -1.0)):
        assert dl.autograd.gradcheck(fn, (t64(x),))
    with pytest.raises(ValueError, match=r"prelu: 3 weights for an input of shape \(4, 5\)"):
        F.prelu(t64(x), t64(np.ones(3)))


def test_parameter_list_and_dict_register_their_parameters(tmp_path):
    m = nn.Module()
    m.ps = nn.ParameterList([dl.ones(2), nn.Parameter(dl.zeros(3))])
    m.ps.append(dl.full((1,), 2.0))
    m.pd = nn.ParameterDict({"a": dl.ones(1)})
    m.pd["b"] = dl.zeros(2, 2)
    names = [n for n, _ in m.named_parameters()]
    assert names == ["ps.0", "ps.1", "ps.2", "pd.a", "pd.b"]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())
    assert len(m.ps) == 3 and m.ps[-1].tolist() == [2.0] and len(m.ps[1:]) == 2
    assert "b" in m.pd and list(m.pd.keys()) == ["a", "b"] and m.pd.get("z") is None
    # The optimizer sees them, and state_dict round-trips them.
    (m.ps[0].sum() * 3 + m.pd["b"].sum()).backward()
    dl.optim.SGD(m.parameters(), lr=0.5).step()
    assert m.ps[0].tolist() == [-0.5, -0.5] and m.pd["b"].tolist() == [[-0.5, -0.5], [-0.5, -0.5]]
    path = str(tmp_path / "p.safetensors")
    dl.save(m.state_dict(), path)
    fresh = nn.Module()
    fresh.ps = nn.ParameterList([dl.zeros(2), dl.zeros(3), dl.zeros(1)])
    fresh.pd = nn.ParameterDict({"a": dl.zeros(1), "b": dl.zeros(2, 2)})
    fresh.load_state_dict(dl.load(path))
    assert fresh.ps[0].tolist() == [-0.5, -0.5] and fresh.pd["a"].tolist() == [1.0]
    assert "(0): Parameter of shape (2,)" in repr(m)
    with pytest.raises(TypeError, match="ParameterList: expected a Parameter or Tensor, got list"):
        m.ps.append([1.0])
    with pytest.raises(IndexError, match="ParameterList index 5 is out of range"):
        m.ps[5]


def test_parameters_to_vector_and_back():
    lin = nn.Linear(3, 2)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,)
    np.testing.assert_array_equal(vec.detach().numpy()[:6], lin.weight.detach().numpy().ravel())
    nn.utils.vector_to_parameters(dl.arange(8.0), lin.parameters())
    assert lin.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and lin.bias.tolist() == [6.0, 7.0]
    (nn.utils.parameters_to_vector(lin.parameters()) * dl.arange(8.0)).sum().backward()
    assert lin.bias.grad.tolist() == [6.0, 7.0]
    with pytest.raises(ValueError, match="the vector has 5 values, the parameters 8"):
        nn.utils.vector_to_parameters(dl.zeros(5), lin.parameters())


def ctc_reference(lp, target, frames, blank=0):
    """-log p(target | lp[:frames]) by the forward recursion over the extended labels
    (blank, l1, blank, ..., blank), in float64 log space."""
    ext = [blank]
    for c in target:
        ext += [c, blank]
    alpha = np.full(len(ext), -np.inf)
    if frames == 0:
        return 0.0 if len(target) == 0 else np.inf
    alpha[0] = lp[0, blank]
    if len(ext) > 1:
        alpha[1] = lp[0, ext[1]]
    for t in range(1, frames):
        new = np.full_like(alpha, -np.inf)
        for s, c in enumerate(ext):
            terms = [alpha[s]] + ([alpha[s - 1]] if s >= 1 else [])
            if s >= 2 and c != blank and c != ext[s - 2]:
                terms.append(alpha[s - 2])
            new[s] = np.logaddexp.reduce(terms) + lp[t, c]
        alpha = new
    tail = [alpha[-1]] + ([alpha[-2]] if len(ext) > 1 else [])
    return -np.logaddexp.reduce(tail)


def log_softmax_np(x):
    return x - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True)) - x.max(-1, keepdims=True)


def test_ctc_loss_matches_the_forward_recursion(rng):
    T, C = 9, 5
    lp = log_softmax_np(rng.normal(size=(T, 5, C)))
    targets = [[1, 2, 2, 3], [4], [], [3, 3, 3, 3, 3], [2, 1]]  # repeats, empty, too long for 7 frames
    frames = [9, 6, 4, 7, 9]
    lens = [len(r) for r in targets]
    padded = np.zeros((5, 5), np.int64)
    for i, r in enumerate(targets):
        padded[i, :len(r)] = r
    want = np.array([ctc_reference(lp[:, i], r, f) for i, (r, f) in enumerate(zip(targets, frames))])
    assert np.isinf(want[3])  # 5 threes need 9 frames
    got = F.ctc_loss(t64(lp, False), dl.tensor(padded), dl.tensor(frames), dl.tensor(lens), reduction="none")
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    flat = dl.tensor(np.concatenate([np.array(r, np.int64) for r in targets]))
    got1d = F.ctc_loss(t64(lp, False), flat, frames, lens, reduction="none", zero_infinity=True)
    np.testing.assert_allclose(got1d.numpy(), np.where(np.isinf(want), 0.0, want), rtol=1e-12)
    finite = np.isfinite(want)
    mean = nn.CTCLoss(zero_infinity=True)(t64(lp, False), dl.tensor(padded), dl.tensor(frames), dl.tensor(lens))
    np.testing.assert_allclose(mean.item(), np.mean(np.where(finite, want, 0) / np.maximum(lens, 1)), rtol=1e-12)
    one = F.ctc_loss(t64(lp[:, 0], False), dl.tensor(targets[0]), [9], [4], reduction="sum")
    np.testing.assert_allclose(one.item(), want[0], rtol=1e-12)
    blank2 = F.ctc_loss(t64(lp[:, :1], False), dl.tensor([[1, 0]]), [9], [2], blank=2, reduction="sum")
    np.testing.assert_allclose(blank2.item(), ctc_reference(lp[:, 0], [1, 0], 9, blank=2), rtol=1e-12)


def test_ctc_loss_gradient(rng):
    x = rng.normal(size=(6, 2, 4))
    targets, frames, lens = dl.tensor([[1, 1], [3, 2]]), [6, 4], [2, 2]
    assert dl.autograd.gradcheck(
        lambda a: F.ctc_loss(F.log_softmax(a, -1), targets, frames, lens, reduction="sum"),
        [dl.tensor(x, requires_grad=True)])
    # through log_softmax each active frame's logit gradient sums to 0 (softmax - occupancy)
    logits = dl.tensor(x, requires_grad=True)
    F.ctc_loss(F.log_softmax(logits, -1), targets, frames, lens, reduction="sum").backward()
    g = logits.grad.numpy()
    np.testing.assert_allclose(g.sum(-1)[:, 0], 0.0, atol=1e-12)
    np.testing.assert_allclose(g[4:, 1], 0.0, atol=0)  # frames past input_lengths get nothing


def test_ctc_loss_rejects_bad_arguments():
    lp = dl.zeros(4, 2, 3)
    with pytest.raises(ValueError, match="target labels must be in \\[0, 3\\) and not the blank 0"):
        F.ctc_loss(lp, dl.tensor([[1, 0], [1, 2]]), [4, 4], [2, 2])
    with pytest.raises(ValueError, match="input_lengths \\[5, 4\\] exceed the 4 frames"):
        F.ctc_loss(lp, dl.tensor([[1], [2]]), [5, 4], [1, 1])
    with pytest.raises(ValueError, match="expected 2 target_lengths, got 1"):
        F.ctc_loss(lp, dl.tensor([[1], [2]]), [4, 4], [1])
    with pytest.raises(ValueError, match="blank 3 is out of range for 3 classes"):
        F.ctc_loss(lp, dl.tensor([[1], [2]]), [4, 4], [1, 1], blank=3)
