"""Learning-rate schedules: the rate sequences against the closed forms in
tests/reference/optim.py, plateau logic, chaining, and state round trips."""
import math

import pytest

import dlcore as dl
from dlcore import nn, optim
from dlcore.optim import lr_scheduler as S
from reference import optim as ref


def make_opt(lr=0.1, groups=1):
    ps = [nn.Parameter(dl.ones(2)) for _ in range(groups)]
    return optim.SGD([{"params": [p], "lr": lr * (i + 1)} for i, p in enumerate(ps)], lr=lr)


def rates(sched, n):
    out = [sched.get_last_lr()]
    for _ in range(n):
        sched.optimizer.step()
        sched.step()
        out.append(sched.get_last_lr())
    return out


CASES = [
    (lambda o: S.StepLR(o, step_size=3, gamma=0.5), lambda b, t: ref.step_lr(b, t, 3, 0.5)),
    (lambda o: S.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
     lambda b, t: ref.multistep_lr(b, t, [2, 5, 5, 9], 0.3)),
    (lambda o: S.ExponentialLR(o, gamma=0.9), lambda b, t: ref.exponential_lr(b, t, 0.9)),
    (lambda o: S.CosineAnnealingLR(o, T_max=7, eta_min=0.01), lambda b, t: ref.cosine_lr(b, t, 7, 0.01)),
    (lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4),
     lambda b, t: ref.linear_lr(b, t, 0.25, 1.0, 4)),
    (lambda o: S.LambdaLR(o, lambda t: 1.0 / (1 + t)), lambda b, t: b / (1 + t)),
    (lambda o: S.ConstantLR(o, factor=0.5, total_iters=4), lambda b, t: ref.constant_lr(b, t, 0.5, 4)),
    (lambda o: S.PolynomialLR(o, total_iters=8, power=2.0), lambda b, t: ref.polynomial_lr(b, t, 8, 2.0)),
    (lambda o: S.MultiplicativeLR(o, lambda t: 0.9 if t % 2 else 0.5),
     lambda b, t: b * math.prod(0.9 if i % 2 else 0.5 for i in range(1, t + 1))),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, eta_min=0.01),
     lambda b, t: ref.warm_restarts_lr(b, t, 3, 1, 0.01)),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2), lambda b, t: ref.warm_restarts_lr(b, t, 2, 2, 0.0)),
    (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=1, T_mult=3), lambda b, t: ref.warm_restarts_lr(b, t, 1, 3, 0.0)),
]


@pytest.mark.parametrize("make,expected", CASES, ids=["step", "multistep", "exp", "cosine", "linear", "lambda",
                                                      "constant", "polynomial", "multiplicative", "restarts",
                                                      "restarts_mult2", "restarts_mult3"])
def test_sequence_matches_closed_form(make, expected):
    opt = make_opt(groups=2)
    got = rates(make(opt), 12)
    for t, lrs in enumerate(got):
        for base, lr in zip((0.1, 0.2), lrs):
            assert math.isclose(lr, expected(base, t), rel_tol=1e-12, abs_tol=1e-15), (t, lr)
    assert [g["lr"] for g in opt.param_groups] == got[-1]


def test_one_cycle():
    opt = make_opt()
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=20)
    got = [lr[0] for lr in rates(sched, 19)]
    for t, lr in enumerate(got):
        assert math.isclose(lr, ref.one_cycle_lr(t, 1.0, 20), rel_tol=1e-9), t
    sched.step()  # step total_steps is the last one allowed, as in PyTorch
    with pytest.raises(ValueError, match="total_steps"):
        sched.step()


def test_reduce_on_plateau():
    opt = make_opt(lr=1.0)
    sched = S.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    metrics = [5, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3]
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    # Improvements at 5 and 4; three bad epochs (> patience 2) halve the rate; the cooldown
    # epoch does not count; the floor is min_lr.
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]
    for m in [3, 3, 3, 3]:
        sched.step(m)
    assert opt.param_groups[0]["lr"] == 0.2


