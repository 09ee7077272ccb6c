"""Random draws with PyTorch's names, from uniform numbers of dlcore's generators (the
default one, or ``generator=``, so ``manual_seed`` makes them reproducible): bernoulli,
randint_like, and the in-place Tensor fills uniform_ and normal_ (nn.init's), bernoulli_,
random_, exponential_, cauchy_, log_normal_, geometric_ (inverse-CDF transforms of rand)."""
import math

from . import _C
from .creation import rand, randint

Tensor = _C.Tensor


def _uniform_like(t, generator=None, dtype=None):
    dtype = dtype or (t.dtype if t.dtype.is_floating_point else _C.dtype.float64)
    return rand(*tuple(t.shape), dtype=dtype, generator=generator)


def bernoulli(input, p=None, *, generator=None):
    """0 or 1 per element, 1 with probability ``input`` (or ``p``), in input's dtype."""
    probs = input if p is None else p
    if isinstance(probs, Tensor):
        if probs.numel() and ((probs < 0).any().item() or (probs > 1).any().item() or
                              (probs != probs).any().item()):
            raise ValueError("bernoulli: probabilities must be in [0, 1]")
    elif not 0.0 <= probs <= 1.0:
        raise ValueError(f"bernoulli: p must be in [0, 1], got {probs}")
    u = _uniform_like(input, generator, _C.dtype.float64)
    return (u < probs).to(input.dtype if input.dtype.is_floating_point else _C.dtype.float32)


def randint_like(input, low=0, high=None, *, dtype=None, generator=None):
    """Integers in [low, high) shaped like ``input`` (``randint_like(x, high)`` too)."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, generator=generator)


def _fill(t, values):
    from .nn import init  # imported here: dlcore.nn is imported after this module

    return init._fill(t, values)


def _uniform_(self, a=0.0, b=1.0, *, generator=None):
    from .nn import init

    return init.uniform_(self, a, b, generator=generator)


def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    from .nn import init

    return init.normal_(self, mean, std, generator=generator)


def _bernoulli_(self, p=0.5, *, generator=None):
    return _fill(self, bernoulli(self, p, generator=generator))


def _random_(self, from_=0, to=None, *, generator=None):
    """Integers in [from, to) (to = 2^24 for float32, 2^53 for float64, the dtype's max + 1
    for integers, when not given)."""
    if to is None:
        to = {_C.dtype.float32: 2 ** 24, _C.dtype.float64: 2 ** 53, _C.dtype.int32: 2 ** 31,
              _C.dtype.int64: 2 ** 63 - 1}.get(self.dtype, 2)
    return _fill(self, randint(from_, to, tuple(self.shape), dtype=self.dtype, generator=generator))


def _exponential_(self, lambd=1.0, *, generator=None):
    if not lambd > 0:
        raise ValueError(f"exponential_: lambd must be positive, got {lambd}")
    u = _uniform_like(self, generator)
    return _fill(self, -(-u).log1p() / lambd)  # u in [0, 1): 1 - u in (0, 1]


def _cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    u = _uniform_like(self, generator)
    return _fill(self, median + sigma * (math.pi * (u - 0.5)).sin() / (math.pi * (u - 0.5)).cos())


def _log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    from .creation import normal

    return _fill(self, normal(mean, std, tuple(self.shape), generator=generator, dtype=self.dtype).exp())


def _geometric_(self, p, *, generator=None):
    """The number of trials up to the first success (1, 2, ...), success probability p."""
    if not 0 < p <= 1:
        raise ValueError(f"geometric_: p must be in (0, 1], got {p}")
    if p == 1:
        return _fill(self, 1)
    u = _uniform_like(self, generator, _C.dtype.float64)
    return _fill(self, ((-u).log1p() / math.log1p(-p)).ceil().clamp(min=1.0))


Tensor.uniform_ = _uniform_
Tensor.normal_ = _normal_
Tensor.bernoulli = bernoulli
Tensor.bernoulli_ = _bernoulli_
Tensor.random_ = _random_
Tensor.exponential_ = _exponential_
Tensor.cauchy_ = _cauchy_
Tensor.log_normal_ = _log_normal_
Tensor.geometric_ = _geometric_
