"""The default random generator's seed and state, as torch.random offers them.

``dlcore.manual_seed``, ``seed``, ``initial_seed``, ``get_rng_state`` and
``set_rng_state`` are these functions; ``dlcore.default_generator`` is the generator
they act on (every random op without a ``generator=`` argument draws from it).
"""
import contextlib
import os

from . import _C

default_generator = _C.default_generator()

_SEED_LOW, _SEED_END = -(1 << 63), 1 << 64


def manual_seed(seed):
    """Seeds the default generator and returns it. Any int from -2^63 to 2^64 - 1 is a
    seed; a negative one is taken modulo 2^64 (-1 seeds as 2^64 - 1), as PyTorch does."""
    try:
        value = int(seed)
    except (TypeError, ValueError):
        raise TypeError(f"manual_seed(): the seed must be an int, got {seed!r}") from None
    if not _SEED_LOW <= value < _SEED_END:
        raise ValueError(f"manual_seed(): the seed {value} is outside [-2**63, 2**64 - 1]")
    _C.manual_seed(value % _SEED_END)
    return default_generator


def seed():
    """Seeds the default generator from the operating system's entropy and returns the
    seed (a 63-bit int)."""
    value = int.from_bytes(os.urandom(8), "little") >> 1
    manual_seed(value)
    return value


def initial_seed():
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


get_rng_state = _C.get_rng_state
set_rng_state = _C.set_rng_state


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, device_type=None):
    """Saves the default generator's state on entry and restores it on exit, so the
    random numbers drawn inside do not change those drawn after. devices and device_type
    are accepted for PyTorch's signature (they name accelerators' generators; dlcore's is
    the CPU's, which PyTorch forks too); enabled=False does nothing."""
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
