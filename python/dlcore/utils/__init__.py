"""Data loading (``dlcore.utils.data``) and a progress bar (``dlcore.utils.progress``)."""
from . import data, image, progress  # noqa: F401
