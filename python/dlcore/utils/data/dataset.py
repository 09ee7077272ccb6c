"""``dlcore.utils.data.dataset``: the dataset classes at the path PyTorch gives them."""
from . import (  # noqa: F401
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
