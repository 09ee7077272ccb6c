"""nn.utils.parametrize and nn.utils.parametrizations against NumPy: parametrized values,
state-dict keys, gradients reaching the originals (float64 finite differences),
assignment through right_inverse, caching, chaining, removal; weight_norm, spectral_norm
(singular values from NumPy's SVD) and orthogonal; and the errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.autograd import gradcheck
from dlcore.nn.utils import parametrizations as PZ
from dlcore.nn.utils import parametrize as P


class Symmetric(nn.Module):
    calls = 0

    def forward(self, x):
        Symmetric.calls += 1
        return x.triu() + x.triu(1).mT

    def right_inverse(self, a):
        return a.triu()


class Scale(nn.Module):
    def forward(self, x):
        return 2.0 * x


def test_register_parametrization(rng):
    m = nn.Linear(3, 3).double()
    w0 = m.weight.detach().numpy().copy()
    P.register_parametrization(m, "weight", Symmetric())
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight") and not P.is_parametrized(m, "bias")
    want = np.triu(w0) + np.triu(w0, 1).T
    np.testing.assert_allclose(m.weight.detach().numpy(), want)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    np.testing.assert_allclose(m.parametrizations.weight.original.detach().numpy(), np.triu(w0))  # right_inverse
    x = rng.normal(size=(4, 3))
    m(dl.tensor(x)).sum().backward()
    g = np.tile(x.sum(0), (3, 1))  # d sum(x W^T) / dW
    np.testing.assert_allclose(m.parametrizations.weight.original.grad.numpy(), np.triu(g) + np.tril(g, -1).T)
    # Assignment goes through right_inverse.
    s = rng.normal(size=(3, 3))
    s = s + s.T
    m.weight = dl.tensor(s)
    np.testing.assert_allclose(m.weight.detach().numpy(), s)
    # cached(): computed once for all accesses inside.
    Symmetric.calls = 0
    with P.cached():
        a, b = m.weight, m.weight
    assert Symmetric.calls == 1 and a is b
    P.register_parametrization(m, "weight", Scale())  # chained after Symmetric
    np.testing.assert_allclose(m.weight.detach().numpy(), 2 * s)
    P.remove_parametrizations(m, "weight")
    assert isinstance(m.weight, nn.Parameter) and not P.is_parametrized(m)
    np.testing.assert_allclose(m.weight.detach().numpy(), 2 * s)
    assert "parametrizations" not in dict(m.named_modules())


def test_parametrization_gradients_and_errors(rng):
    # Through a parametrized layer, against finite differences in the original.
    lin = nn.Linear(3, 2).double()
    P.register_parametrization(lin, "weight", Scale())
    x = dl.tensor(rng.normal(size=(4, 3)))

    def loss_of(orig):
        with dl.no_grad():
            lin.parametrizations.weight.original.copy_(orig)
        return lin(x).tanh().sum()

    orig = lin.parametrizations.weight.original
    loss_of(orig.detach()).backward()
    analytic = orig.grad.numpy().copy()
    base = orig.detach().numpy().copy()
    numeric = np.zeros_like(base)
    for idx in np.ndindex(*base.shape):
        step = np.zeros_like(base)
        step[idx] = 1e-6
        with dl.no_grad():
            numeric[idx] = (loss_of(dl.tensor(base + step)).item() - loss_of(dl.tensor(base - step)).item()) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)
    w = dl.tensor(rng.normal(size=(3, 3)), requires_grad=True)
    assert gradcheck(lambda t: Symmetric()(t), (w,))
    m = nn.Linear(2, 3)
    with pytest.raises(ValueError, match=r"register_parametrization: the parametrization changes 'weight' from "
                                         r"\(3, 2\) float32 to \(2, 3\) float32"):
        P.register_parametrization(m, "weight", type("T", (nn.Module,), {"forward": lambda self, x: x.mT})())
    with pytest.raises(ValueError, match="register_parametrization: Linear has no parameter or buffer 'gain'"):
        P.register_parametrization(m, "gain", Scale())
    with pytest.raises(ValueError, match="remove_parametrizations: Linear has no parametrization on 'weight'"):
        P.remove_parametrizations(m, "weight")
    P.register_parametrization(m, "bias", Scale())
    with pytest.raises(RuntimeError, match="parametrization Scale has no right_inverse"):
        m.bias = dl.zeros(3)
    P.remove_parametrizations(m, "bias", leave_parametrized=False)
    assert isinstance(m.bias, nn.Parameter)


def test_weight_norm_parametrization(rng):
    lin = nn.Linear(4, 3).double()
    w0 = lin.weight.detach().numpy().copy()
    PZ.weight_norm(lin)
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original0",
                                      "parametrizations.weight.original1"]
    np.testing.assert_allclose(lin.weight.detach().numpy(), w0, rtol=1e-12)
    g = lin.parametrizations.weight.original0.detach().numpy()
    np.testing.assert_allclose(g, np.linalg.norm(w0, axis=1, keepdims=True), rtol=1e-12)
    with dl.no_grad():
        lin.parametrizations.weight.original0.mul_(2.0)
    np.testing.assert_allclose(lin.weight.detach().numpy(), 2 * w0, rtol=1e-12)


def test_spectral_norm_parametrization(rng):
    lin = nn.Linear(6, 4).double()
    PZ.spectral_norm(lin)
    for _ in range(30):
        w = lin.weight  # training mode: one power step per access
    np.testing.assert_allclose(np.linalg.svd(w.detach().numpy(), compute_uv=False)[0], 1.0, rtol=1e-6)
    lin.eval()
    u = lin.parametrizations.weight[0]._u.numpy().copy()
    lin.weight
    np.testing.assert_array_equal(lin.parametrizations.weight[0]._u.numpy(), u)  # no update in eval mode


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 4)])
def test_orthogonal_parametrization(rng, shape):
    lin = nn.Linear(shape[1], shape[0]).double()
    PZ.orthogonal(lin)
    w = lin.weight.detach().numpy()
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)
    opt = dl.optim.SGD(lin.parameters(), lr=0.1)
    lin(dl.tensor(rng.normal(size=(2, shape[1])))).pow(2).sum().backward()
    opt.step()
    w = lin.weight.detach().numpy()
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)  # still orthogonal after a step
    q = np.linalg.qr(rng.normal(size=(max(shape), min(shape))))[0]
    q = q * np.sign(np.diag(np.linalg.qr(q)[1]))
    target = q if shape[0] >= shape[1] else q.T
    lin.weight = dl.tensor(target)
    np.testing.assert_allclose(lin.weight.detach().numpy(), target, atol=1e-12)
    with pytest.raises(ValueError, match="orthogonal: dlcore's map is the Householder QR"):
        PZ.orthogonal(nn.Linear(2, 2), orthogonal_map="cayley")
