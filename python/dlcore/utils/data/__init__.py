"""Datasets, samplers and batching (``dlcore.utils.data``), shaped like ``torch.utils.data``:
``Dataset``, ``IterableDataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``,
``ChainDataset``, ``StackDataset``, ``random_split``; the samplers ``SequentialSampler``,
``RandomSampler``, ``SubsetRandomSampler``, ``WeightedRandomSampler``, ``BatchSampler``
and ``DistributedSampler``; ``default_collate``, ``default_convert``; ``DataLoader``.

A DataLoader over a ``TensorDataset`` with the default collate gathers each batch with one
indexing op per tensor (no per-sample Python loop); other datasets are indexed per sample
and collated by stacking.
"""
import bisect
import importlib
import math

import numpy as np

from ... import _C
from ...creation import randint, randperm, tensor as _tensor

Tensor = _C.Tensor


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__``. A DataLoader batches them in the
    order they come (no sampler or shuffle)."""

    def __iter__(self):
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


class ConcatDataset(Dataset):
    """The samples of several map-style datasets, one after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: give at least one dataset")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset: iterable datasets cannot be indexed")
        self.cumulative_sizes, total = [], 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        index %= n
        k = bisect.bisect_right(self.cumulative_sizes, index)
        return self.datasets[k][index - (self.cumulative_sizes[k - 1] if k else 0)]


class ChainDataset(IterableDataset):
    """The samples of several iterable datasets, one stream after another."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset: expected iterable datasets, got {type(d).__name__}")

    def __iter__(self):
        for d in self.datasets:
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class StackDataset(Dataset):
    """Samples that gather one sample of each dataset at the same index: a tuple (datasets
    given by position) or a dict (by keyword). The datasets must have one length."""

    def __init__(self, *args, **kwargs):
        if bool(args) == bool(kwargs):
            raise ValueError("StackDataset: give the datasets either by position or by keyword")
        self.datasets = args if args else kwargs
        lengths = {len(d) for d in (args or kwargs.values())}
        if len(lengths) != 1:
            raise ValueError(f"StackDataset: the datasets' lengths differ: {sorted(lengths)}")
        self._length = lengths.pop()

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self):
        return self._length


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


def default_convert(data):
    """NumPy arrays (and NumPy numbers) to tensors, inside tuples, lists and dicts too; the
    rest as it is. No batching: what a DataLoader with batch_size=None applies."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        return _C.from_numpy(np.ascontiguousarray(data))
    if isinstance(data, np.number):
        return _tensor(data.item())
    if isinstance(data, dict):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple):
        return type(data)(*(default_convert(v) for v in data)) if hasattr(data, "_fields") else \
            tuple(default_convert(v) for v in data)
    if isinstance(data, list):
        return [default_convert(v) for v in data]
    return data


