"""Datasets and batching (``dlcore.utils.data``): ``Dataset``, ``TensorDataset``, ``Subset``,
``random_split`` and ``DataLoader``, shaped like ``torch.utils.data``.

A DataLoader over a ``TensorDataset`` with the default collate gathers each batch with one
indexing op per tensor (no per-sample Python loop); other datasets are indexed per sample
and collated by stacking.
"""
import math

import numpy as np

from .. import _C
from ..creation import randperm, tensor as _tensor

Tensor = _C.Tensor


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class TensorDataset(Dataset):
    """Samples are rows of tensors sharing their first dim: ``ds[i] = (t[i] for t in tensors)``."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        n = tensors[0].shape[0] if tensors[0].ndim else None
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: expected dlcore Tensors, got {type(t).__name__}")
            if t.ndim == 0 or t.shape[0] != n:
                raise ValueError("TensorDataset: all tensors must have the same size in dim 0, got shapes "
                                 + ", ".join(str(tuple(x.shape)) for x in tensors))
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray, Tensor)):
            return self.dataset[[self.indices[int(i)] for i in np.asarray(index).reshape(-1)]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Splits into non-overlapping random Subsets of the given lengths (ints summing to the
    dataset's length, or fractions summing to 1)."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1.0 + 1e-9:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(x, (int, np.integer)) or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative ints (or fractions summing to 1), "
                         f"got {list(lengths)}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {list(lengths)} do not sum to the dataset's length {n}")
    perm = randperm(n, generator=generator).numpy().tolist()
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[start:start + length]))
        start += length
    return out


def default_collate(batch):
    """Stacks a list of samples: tensors with ``stack``, numbers into a tensor, and tuples,
    lists and dicts element by element."""
    if len(batch) == 0:
        raise ValueError("default_collate: the batch is empty")
    first = batch[0]
    if isinstance(first, Tensor):
        return _C.stack(list(batch), 0)
    if isinstance(first, (int, float, bool, np.number)):
        return _tensor(list(batch))
    if isinstance(first, np.ndarray):
        return _C.from_numpy(np.stack(batch))
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(b) != len(first) for b in batch):
            raise ValueError("default_collate: samples in a batch have different numbers of fields")
        return type(first)(default_collate(list(f)) for f in zip(*batch)) if isinstance(first, tuple) \
            else [default_collate(list(f)) for f in zip(*batch)]
    return list(batch)


class DataLoader:
    """Batches of a dataset, in order or shuffled (from dlcore's default generator, or
    ``generator``, so ``manual_seed`` makes the order reproducible).

    ``for x, y in DataLoader(TensorDataset(X, Y), batch_size=64, shuffle=True): ...``
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None, generator=None,
                 sampler=None, num_workers=0):
        if batch_size is None or isinstance(batch_size, bool) or int(batch_size) < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle are mutually exclusive")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = shuffle, drop_last
        self.collate_fn = collate_fn
        self.generator, self.sampler = generator, sampler
        self.num_workers = num_workers  # accepted for compatibility; batches are made in this process

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if self.sampler is not None:
            return np.asarray(list(self.sampler), dtype=np.int64)
        if self.shuffle:
            return randperm(n, generator=self.generator).numpy()
        return np.arange(n, dtype=np.int64)

    def __iter__(self):
        order = self._order()
        n, bs = len(order), self.batch_size
        stop = n - n % bs if self.drop_last else n
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is None
        for start in range(0, stop, bs):
            idx = order[start:start + bs]
            if fast:
                index = _C.from_numpy(np.ascontiguousarray(idx))
                yield tuple(t.index_select(0, index) for t in self.dataset.tensors)
            else:
                samples = [self.dataset[int(i)] for i in idx]
                yield (self.collate_fn or default_collate)(samples)
