"""optim.swa_utils (AveragedModel, SWALR, update_bn) against NumPy: averages of weights
over a sequence of models, exponential moving averages, the annealed rates, recomputed
batch-norm statistics; and the errors of it and of Rprop."""
import math

import numpy as np
import pytest

import dlcore as dl
from dlcore import nn, optim
from dlcore.optim import swa_utils


def snapshot(model):
    return [p.detach().numpy().copy() for p in model.parameters()]


def perturbed(model, rng):
    with dl.no_grad():
        for p in model.parameters():
            p.add_(dl.tensor(rng.normal(size=tuple(p.shape)).astype(np.float32)))
    return model


def test_averaged_model_running_mean_and_ema(rng):
    dl.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    swa = swa_utils.AveragedModel(model)
    ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9))
    ema1 = swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(0.9))
    seen = []
    for _ in range(4):
        perturbed(model, rng)
        model.train()(dl.randn(5, 3))  # moves the batch norm's running statistics
        seen.append(snapshot(model))
        for m in (swa, ema, ema1):
            m.update_parameters(model)
    for got, *versions in zip(snapshot(swa), *seen):
        np.testing.assert_allclose(got, np.mean(versions, 0), rtol=1e-6, atol=1e-6)
    for k, got in enumerate(snapshot(ema)):
        want = seen[0][k]
        for v in seen[1:]:
            want = 0.9 * want + 0.1 * v[k]
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(snapshot(ema1)[k], want, rtol=1e-6, atol=1e-6)
    assert swa.n_averaged.item() == 4
    # Without use_buffers the running statistics are the latest model's.
    np.testing.assert_array_equal(swa.module[1].running_mean.numpy(), model[1].running_mean.numpy())
    x = dl.randn(2, 3)
    swa.eval()
    np.testing.assert_array_equal(swa(x).detach().numpy(), swa.module(x).detach().numpy())


def test_averaged_model_with_buffers(rng):
    model = nn.BatchNorm1d(3)
    avg = swa_utils.AveragedModel(model, use_buffers=True)
    means = []
    for _ in range(3):
        model.train()(dl.tensor(rng.normal(size=(6, 3)).astype(np.float32)))
        means.append(model.running_mean.numpy().copy())
        avg.update_parameters(model)
    np.testing.assert_allclose(avg.module.running_mean.numpy(), np.mean(means, 0), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="AveragedModel: give avg_fn or multi_avg_fn, not both"):
        swa_utils.AveragedModel(model, avg_fn=swa_utils.get_swa_avg_fn(),
                                multi_avg_fn=swa_utils.get_swa_multi_avg_fn())


def test_update_bn_recomputes_statistics(rng):
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3, momentum=0.3))
    model[1].running_mean.fill_(5.0)
    batches = [dl.tensor(rng.normal(size=(8, 2)).astype(np.float32)) for _ in range(4)]
    model.eval()
    swa_utils.update_bn([(b, 0) for b in batches], model)
    hidden = [model[0](b).detach().numpy().astype(np.float64) for b in batches]
    np.testing.assert_allclose(model[1].running_mean.numpy(), np.mean([h.mean(0) for h in hidden], 0), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(model[1].running_var.numpy(), np.mean([h.var(0, ddof=1) for h in hidden], 0),
                               rtol=1e-5, atol=1e-6)
    assert model[1].momentum == 0.3 and not model.training


@pytest.mark.parametrize("strategy", ["linear", "cos"])
def test_swalr_anneals_to_the_swa_rate(strategy):
    p = nn.Parameter(dl.zeros(1))
    opt = optim.SGD([{"params": [p]}, {"params": [nn.Parameter(dl.zeros(1))], "lr": 0.5}], lr=1.0)
    sched = swa_utils.SWALR(opt, swa_lr=[0.1, 0.2], anneal_epochs=4, anneal_strategy=strategy)
    for t in range(7):
        frac = min(1.0, t / 4)
        alpha = frac if strategy == "linear" else (1 - math.cos(math.pi * frac)) / 2
        want = [0.1 * alpha + 1.0 * (1 - alpha), 0.2 * alpha + 0.5 * (1 - alpha)]
        np.testing.assert_allclose(sched.get_last_lr(), want, rtol=1e-12)
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="SWALR: anneal_strategy must be 'cos' or 'linear', got 'step'"):
        swa_utils.SWALR(opt, 0.1, anneal_strategy="step")
    with pytest.raises(ValueError, match="SWALR: expected 2 swa_lr values, got 3"):
        swa_utils.SWALR(opt, [0.1, 0.2, 0.3])


def test_rprop_and_asgd_arguments():
    p = nn.Parameter(dl.zeros(2))
    with pytest.raises(ValueError, match="Invalid eta values: 1.5, 1.2"):
        optim.Rprop([p], etas=(1.5, 1.2))
    opt = optim.ASGD([p], lr=0.1)
    p.grad = dl.ones(2)
    opt.step()
    st = opt.state_dict()["state"][0]
    assert st["step"] == 1 and set(st) == {"step", "ax", "eta", "mu"}
