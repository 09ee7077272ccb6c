"""optim.LBFGS: minima against NumPy's (np.linalg.solve for a quadratic, np.linalg.lstsq for
a least-squares layer, (1, 1) for Rosenbrock's function), with and without the strong-Wolfe
line search; the gradient tolerance; the state through state_dict; and the errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn, optim


def rosenbrock_run(line_search, steps=5):
    x = dl.tensor(np.array([-1.5, 2.0]), requires_grad=True)
    opt = optim.LBFGS([x], lr=1.0 if line_search else 0.5, max_iter=200, line_search_fn=line_search,
                      tolerance_grad=1e-10, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        f.backward()
        return f

    for _ in range(steps):
        opt.step(closure)
    return x.detach().numpy(), opt


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_rosenbrock_minimum(line_search):
    x, opt = rosenbrock_run(line_search)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-6)
    state = next(iter(opt.state.values()))
    assert state["n_iter"] > 10 and state["func_evals"] >= state["n_iter"]


def test_quadratic_minimum_with_the_line_search(rng):
    m = rng.normal(size=(6, 6))
    A = m @ m.T + 6 * np.eye(6)
    b = rng.normal(size=6)
    x = dl.tensor(np.zeros(6), requires_grad=True)
    At, bt = dl.tensor(A), dl.tensor(b)
    # (the default tolerance_change, 1e-9 on the loss, stops where x is still 1e-7 off)
    opt = optim.LBFGS([x], max_iter=50, line_search_fn="strong_wolfe", tolerance_grad=1e-12, tolerance_change=1e-20)

    def closure():
        opt.zero_grad()
        f = 0.5 * (x @ (At @ x)) - bt @ x
        f.backward()
        return f

    opt.step(closure)
    np.testing.assert_allclose(x.detach().numpy(), np.linalg.solve(A, b), rtol=1e-8, atol=1e-10)


def test_least_squares_layer(rng):
    X, w_true = rng.normal(size=(50, 4)), rng.normal(size=(4, 2))
    Y = X @ w_true + 0.1 * rng.normal(size=(50, 2)) + 0.3
    model = nn.Linear(4, 2, dtype=dl.float64)
    opt = optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe", max_iter=100, tolerance_change=1e-20)
    Xt, Yt = dl.tensor(X), dl.tensor(Y)

    def closure():
        opt.zero_grad()
        loss = ((model(Xt) - Yt) ** 2).mean()
        loss.backward()
        return loss

    first = float(opt.step(closure))
    coef, *_ = np.linalg.lstsq(np.hstack([X, np.ones((50, 1))]), Y, rcond=None)
    np.testing.assert_allclose(model.weight.detach().numpy(), coef[:4].T, atol=1e-6)
    np.testing.assert_allclose(model.bias.detach().numpy(), coef[4], atol=1e-6)
    assert float(closure()) < first


def test_stops_at_once_where_the_gradient_is_small():
    x = dl.tensor(np.array([1.0, 1.0]), requires_grad=True)
    opt = optim.LBFGS([x])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        f = ((x - 1) ** 2).sum()
        f.backward()
        return f

    opt.step(closure)
    assert len(calls) == 1 and x.detach().numpy().tolist() == [1.0, 1.0]


def test_state_dict_carries_the_history(tmp_path):
    def make():
        x = dl.tensor(np.array([-1.5, 2.0]), requires_grad=True)
        return x, optim.LBFGS([x], lr=0.5, max_iter=7)

    def closure_for(x, opt):
        def closure():
            opt.zero_grad()
            f = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
            f.backward()
            return f
        return closure

    xa, oa = make()
    oa.step(closure_for(xa, oa))
    dl.save(oa.state_dict(), tmp_path / "lbfgs.safetensors")
    xb, ob = make()
    xc, oc = make()
    with dl.no_grad():
        xb.copy_(xa)
        xc.copy_(xa)
    ob.load_state_dict(dl.load(tmp_path / "lbfgs.safetensors"))
    oc.load_state_dict(oa.state_dict())  # in memory: the two optimizers must not share history
    oa.step(closure_for(xa, oa))
    ob.step(closure_for(xb, ob))
    oc.step(closure_for(xc, oc))
    np.testing.assert_array_equal(xb.detach().numpy(), xa.detach().numpy())
    np.testing.assert_array_equal(xc.detach().numpy(), xa.detach().numpy())


def test_errors():
    x = dl.tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="LBFGS.step needs a closure"):
        optim.LBFGS([x]).step(None)
    with pytest.raises(ValueError, match="LBFGS: line_search_fn must be None or 'strong_wolfe', got 'armijo'"):
        optim.LBFGS([x], line_search_fn="armijo")
    with pytest.raises(ValueError, match="LBFGS: max_iter must be a positive int, got 0"):
        optim.LBFGS([x], max_iter=0)
    y = dl.tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([{"params": [x]}, {"params": [y], "lr": 0.1}])
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        optim.LBFGS([x]).add_param_group({"params": [y]})


@pytest.mark.parametrize("t0", [1e-3, 1.0, 50.0])
def test_the_line_search_meets_the_strong_wolfe_conditions(t0):
    from dlcore.optim.lbfgs import _strong_wolfe

    # f(x) = (x - 3)^4 + x^2 along d = 1 from x = 0: f(0) = 81, f'(0) = -108
    def phi(t):
        return (t - 3) ** 4 + t * t, dl.tensor([4 * (t - 3) ** 3 + 2 * t])

    d = dl.tensor([1.0])
    f0, g0 = phi(0.0)
    f, g, t, evals = _strong_wolfe(phi, t0, d, f0, g0, -108.0, 1e-12, 100)
    assert f <= f0 + 1e-4 * t * -108.0  # sufficient decrease
    assert abs(g.item()) <= 0.9 * 108.0  # curvature, strong form
    assert f == phi(t)[0] and evals <= 25
