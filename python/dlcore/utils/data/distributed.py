"""``dlcore.utils.data.distributed``: DistributedSampler at the path PyTorch gives it."""
from . import DistributedSampler  # noqa: F401
