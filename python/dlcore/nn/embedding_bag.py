"""``EmbeddingBag`` / ``embedding_bag``: sums, means or maxima of bags of embedding rows
without the (bags x length x dim) rows of a plain Embedding being kept by the caller. The
rows are gathered into a (bags, longest bag, dim) block (zeros, or -inf for max, past each
bag's end) and reduced along the bag: compositions of index_select, where and the
reductions, which carry the gradient to the rows used."""
import numpy as np

from .. import _C
from ..creation import empty, tensor, zeros
from . import init
from .module import Module, Parameter

_MODES = ("sum", "mean", "max")


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                  mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                  padding_idx=None):
    """Bags of rows of ``weight`` reduced by ``mode``: a 2-D ``input`` is one bag per row; a
    1-D one is cut into bags where ``offsets`` (1-D, starting at 0) say. ``per_sample_weights``
    (input's shape) scale the rows, with mode='sum' only. Entries equal to ``padding_idx``
    take no part (nor in a mean's count); an empty bag gives zeros."""
    if mode not in _MODES:
        raise ValueError(f"embedding_bag: mode must be one of {_MODES}, got {mode!r}")
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise ValueError("embedding_bag: max_norm, scale_grad_by_freq and sparse are not supported")
    if input.dtype not in (_C.dtype.int64, _C.dtype.int32):
        raise TypeError(f"embedding_bag: indices must be int64 or int32, got {input.dtype!r}")
    if weight.ndim != 2:
        raise ValueError(f"embedding_bag: weight must be 2-D, got shape {tuple(weight.shape)}")
    if per_sample_weights is not None:
        if mode != "sum":
            raise ValueError(f"embedding_bag: per_sample_weights is only supported with mode='sum', got {mode!r}")
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(f"embedding_bag: per_sample_weights of shape {tuple(per_sample_weights.shape)} does "
                             f"not match input of shape {tuple(input.shape)}")
    num, dim = weight.shape
    idx = input.to(_C.dtype.int64).numpy()
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: offsets must be None for a 2-D input (each row is a bag)")
        bags, length = idx.shape
        starts = np.arange(bags, dtype=np.int64) * length
        lengths = np.full(bags, length, dtype=np.int64)
        flat = idx.reshape(-1)
    elif input.ndim == 1:
        if offsets is None or offsets.ndim != 1:
            raise ValueError("embedding_bag: a 1-D input needs 1-D offsets")
        off = offsets.to(_C.dtype.int64).numpy()
        n = idx.shape[0]
        if off.size == 0 or off[0] != 0 or np.any(np.diff(off) < 0) or off[-1] > n:
            raise ValueError(f"embedding_bag: offsets must start at 0 and not decrease up to the input's length "
                             f"{n}, got {off.tolist()}")
        ends = off[1:] if include_last_offset else np.append(off[1:], n)
        starts = off[:-1] if include_last_offset else off
        lengths = ends - starts
        bags, flat = starts.shape[0], idx
    else:
        raise ValueError(f"embedding_bag: expected a 1-D or 2-D input, got shape {tuple(input.shape)}")
    if flat.size and (flat.min() < 0 or flat.max() >= num):
        bad = int(flat.min()) if flat.min() < 0 else int(flat.max())
        raise IndexError(f"embedding_bag: index {bad} is out of range for {num} embeddings")
    used = np.ones(flat.shape, bool) if padding_idx is None else flat != (padding_idx % num)
    longest = int(lengths.max()) if bags else 0
    # Position l of bag b reads entry starts[b] + l where l < lengths[b] (and the entry is
    # used); other places read row 0 and are masked.
    pos = starts[:, None] + np.arange(longest)[None, :]
    valid = np.arange(longest)[None, :] < lengths[:, None]
    entry = np.where(valid, pos, 0)
    valid &= used[entry] if flat.size else valid
    rows = weight.index_select(0, tensor(flat[entry].reshape(-1) if flat.size else np.zeros(0, np.int64)))
    rows = rows.reshape(bags, longest, dim)
    if per_sample_weights is not None:
        w = per_sample_weights.reshape(-1).index_select(0, tensor(entry.reshape(-1)))
        rows = rows * w.reshape(bags, longest, 1)
    mask = tensor(valid).unsqueeze(-1)
    if mode == "max":
        out = _C.where(mask, rows, float("-inf")).amax(1) if longest else zeros(bags, dim, dtype=weight.dtype)
        return _C.where(tensor(valid.any(1)).unsqueeze(-1), out, 0.0)
    total = _C.where(mask, rows, 0.0).sum(1)
    if mode == "sum":
        return total
    count = np.maximum(valid.sum(1), 1).astype(np.float64)
    return total / tensor(count[:, None]).to(weight.dtype)


class EmbeddingBag(Module):
    """A table of ``num_embeddings`` rows (``weight``, initialised N(0, 1), the padding row
    zeroed) whose forward(input, offsets=None, per_sample_weights=None) reduces bags of
    rows by ``mode`` ('mean' by default): see functional.embedding_bag."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None,
                 dtype=None):
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"EmbeddingBag: mode must be one of {_MODES}, got {mode!r}")
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"EmbeddingBag: padding_idx {padding_idx} is out of range for {num_embeddings} "
                             "embeddings")
        self.num_embeddings, self.embedding_dim, self.mode = num_embeddings, embedding_dim, mode
        self.include_last_offset = include_last_offset
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        if _weight is not None:
            self.weight = Parameter(_weight)
        else:
            self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype or _C._get_default_dtype()))
            init.normal_(self.weight)
            if self.padding_idx is not None:
                with _no_grad():
                    self.weight[self.padding_idx] = 0.0

    def forward(self, input, offsets=None, per_sample_weights=None):
        return embedding_bag(input, self.weight, offsets, mode=self.mode, per_sample_weights=per_sample_weights,
                             include_last_offset=self.include_last_offset, padding_idx=self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


def _no_grad():
    from ..grad_mode import no_grad
    return no_grad()
