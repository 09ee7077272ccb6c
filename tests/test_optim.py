"""Optimizers against NumPy re-implementations of their update rules (tests/reference/optim.py),
over 20 steps, with every flag; parameter groups; state_dict round trips; the fused update
on every ISA and thread count; gradient clipping and the L1 penalty; bad inputs."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore import nn, optim
from reference import optim as ref

# A fixed objective: loss = sum(a p^2 + b p + c sin(p)), gradient 2 a p + b + c cos(p).
RNG = np.random.default_rng(7)
A, B, C = RNG.uniform(0.2, 1.0, 6), RNG.normal(size=6), RNG.normal(size=6)


def objective(p):
    a, b, c = (dl.tensor(v).to(p.dtype) for v in (A, B, C))
    return (a * p * p + b * p + c * p.sin()).sum()


def np_grad(p):
    return 2 * A * p + B + C * np.cos(p)


CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True, eps=1e-6)),
    ("Adam", dict(lr=0.05, maximize=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.3)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.95), weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, momentum_decay=0.1, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.05)),  # 20 steps: the plain steps (rho_t <= 5), then rectified ones
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.2, decoupled_weight_decay=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    ("Rprop", dict(lr=0.05)),
    ("Rprop", dict(lr=0.02, etas=(0.3, 1.5), step_sizes=(1e-3, 0.04), maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=0.1, alpha=0.5, t0=5, weight_decay=0.1)),
    ("Adafactor", dict(lr=0.05, eps=(1e-7, 1e-3))),  # 1-D: the unfactored second moment
    ("Adafactor", dict(lr=0.1, beta2_decay=-0.5, d=1.2, weight_decay=0.1, eps=(1e-7, 1e-3), maximize=True)),
]


def run_dlcore(name, kw, dtype, steps=20):
    p = nn.Parameter(dl.tensor(np.linspace(-1.0, 1.5, 6)).to(dtype))
    opt = getattr(optim, name)([p], **kw)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        objective(p).backward()
        opt.step()
        out.append(p.detach().numpy().astype(np.float64).copy())
    return out


def run_reference(name, kw, steps=20):
    r = getattr(ref, name)(**kw)
    p = np.linspace(-1.0, 1.5, 6)
    out = []
    for _ in range(steps):
        p = r.step(p, np_grad(p))
        out.append(p.copy())
    return out


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
@pytest.mark.parametrize("dtype", [dl.float64, dl.float32], ids=["f64", "f32"])
def test_trajectory_matches_reference(name, kw, dtype):
    got, want = run_dlcore(name, kw, dtype), run_reference(name, kw)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == dl.float64 else dict(rtol=2e-5, atol=2e-6)
    for step, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, err_msg=f"{name} {kw} step {step + 1}", **tol)


ISA_CASES = [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
             ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
             ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
             ("RMSprop", dict(lr=0.01, centered=True, momentum=0.3))]


@pytest.mark.parametrize("name,kw", ISA_CASES, ids=[c[0] for c in ISA_CASES])
def test_every_isa_long_parameter(name, kw, isa):
    """1003 elements: the vector loop and the masked tail of each ISA's update kernel."""
    x0 = np.random.default_rng(3).uniform(-1, 1, 1003)
    p = nn.Parameter(dl.tensor(x0))
    opt = getattr(optim, name)([p], **kw)
    r = getattr(ref, name)(**kw)
    want = x0.copy()
    for _ in range(5):
        g = 2 * want + 0.5
        p.grad = dl.tensor(2 * p.detach().numpy() + 0.5)
        opt.step()
        want = r.step(want, g)
    np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-10, atol=1e-12, err_msg=isa)


@pytest.mark.parametrize("name,kw", ISA_CASES, ids=[c[0] for c in ISA_CASES])
def test_same_bits_for_any_thread_count(name, kw, threads):
    """Parameters larger than the grain are split over threads: the bits do not change."""
    results = []
    for n in (1, 2):
        dl.set_num_threads(n)
        dl.manual_seed(0)
        ps = [nn.Parameter(dl.randn(70001)), nn.Parameter(dl.randn(33)), nn.Parameter(dl.randn(300, 200))]
        opt = getattr(optim, name)(ps, **kw)
        for _ in range(3):
            for p in ps:
                p.grad = p.detach() * 0.3 + 0.1
            opt.step()
        results.append([p.detach().numpy().copy() for p in ps])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_param_groups_have_their_own_hyperparameters():
    p1 = nn.Parameter(dl.tensor([1.0, 2.0], dtype=dl.float64))
    p2 = nn.Parameter(dl.tensor([3.0], dtype=dl.float64))
    opt = optim.SGD([{"params": [p1]}, {"params": [p2], "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert opt.param_groups[0]["momentum"] == 0.0 and opt.param_groups[1]["lr"] == 0.5
    for _ in range(3):
        opt.zero_grad()
        ((p1 * p1).sum() + (p2 * p2).sum()).backward()
        opt.step()
    r1, r2 = ref.SGD(0.1), ref.SGD(0.5, momentum=0.9)
    a, b = np.array([1.0, 2.0]), np.array([3.0])
    for _ in range(3):
        a, b = r1.step(a, 2 * a), r2.step(b, 2 * b)
    np.testing.assert_allclose(p1.detach().numpy(), a, rtol=1e-12)
    np.testing.assert_allclose(p2.detach().numpy(), b, rtol=1e-12)


def test_add_param_group_and_parameters_without_grad_are_skipped():
    p1, p2 = nn.Parameter(dl.ones(2)), nn.Parameter(dl.ones(2))
    opt = optim.Adam([p1], lr=0.1)
    opt.add_param_group({"params": p2, "lr": 0.01})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    (p1.sum()).backward()
    opt.step()
    assert np.allclose(p2.detach().numpy(), 1.0) and not np.allclose(p1.detach().numpy(), 1.0)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p1]})


