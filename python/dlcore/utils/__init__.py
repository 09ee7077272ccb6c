"""Data loading (``dlcore.utils.data``), a progress bar (``dlcore.utils.progress``) and
activation checkpointing (``dlcore.utils.checkpoint``)."""
from . import checkpoint, data, image, progress  # noqa: F401
