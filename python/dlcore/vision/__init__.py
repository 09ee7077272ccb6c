"""Image models and classic image filters (``dlcore.vision``)."""
from . import models  # noqa: F401
from .filters import gaussian_blur, mean_filter, median_filter, sobel  # noqa: F401
