"""``dlcore.utils.data.dataloader``: DataLoader and the collate functions at the path
PyTorch gives them."""
from . import DataLoader, default_collate, default_convert, get_worker_info  # noqa: F401
