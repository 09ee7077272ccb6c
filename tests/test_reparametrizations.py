"""nn.utils.weight_norm and spectral_norm (and their remove_*) against NumPy: the weight
they compute, the gradients reaching their parameters (central differences in float64), the
largest singular value from np.linalg.svd, state-dict keys, and their errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn


def numeric_grad(loss_fn, param, eps=1e-6):
    """Central differences of loss_fn() over each element of param (changed in place)."""
    flat = param.detach().numpy().reshape(-1)  # shares memory with the parameter
    out = np.zeros_like(flat)
    for i in range(flat.size):
        keep = flat[i]
        flat[i] = keep + eps
        hi = loss_fn()
        flat[i] = keep - eps
        lo = loss_fn()
        flat[i] = keep
        out[i] = (hi - lo) / (2 * eps)
    return out.reshape(tuple(param.shape))


def norms_except(w, dim):
    if dim is None:
        return np.sqrt((w * w).sum())
    others = tuple(d for d in range(w.ndim) if d != dim)
    return np.sqrt((w * w).sum(axis=others, keepdims=True))


@pytest.mark.parametrize("make,dim", [(lambda: nn.Linear(4, 3, dtype=dl.float64), 0),
                                      (lambda: nn.Linear(4, 3, dtype=dl.float64), None),
                                      (lambda: nn.Conv2d(2, 3, 3, dtype=dl.float64), 0),
                                      (lambda: nn.Conv2d(2, 3, 3, dtype=dl.float64), 1)])
def test_weight_norm_values_and_gradients(make, dim, rng):
    m = make()
    w0 = m.weight.detach().numpy().copy()
    x = dl.tensor(rng.normal(size=(2, 4) if isinstance(m, nn.Linear) else (2, 2, 5, 5)))
    before = m(x).detach().numpy()
    nn.utils.weight_norm(m, dim=dim)
    assert "weight" not in dict(m.named_parameters())
    np.testing.assert_allclose(m.weight_g.detach().numpy(), norms_except(w0, dim), rtol=1e-12)
    np.testing.assert_allclose(m(x).detach().numpy(), before, rtol=1e-12, atol=1e-12)
    # New g and v: the weight is g v / ||v||.
    with dl.no_grad():
        m.weight_g.mul_(1.5)
        m.weight_v.add_(0.25)
    g, v = m.weight_g.detach().numpy(), m.weight_v.detach().numpy()
    m(x)
    np.testing.assert_allclose(m.weight.detach().numpy(), v * g / norms_except(v, dim), rtol=1e-12)
    c = rng.normal(size=before.shape)

    def loss():
        return float((m(x).detach().numpy() * c).sum())

    for p in (m.weight_g, m.weight_v):
        p.grad = None
    (m(x) * dl.tensor(c)).sum().backward()
    for p in (m.weight_g, m.weight_v):
        np.testing.assert_allclose(p.grad.numpy(), numeric_grad(loss, p), rtol=1e-6, atol=1e-8)


def test_weight_norm_state_dict_and_remove(rng):
    m = nn.utils.weight_norm(nn.Linear(4, 3))
    assert sorted(m.state_dict()) == ["bias", "weight_g", "weight_v"]
    other = nn.utils.weight_norm(nn.Linear(4, 3))
    other.load_state_dict(m.state_dict())
    x = dl.tensor(rng.normal(size=(5, 4)).astype(np.float32))
    np.testing.assert_array_equal(other(x).detach().numpy(), m(x).detach().numpy())
    want = m.weight.detach().numpy().copy()
    nn.utils.remove_weight_norm(m)
    assert sorted(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    np.testing.assert_array_equal(m.weight.detach().numpy(), want)
    np.testing.assert_array_equal(m(x).detach().numpy(), other(x).detach().numpy())


def test_weight_norm_errors():
    m = nn.utils.weight_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match=r"WeightNorm: 'weight' of Linear is already reparametrised "
                                           r"\(by WeightNorm\)"):
        nn.utils.weight_norm(m)
    with pytest.raises(ValueError, match="weight_norm: Linear has no parameter 'kernel'"):
        nn.utils.weight_norm(nn.Linear(2, 2), name="kernel")
    with pytest.raises(IndexError, match=r"weight_norm: dim 2 is out of range for 'weight' of shape \(2, 2\)"):
        nn.utils.weight_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="remove_weight_norm: 'weight' of Linear has no weight_norm"):
        nn.utils.remove_weight_norm(nn.Linear(2, 2))


@pytest.mark.parametrize("make,dim", [(lambda: nn.Linear(6, 4, dtype=dl.float64), 0),
                                      (lambda: nn.Conv2d(3, 4, 3, dtype=dl.float64), 0),
                                      (lambda: nn.ConvTranspose2d(3, 4, 3, dtype=dl.float64), 1)])
def test_spectral_norm_divides_by_the_largest_singular_value(make, dim, rng):
    m = nn.utils.spectral_norm(make())
    w = m.weight_orig.detach().numpy()
    mat = np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1)
    sigma = np.linalg.svd(mat, compute_uv=False)[0]
    x = dl.tensor(rng.normal(size=(2, 6) if isinstance(m, nn.Linear) else (2, 3, 5, 5)))
    for _ in range(200):  # power iteration, one step per training forward
        m(x)
    np.testing.assert_allclose(m.weight.detach().numpy(), w / sigma, rtol=1e-8)
    # Eval mode: u and v stay; the gradient reaches weight_orig through w / (u^T W v).
    m.eval()
    u = m.weight_u.numpy().copy()
    c = rng.normal(size=tuple(m(x).shape))

    def loss():
        return float((m(x).detach().numpy() * c).sum())

    (m(x) * dl.tensor(c)).sum().backward()
    np.testing.assert_array_equal(m.weight_u.numpy(), u)
    np.testing.assert_allclose(m.weight_orig.grad.numpy(), numeric_grad(loss, m.weight_orig), rtol=1e-6, atol=1e-8)
    assert sorted(m.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    m(x)  # the weight from the restored weight_orig (the differences left the last one)
    want = m.weight.detach().numpy().copy()
    nn.utils.remove_spectral_norm(m)
    assert sorted(m.state_dict()) == ["bias", "weight"]
    np.testing.assert_array_equal(m.weight.detach().numpy(), want)


def test_spectral_norm_errors():
    with pytest.raises(ValueError, match="spectral_norm: n_power_iterations must be a positive int, got 0"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="spectral_norm: Linear has no parameter 'w'"):
        nn.utils.spectral_norm(nn.Linear(2, 2), name="w")
    m = nn.utils.spectral_norm(nn.Linear(2, 2))
    with pytest.raises(RuntimeError, match=r"SpectralNorm: 'weight' of Linear is already reparametrised "
                                           r"\(by SpectralNorm\)"):
        nn.utils.spectral_norm(m)
    with pytest.raises(RuntimeError, match=r"WeightNorm: 'weight' of Linear is already reparametrised"):
        nn.utils.weight_norm(m)
    with pytest.raises(ValueError, match="remove_spectral_norm: 'weight' of Linear has no spectral_norm"):
        nn.utils.remove_spectral_norm(nn.Linear(2, 2))
