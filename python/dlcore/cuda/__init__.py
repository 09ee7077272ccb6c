"""``dlcore.cuda``: what a script asks about CUDA before choosing its device.

``is_available()`` says whether this build has a usable CUDA device (never, in a build
without the CUDA backend); seeding is ignored without one, as in PyTorch, and calls that need
a device raise RuntimeError.
"""
from .. import _C
from . import amp  # noqa: F401


def is_available():
    return bool(_C._cuda_available())


def device_count():
    return 1 if is_available() else 0


def is_bf16_supported(including_emulation=True):
    return False


def manual_seed(seed):
    """Ignored: there is no CUDA generator without a device (the CPU generator is
    untouched)."""
    int(seed)


manual_seed_all = manual_seed


def empty_cache():
    pass


def _no_device(name):
    raise RuntimeError(f"dlcore.cuda.{name}: no CUDA device in this dlcore build "
                       "(dlcore.cuda.is_available() is False); use the 'cpu' device")


def synchronize(device=None):
    _no_device("synchronize")


def current_device():
    _no_device("current_device")


def get_device_name(device=None):
    _no_device("get_device_name")


def set_device(device):
    _no_device("set_device")
