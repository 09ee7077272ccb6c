"""The PyTorch switches a ported script calls (dlcore.cuda, dlcore.backends, compile,
autocast and GradScaler, deterministic algorithms, matmul precision): what each returns,
that none changes a result, and their errors."""
import warnings

import numpy as np
import pytest

import dlcore as dl
from dlcore import nn


def test_cuda_queries_without_a_device():
    assert dl.cuda.is_available() == dl.config()["cuda"]
    if dl.cuda.is_available():
        pytest.skip("this build has a CUDA device")
    assert dl.cuda.device_count() == 0 and not dl.cuda.is_bf16_supported()
    dl.cuda.empty_cache()
    for call in (dl.cuda.synchronize, dl.cuda.current_device, lambda: dl.cuda.get_device_name(0),
                 lambda: dl.cuda.set_device(0)):
        with pytest.raises(RuntimeError, match="no CUDA device in this dlcore build"):
            call()
    # Seeding CUDA leaves the CPU generator's stream alone.
    dl.manual_seed(3)
    want = dl.rand(5).numpy()
    dl.manual_seed(3)
    dl.cuda.manual_seed(99)
    dl.cuda.manual_seed_all(7)
    np.testing.assert_array_equal(dl.rand(5).numpy(), want)


def test_backend_switches_are_plain_attributes():
    b = dl.backends
    assert not b.cudnn.is_available() and not b.mps.is_available()
    assert b.openmp.is_available() == dl.config()["openmp"]
    old = (b.cudnn.benchmark, b.cudnn.deterministic, b.cuda.matmul.allow_tf32)
    try:
        b.cudnn.benchmark, b.cudnn.deterministic, b.cuda.matmul.allow_tf32 = True, True, True
        assert b.cudnn.benchmark and b.cudnn.deterministic and b.cuda.matmul.allow_tf32
    finally:
        b.cudnn.benchmark, b.cudnn.deterministic, b.cuda.matmul.allow_tf32 = old


def test_compile_returns_what_it_is_given():
    m = nn.Linear(3, 2)
    assert dl.compile(m) is m and dl.compile(m, mode="max-autotune", fullgraph=True) is m

    def f(x):
        return x * 2

    assert dl.compile(f) is f and dl.compile(dynamic=True)(f) is f
    with pytest.raises(TypeError, match="compile: expected a module or function, got int"):
        dl.compile(3)


@pytest.mark.parametrize("make", [lambda: dl.autocast("cpu"), lambda: dl.amp.autocast("cuda", dtype=None),
                                  lambda: dl.cuda.amp.autocast()])
def test_autocast_runs_in_the_tensors_own_dtype_and_says_so(make, rng):
    m = nn.Linear(4, 3)
    x = dl.tensor(rng.normal(size=(5, 4)).astype(np.float32))
    want = m(x).detach().numpy()
    with pytest.warns(UserWarning, match="autocast region runs in the tensors' own dtypes"):
        with make():
            y = m(x)
    assert y.dtype == dl.float32
    np.testing.assert_array_equal(y.detach().numpy(), want)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with dl.autocast("cpu", enabled=False):
            m(x)
        assert not dl.amp.is_autocast_available("cpu")

    @dl.autocast("cpu", enabled=False)
    def run(t):
        return m(t)

    np.testing.assert_array_equal(run(x).detach().numpy(), want)


def test_autocast_bad_arguments():
    with pytest.raises(ValueError, match="autocast: device_type must be one of cpu, cuda"):
        dl.autocast("gpu")
    with pytest.raises(TypeError, match="autocast: enabled must be a bool, got str"):
        dl.autocast("cpu", enabled="yes")


@pytest.mark.parametrize("make", [lambda: dl.amp.GradScaler("cpu"), lambda: dl.cuda.amp.GradScaler(init_scale=1024)])
def test_grad_scaler_is_disabled_and_leaves_the_step_as_it_was(make, rng):
    x = dl.tensor(rng.normal(size=(8, 4)).astype(np.float32))
    y = dl.tensor(rng.normal(size=(8, 2)).astype(np.float32))
    models = []
    for use_scaler in (False, True):
        dl.manual_seed(0)
        m = nn.Linear(4, 2)
        opt = dl.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
        if use_scaler:
            with pytest.warns(UserWarning, match="GradScaler is enabled, but dlcore's gradients"):
                scaler = make()
        for _ in range(3):
            opt.zero_grad()
            loss = ((m(x) - y) ** 2).mean()
            if use_scaler:
                assert scaler.scale(loss) is loss
                scaler.scale(loss).backward()
                scaler.unscale_(opt)
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                opt.step()
        models.append(m)
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert not scaler.is_enabled() and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    scaler.load_state_dict({})
    with pytest.raises(TypeError, match="GradScaler.load_state_dict: expected a dict, got list"):
        scaler.load_state_dict([])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dl.amp.GradScaler(enabled=False)
    with pytest.raises(ValueError, match="GradScaler: needs init_scale > 0"):
        dl.amp.GradScaler(init_scale=0.0, enabled=False)


def test_deterministic_and_matmul_precision_switches():
    try:
        dl.use_deterministic_algorithms(True, warn_only=True)
        assert dl.are_deterministic_algorithms_enabled() and dl.is_deterministic_algorithms_warn_only_enabled()
        dl.set_float32_matmul_precision("high")
        assert dl.get_float32_matmul_precision() == "high"
    finally:
        dl.use_deterministic_algorithms(False)
        dl.set_float32_matmul_precision("highest")
    with pytest.raises(TypeError, match="use_deterministic_algorithms: mode and warn_only must be bools"):
        dl.use_deterministic_algorithms(1)
    with pytest.raises(ValueError, match="precision must be one of highest, high, medium, got 'fast'"):
        dl.set_float32_matmul_precision("fast")
