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
