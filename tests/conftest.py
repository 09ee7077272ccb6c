import os

import numpy as np
import pytest

import dlcore

# Hypothesis runs few examples here: the suite must stay fast on 2 cores.
try:
    from hypothesis import settings

    settings.register_profile("dlcore", max_examples=40, deadline=None)
    settings.load_profile("dlcore")
except ImportError:  # pragma: no cover
    pass


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


ISAS = dlcore.config()["available_isas"]


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs a test once per instruction set this CPU supports, then restores the default."""
    default = dlcore._C._active_isa()
    dlcore._C._set_isa(request.param)
    yield request.param
    dlcore._C._set_isa(default)


@pytest.fixture
def threads():
    n = dlcore.get_num_threads()
    yield
    dlcore.set_num_threads(n)


def pytest_report_header(config):
    return f"dlcore {dlcore.config()} (DLCORE_ISA={os.environ.get('DLCORE_ISA', '')})"