def train(model, opt, x, y, steps):
    losses = []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)),
                                     ("Adagrad", dict(lr=0.1)), ("RMSprop", dict(lr=0.01, centered=True,
                                                                                 momentum=0.5)),
                                     ("Rprop", dict(lr=0.01)), ("ASGD", dict(lr=0.05, t0=2))])
def test_state_dict_round_trip_continues_identically(name, kw, tmp_path):
    dl.manual_seed(0)
    x, y = dl.randn(16, 5), dl.randint(0, 3, (16,))

    def make():
        dl.manual_seed(1)
        return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))

    model = make()
    opt = getattr(optim, name)(model.parameters(), **kw)
    train(model, opt, x, y, 5)
    dl.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck.safetensors")
    expected = train(model, opt, x, y, 5)

    model2 = make()
    opt2 = getattr(optim, name)(model2.parameters(), **kw)
    ck = dl.load(tmp_path / "ck.safetensors")
    model2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["opt"])
    assert train(model2, opt2, x, y, 5) == expected


def test_load_state_dict_errors():
    p = nn.Parameter(dl.ones(3))
    opt = optim.Adam([p])
    p.sum().backward()
    opt.step()
    sd = opt.state_dict()
    other = optim.Adam([nn.Parameter(dl.ones(4))])
    with pytest.raises(ValueError, match="does not match"):
        other.load_state_dict(sd)
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Adam([{"params": [nn.Parameter(dl.ones(3))]}, {"params": [nn.Parameter(dl.ones(1))]}]).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"foo": 1})


def test_bad_arguments():
    p = nn.Parameter(dl.ones(2))
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="iterable"):
        optim.Adam(p)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="floating-point"):
        optim.SGD([dl.ones(2, dtype=dl.int64)], lr=0.1)
    # The fused update checks what it is given (assigning .grad checks too).
    q = nn.Parameter(dl.ones(2))
    with pytest.raises(ValueError, match=r"shape \(2,\) but its gradient has shape \(3,\)"):
        dl._C._optimizer_step("sgd", {"lr": 0.1}, [q], [dl.ones(3)], [[None]], [1])
    with pytest.raises(TypeError, match="float64"):
        dl._C._optimizer_step("sgd", {"lr": 0.1}, [q], [dl.ones(2, dtype=dl.float64)], [[None]], [1])
    with pytest.raises(ValueError, match="unknown hyperparameter 'lrr'"):
        dl._C._optimizer_step("sgd", {"lrr": 0.1}, [q], [dl.ones(2)], [[None]], [1])
    with pytest.raises(ValueError, match="has no optimizer state"):
        dl._C._optimizer_step("adam", {"lr": 0.1}, [q], [dl.ones(2)], [[None], [None], [None]], [1])


def test_clip_grad_norm_scales_to_max_norm_and_returns_total():
    a, b = nn.Parameter(dl.zeros(3)), nn.Parameter(dl.zeros(2))
    a.grad, b.grad = dl.tensor([3.0, 0.0, 4.0]), dl.tensor([0.0, 12.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.3)
    assert math.isclose(total.item(), 13.0, rel_tol=1e-6)
    np.testing.assert_allclose(a.grad.numpy(), np.array([3.0, 0.0, 4.0]) * 1.3 / (13.0 + 1e-6), rtol=1e-6)
    total_inf = nn.utils.clip_grad_norm_([a, b], max_norm=100.0, norm_type=math.inf)
    assert math.isclose(total_inf.item(), 12.0 * 1.3 / 13.0, rel_tol=1e-5)
    a.grad = dl.tensor([float("nan"), 1.0, 1.0])
    with pytest.raises(RuntimeError, match="nan"):
        nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_and_l1_penalty():
    p = nn.Parameter(dl.tensor([-2.0, 0.5, 3.0]))
    p.grad = dl.tensor([-5.0, 0.2, 7.0])
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_allclose(p.grad.numpy(), [-1.0, 0.2, 1.0])
    p.grad = None
    penalty = nn.utils.l1_penalty([p], weight=0.1)
    assert math.isclose(penalty.item(), 0.55, rel_tol=1e-6)
    penalty.backward()
    np.testing.assert_allclose(p.grad.numpy(), [-0.1, 0.1, 0.1], rtol=1e-6)


def steps_match_reference(p, opt, r, steps, rng):
    """Steps opt and the reference optimizer r with the same random gradients, checking
    the parameter against the reference after each step."""
    want = p.detach().numpy().copy()
    for _ in range(steps):
        g = rng.normal(size=want.shape)
        p.grad = dl.tensor(g)
        opt.step()
        want = r.step(want, g)
        np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), ()])