class Sampler:
    """An iterable of dataset indices (subclasses define ``__iter__``, and ``__len__`` where
    the count is known)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


def _count(value, name, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name}: {what} must be a positive int, got {value!r}")
    return int(value)


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """The indices of ``data_source`` in a random order (a fresh permutation each epoch), or
    ``num_samples`` indices drawn with ``replacement``; from dlcore's default generator or
    ``generator``. Without replacement, more samples than the dataset holds come from
    successive permutations."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement must be a bool, got {replacement!r}")
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = None if num_samples is None else _count(num_samples, "RandomSampler", "num_samples")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n, want = len(self.data_source), self.num_samples
        if n == 0:
            return iter([])
        if self.replacement:
            return iter(randint(0, n, (want,), generator=self.generator).tolist())
        out = []
        while len(out) < want:
            out += randperm(n, generator=self.generator).tolist()
        return iter(out[:want])

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = list(indices), generator

    def __iter__(self):
        return iter([self.indices[i] for i in randperm(len(self.indices), generator=self.generator).tolist()])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (with or
    without replacement), through ``dlcore.multinomial``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"WeightedRandomSampler: replacement must be a bool, got {replacement!r}")
        w = weights.detach().numpy() if isinstance(weights, Tensor) else np.asarray(weights)
        if w.ndim != 1:
            raise ValueError(f"WeightedRandomSampler: weights must be 1-D, got shape {w.shape}")
        self.weights = _C.from_numpy(np.ascontiguousarray(w, dtype=np.float64))
        self.num_samples = _count(num_samples, "WeightedRandomSampler", "num_samples")
        self.replacement, self.generator = replacement, generator

    def __iter__(self):
        draws = _C.multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        return iter(draws.tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(drop_last, bool):
            raise TypeError(f"BatchSampler: drop_last must be a bool, got {drop_last!r}")
        self.sampler, self.drop_last = sampler, drop_last
        self.batch_size = _count(batch_size, "BatchSampler", "batch_size")

    def __iter__(self):
        batch = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class DistributedSampler(Sampler):
    """The share of the dataset's indices for replica ``rank`` of ``num_replicas`` (1 and 0
    by default: one process has everything): every num_replicas-th index from rank, after
    an optional shuffle seeded by seed + epoch (call set_epoch each epoch) and padding with
    the first indices to a multiple of num_replicas (or dropping the rest, drop_last)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        self.num_replicas = 1 if num_replicas is None else _count(num_replicas, "DistributedSampler",
                                                                  "num_replicas")
        self.rank = 0 if rank is None else rank
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"DistributedSampler: rank {self.rank} is out of range for {self.num_replicas} replicas")
        self.dataset, self.shuffle, self.seed, self.drop_last, self.epoch = dataset, shuffle, seed, drop_last, 0
        n = len(dataset)
        self.num_samples = n // self.num_replicas if drop_last else -(-n // self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = _C.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        elif n:
            indices = (indices * (-(-self.total_size // n)))[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples


def get_worker_info():
    """None: dlcore's DataLoader makes its batches in the calling process."""
    return None


class DataLoader:
    """Batches of a dataset, in order, shuffled (from dlcore's default generator, or
    ``generator``, so ``manual_seed`` makes the order reproducible), in the order of a
    ``sampler``, or as the index lists of a ``batch_sampler``. An ``IterableDataset`` is
    batched as it streams. ``batch_size=None`` yields single samples.

    ``for x, y in DataLoader(TensorDataset(X, Y), batch_size=64, shuffle=True): ...``

    Batches are made in this process: ``num_workers``, ``pin_memory``, ``timeout``,
    ``worker_init_fn``, ``prefetch_factor`` and ``persistent_workers`` are accepted for
    PyTorch's signature and change nothing.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 generator=None, *, prefetch_factor=None, persistent_workers=False):
        if batch_size is not None:
            batch_size = _count(batch_size, "DataLoader", "batch_size")
        shuffle = bool(shuffle)
        iterable = isinstance(dataset, IterableDataset)
        if iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader: an IterableDataset takes no shuffle, sampler or batch_sampler")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle are mutually exclusive")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, "
                             "sampler and drop_last")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: drop_last needs a batch_size")
        if sampler is None and not iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_sampler is None and batch_size is not None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, bool(drop_last))
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, bool(drop_last)
        self.shuffle, self.generator = shuffle, generator
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.collate_fn = collate_fn
        self.num_workers = num_workers

    def __len__(self):
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # TypeError where the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler) if self.batch_sampler is not None else len(self.sampler)

    def _collate(self, samples):
        return (self.collate_fn or default_collate)(samples)

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            yield from self._stream()
            return
        if self.batch_sampler is None:  # batch_size=None: one sample at a time
            for i in self.sampler:
                sample = self.dataset[int(i)]
                yield self.collate_fn(sample) if self.collate_fn else sample
            return
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is None
        for idx in self.batch_sampler:
            if fast:
                index = _C.from_numpy(np.ascontiguousarray(np.asarray(idx, dtype=np.int64).reshape(-1)))
                yield tuple(t.index_select(0, index) for t in self.dataset.tensors)
            else:
                yield self._collate([self.dataset[int(i)] for i in idx])

    def _stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample) if self.collate_fn else sample
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self._collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield self._collate(batch)


# PyTorch's submodule paths (torch.utils.data.distributed, ...), bound on the package by the
# import system as each loads.
for _submodule in ("dataloader", "dataset", "distributed", "sampler"):
    importlib.import_module(f"{__name__}.{_submodule}")
