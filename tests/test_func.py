"""dlcore.func (torch.func's names) against analytic derivatives, NumPy loops and finite
differences: grad (nested, argnums, has_aux, dict arguments), vjp, jvp, jacrev, hessian,
vmap (in_dims, out_dims, tuples, nesting, dict arguments), functional_call and
stack_module_state; the errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import func, nn


def t(a):
    return dl.tensor(np.asarray(a, dtype=np.float64))


def check(got, want, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(got.detach().numpy(), want, rtol=rtol, atol=atol)


def test_grad_nested_argnums_aux_and_dicts(rng):
    x = rng.normal(size=4)
    check(func.grad(lambda v: (v ** 3).sum())(t(x)), 3 * x ** 2)
    check(func.grad(lambda v: func.grad(lambda u: (u ** 3).sum())(v).sum())(t(x)), 6 * x)
    y = rng.normal(size=4)
    gx, gy = func.grad(lambda a, b: (a * b.exp()).sum(), argnums=(0, 1))(t(x), t(y))
    check(gx, np.exp(y))
    check(gy, x * np.exp(y))
    g, aux = func.grad(lambda v: ((v ** 2).sum(), "aux"), has_aux=True)(t(x))
    check(g, 2 * x)
    assert aux == "aux"
    g, value = func.grad_and_value(lambda v: (v ** 2).sum())(t(x))
    check(value, (x ** 2).sum())
    gd = func.grad(lambda p: (p["w"] ** 2).sum() + p["b"].sum())({"w": t(x), "b": t(y)})
    check(gd["w"], 2 * x)
    check(gd["b"], np.ones(4))
    assert not func.grad(lambda v: (v ** 2).sum())(t(x)).requires_grad
    with pytest.raises(ValueError, match=r"grad: func must return a tensor with one element, got \(4,\)"):
        func.grad(lambda v: v * 2)(t(x))
    with pytest.raises(ValueError, match=r"grad: with has_aux=True, func must return \(output, aux\)"):
        func.grad(lambda v: (v ** 2).sum(), has_aux=True)(t(x))


def test_vjp_jvp_jacobian_hessian(rng):
    x = rng.normal(size=3)
    out, fn = func.vjp(lambda v: v.sin(), t(x))
    check(out, np.sin(x))
    (g,) = fn(t([1.0, 2.0, 3.0]))
    check(g, np.cos(x) * [1.0, 2.0, 3.0])
    out, tangent_out = func.jvp(lambda v: v.sin(), (t(x),), (t([1.0, 0.5, -1.0]),))
    check(tangent_out, np.cos(x) * [1.0, 0.5, -1.0])
    A = rng.normal(size=(2, 3))
    check(func.jacrev(lambda v: t(A) @ v.tanh())(t(x)), A * (1 - np.tanh(x) ** 2))
    check(func.jacfwd(lambda v: v ** 2)(t(x)), np.diag(2 * x))
    check(func.hessian(lambda v: (v ** 3).sum() + v[0] * v[1])(t(x)), np.diag(6 * x) + np.array(
        [[0, 1, 0], [1, 0, 0], [0, 0, 0]]))


def test_vmap_against_loops(rng):
    a, b = rng.normal(size=(4, 3, 2)), rng.normal(size=(2, 5))
    check(func.vmap(lambda p, q: p @ q, in_dims=(0, None))(t(a), t(b)), a @ b)
    got = func.vmap(lambda p: p.sum(0), in_dims=2, out_dims=1)(t(a))  # map over the last dim
    check(got, np.stack([a[:, :, k].sum(0) for k in range(2)], 1))
    s, m = func.vmap(lambda p: (p.sum(), p.max()))(t(a))
    check(s, a.sum((1, 2)))
    check(m, a.max((1, 2)))
    check(func.vmap(func.vmap(lambda v: (v * v).sum()))(t(a)), (a * a).sum(2))
    check(func.vmap(lambda d: d["x"] * d["y"])({"x": t(a[:, 0]), "y": t(a[:, 1])}), a[:, 0] * a[:, 1])
    check(func.vmap(func.grad(lambda v: (v ** 2).sum()))(t(a)), 2 * a)
    with pytest.raises(ValueError, match=r"vmap: the mapped dimensions have different sizes \[2, 4\]"):
        func.vmap(lambda p, q: p + q)(t(a), t(b))


def test_functional_call_and_ensembles(rng):
    dl.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    before = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    w = {k: t(rng.normal(size=tuple(v.shape))).requires_grad_() for k, v in model.named_parameters()}
    x = rng.normal(size=(5, 3))
    out = func.functional_call(model, w, (t(x),))
    ws = {k: v.detach().numpy() for k, v in w.items()}
    want = np.tanh(x @ ws["0.weight"].T + ws["0.bias"]) @ ws["2.weight"].T + ws["2.bias"]
    check(out, want)
    out.sum().backward()
    assert w["2.bias"].grad is not None and model[2].bias.grad is None
    check(w["2.bias"].grad, np.full(2, 5.0))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])  # the module is as it was
    with pytest.raises(ValueError, match="functional_call: the module has no parameter or buffer named 'nope'"):
        func.functional_call(model, {"nope": t([1.0])}, (t(x),))
    with pytest.raises(ValueError, match="functional_call: strict=True, but '0.bias' was not given"):
        func.functional_call(model, {"0.weight": w["0.weight"]}, (t(x),), strict=True)

    models = [nn.Linear(3, 2).double() for _ in range(3)]
    params, buffers = func.stack_module_state(models)
    assert params["weight"].shape == (3, 2, 3) and params["weight"].requires_grad
    outs = func.vmap(lambda p, b, z: func.functional_call(models[0], (p, b), (z,)), in_dims=(0, 0, None))(
        params, buffers, t(x))
    for k, m in enumerate(models):
        check(outs[k], m(t(x)).detach().numpy())