@pytest.mark.parametrize("kw", [dict(), dict(lr=0.05, d=1.5, weight_decay=0.1, eps=(1e-10, 1e-2))])
def test_adafactor_factored_second_moment(shape, kw, rng):
    """Matrices (and batches of them: the last two dims) keep row and column means of g^2;
    a scalar keeps g^2 itself. Random gradients over 6 steps against the reference."""
    p0 = rng.normal(size=shape)
    p = nn.Parameter(dl.tensor(p0))
    opt = optim.Adafactor([p], **kw)
    steps_match_reference(p, opt, ref.Adafactor(**kw), 6, rng)
    st = opt.state[id(p)]
    if len(shape) > 1:
        assert tuple(st["row_var"].shape) == shape[:-1] + (1,)
        assert tuple(st["col_var"].shape) == shape[:-2] + (1, shape[-1])
        assert "variance" not in st
    again = optim.Adafactor([nn.Parameter(dl.tensor(p0))], **kw)
    again.load_state_dict(opt.state_dict())
    assert again.state_dict()["state"][0].keys() == opt.state_dict()["state"][0].keys()
    with pytest.raises(ValueError, match="beta2_decay should be <= 0"):
        optim.Adafactor([p], beta2_decay=0.5)
    with pytest.raises(ValueError, match="Clipping threshold d should be >= 1"):
        optim.Adafactor([p], d=0.5)



@pytest.mark.parametrize("shape, kw", [
    ((6, 4), {}),
    ((4, 7), dict(nesterov=False, weight_decay=0.0)),
    ((5, 5), dict(adjust_lr_fn="match_rms_adamw", lr=0.02, momentum=0.9)),
    ((3, 8), dict(adjust_lr_fn="original", ns_steps=2, ns_coefficients=(2.0, -1.5, 0.5))),
], ids=str)
def test_muon_against_the_equations(shape, kw, rng):
    p0 = rng.normal(size=shape)
    p = nn.Parameter(dl.tensor(p0))
    opt = optim.Muon([p], **kw)
    steps_match_reference(p, opt, ref.Muon(**kw), 5, rng)
    again = optim.Muon([nn.Parameter(dl.tensor(p0))], **kw)
    again.load_state_dict(opt.state_dict())
    np.testing.assert_array_equal(again.state[id(again.param_groups[0]["params"][0])]["momentum_buffer"].numpy(),
                                  opt.state[id(p)]["momentum_buffer"].numpy())


def test_muon_update_is_nearly_orthogonal(rng):
    # Five steps of the default coefficients put every singular value of the update near 1
    # (their fixed point band is roughly 0.7 to 1.2), whatever the gradient's spectrum.
    g = rng.normal(size=(12, 40)) @ np.diag(np.logspace(-2, 1, 40))
    p = nn.Parameter(dl.zeros(12, 40, dtype=dl.float64))
    opt = optim.Muon([p], lr=1.0, weight_decay=0.0, momentum=0.0)
    p.grad = dl.tensor(g)
    opt.step()
    s = np.linalg.svd(-p.detach().numpy(), compute_uv=False)
    assert s.min() > 0.6 and s.max() < 1.25, s


def test_muon_errors():
    w = nn.Parameter(dl.zeros(3, 4))
    with pytest.raises(ValueError, match="Muon only supports 2D parameters .* \\(3,\\)"):
        optim.Muon([w, nn.Parameter(dl.zeros(3))])
    with pytest.raises(ValueError, match="Adjust learning rate function x is not supported"):
        optim.Muon([w], adjust_lr_fn="x")
    with pytest.raises(ValueError, match="ns_steps"):
        optim.Muon([w], ns_steps=100)
    with pytest.raises(ValueError, match="Learning rate should be >= 0"):
        optim.Muon([w], lr=-1.0)
    with pytest.raises(ValueError, match="weight decay should be >= 0"):
        optim.Muon([w], weight_decay=-0.1)
    with pytest.raises(ValueError, match="three numbers"):
        optim.Muon([w], ns_coefficients=(1.0, 2.0))


def test_optimizers_take_named_parameters():
    model = nn.Linear(3, 2)
    opt = optim.SGD(model.named_parameters(), lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert opt.param_groups[0]["params"][0] is model.weight
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    opt = optim.AdamW([{"params": model.named_parameters(), "lr": 0.01}])
    assert opt.param_groups[0]["param_names"] == ["weight", "bias"] and opt.param_groups[0]["lr"] == 0.01
    x = dl.randn(4, 3)
    model(x).sum().backward()
    before = model.weight.detach().numpy().copy()
    opt.step()
    assert not np.array_equal(model.weight.detach().numpy(), before)
    with pytest.raises(ValueError, match="Some param names are missing"):
        optim.SGD([("a", nn.Parameter(dl.zeros(2))), nn.Parameter(dl.zeros(2))], lr=0.1)