def test_sequential_lr_switches_at_milestones():
    opt = make_opt(lr=1.0)
    warm = S.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=3)
    decay = S.ExponentialLR(opt, gamma=0.5)
    sched = S.SequentialLR(opt, [warm, decay], milestones=[3])
    got = [lr[0] for lr in rates(sched, 6)]
    want = [ref.linear_lr(1.0, t, 0.1, 1.0, 3) for t in range(3)] + [ref.exponential_lr(1.0, t, 0.5) for t in range(4)]
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(got, want)), (got, want)


def test_state_dict_round_trip():
    opt = make_opt()
    sched = S.StepLR(opt, 2, 0.5)
    rates(sched, 3)
    state = sched.state_dict()
    opt2 = make_opt()
    sched2 = S.StepLR(opt2, 2, 0.5)
    sched2.load_state_dict(state)
    assert rates(sched2, 4) == rates(sched, 4)


def test_bad_arguments():
    opt = make_opt()
    with pytest.raises(ValueError, match="step_size"):
        S.StepLR(opt, 0)
    with pytest.raises(ValueError, match="T_max"):
        S.CosineAnnealingLR(opt, 0)
    with pytest.raises(ValueError, match="total_steps"):
        S.OneCycleLR(opt, 1.0)
    with pytest.raises(ValueError, match="milestones"):
        S.SequentialLR(opt, [S.StepLR(opt, 1)], milestones=[2])


@pytest.mark.parametrize("mode,gamma", [("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.97)])
def test_cyclic_lr_and_its_momentum(mode, gamma):
    p = nn.Parameter(dl.ones(2))
    opt = optim.SGD([p], lr=1.0, momentum=0.9)
    sched = S.CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up=3, step_size_down=2, mode=mode, gamma=gamma,
                       base_momentum=0.8, max_momentum=0.95)
    for t, lrs in enumerate(rates(sched, 14)):
        assert math.isclose(lrs[0], ref.cyclic_lr(0.01, 0.1, t, 3, 2, mode, gamma), rel_tol=1e-12), (t, lrs)
        amp = ref.cyclic_lr(0.0, 1.0, t, 3, 2, mode, gamma)
        if t == 14:
            assert math.isclose(opt.param_groups[0]["momentum"], 0.95 - 0.15 * amp, rel_tol=1e-12)
    adam = optim.Adam([nn.Parameter(dl.ones(2))], lr=1.0, betas=(0.9, 0.99))
    S.CyclicLR(adam, 0.001, 0.01, step_size_up=4, base_momentum=0.85, max_momentum=0.95).step()
    assert math.isclose(adam.param_groups[0]["betas"][0], 0.95 - 0.10 * 0.25, rel_tol=1e-12)
    assert adam.param_groups[0]["betas"][1] == 0.99
    with pytest.raises(ValueError, match="cycle_momentum needs an optimizer with momentum or betas"):
        S.CyclicLR(optim.Adagrad([nn.Parameter(dl.ones(1))]), 0.01, 0.1)


def test_chained_scheduler_composes_factors():
    opt = make_opt()
    chain = S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=2), S.ExponentialLR(opt, gamma=0.9)])
    got = [chain.get_last_lr()[0]]
    for _ in range(4):
        opt.step()
        chain.step()
        got.append(chain.get_last_lr()[0])
    want = [0.1 * 0.5, 0.1 * 0.5 * 0.9, 0.1 * 0.9 ** 2, 0.1 * 0.9 ** 3, 0.1 * 0.9 ** 4]
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(got, want)), got
    # A multiplicative schedule in a chain multiplies its own rate, not the chained one.
    opt = make_opt()
    chain = S.ChainedScheduler([S.MultiplicativeLR(opt, lambda t: 0.5), S.StepLR(opt, step_size=2, gamma=0.1)])
    for _ in range(3):
        chain.step()
    assert math.isclose(chain.get_last_lr()[0], 0.1 * 0.5 ** 3 * 0.1, rel_tol=1e-12)


def test_warm_restarts_take_fractional_epochs():
    opt = make_opt()
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2)
    for epoch in (0.5, 3.75, 4.0, 5.5, 11.9, 12.0):
        sched.step(epoch)
        assert math.isclose(sched.get_last_lr()[0], ref.warm_restarts_lr(0.1, epoch, 4, 2, 0.0), rel_tol=1e-12)
    with pytest.raises(ValueError, match="T_mult must be an int >= 1"):
        S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=0)
