"""``dlcore.utils.data.sampler``: the samplers at the path PyTorch gives them."""
from . import (  # noqa: F401
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
