"""Batches of sequences of different lengths, as ``torch.nn.utils.rnn`` has them.

A ``PackedSequence`` holds the steps of a batch sorted by decreasing length and laid out
time-major without padding: ``data`` (sum(lengths), *) and ``batch_sizes[t]``, the number
of sequences longer than t. ``RNN``, ``LSTM`` and ``GRU`` accept one and stop every
sequence at its own length, in their state and their gradients alike.

Everything here is built of differentiable index ops, so gradients flow through packing
and padding.
"""
from collections import namedtuple

import numpy as np

from ... import _C
from ...creation import full


def _index(values):
    return _C.from_numpy(np.ascontiguousarray(values, dtype=np.int64))


def _lengths_array(lengths, op):
    if isinstance(lengths, _C.Tensor):
        if lengths.dtype not in (_C.dtype.int64, _C.dtype.int32):
            raise TypeError(f"{op}: lengths must be an integer tensor or a list of ints, got {lengths.dtype}")
        arr = lengths.numpy().astype(np.int64)
    else:
        arr = np.asarray(lengths)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{op}: lengths must be integers, got {list(lengths)!r}")
        arr = arr.astype(np.int64)
    if arr.ndim != 1:
        raise ValueError(f"{op}: lengths must be 1-D, got shape {arr.shape}")
    return arr


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A packed batch (see the module docstring). ``sorted_indices[k]`` is the batch index of
    the k-th longest sequence, ``unsorted_indices`` its inverse (None when the batch was
    already sorted)."""

    def __new__(cls, data, batch_sizes, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _index(np.argsort(sorted_indices.numpy()))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)


def _rows(batch_sizes, B, cols=None):
    """For every packed step (t, k < batch_sizes[t]) in order, its row t * B + cols[k] of a
    (T, B) time-major grid (cols: the batch column of the k-th longest sequence)."""
    cols = np.arange(B) if cols is None else cols
    if not len(batch_sizes):
        return np.zeros(0, np.int64)
    return np.concatenate([t * B + cols[:n] for t, n in enumerate(batch_sizes)])


def _pack_sorted(x, batch_sizes):
    """Packs x (T, B, *), whose columns are sorted by decreasing length, into packed data."""
    T, B = x.shape[0], x.shape[1]
    flat = x.reshape(T * B, *x.shape[2:])
    return flat.index_select(0, _index(_rows(batch_sizes.numpy(), B)))


def _unpack_sorted(sequence, total_length=None, padding_value=0.0):
    """(padded (T, B, *) in sorted column order, lengths (B) int64) of a PackedSequence."""
    bs = sequence.batch_sizes.numpy().astype(np.int64)
    data = sequence.data
    T = len(bs) if total_length is None else total_length
    B = int(bs[0]) if len(bs) else 0
    feat = tuple(data.shape[1:])
    # Each grid cell reads its packed row, or the extra padding row at the end.
    idx = np.full(T * B, data.shape[0], np.int64)
    idx[_rows(bs, B)] = np.arange(data.shape[0])
    ext = _C.cat([data, full((1, *feat), padding_value, dtype=data.dtype)], 0)
    padded = ext.index_select(0, _index(idx)).reshape(T, B, *feat)
    lengths = (bs[None, :] > np.arange(B)[:, None]).sum(1) if B else np.zeros(0, np.int64)
    return padded, _index(lengths)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch (T, B, *) ((B, T, *) with batch_first) whose sequence b has
    lengths[b] valid steps. With enforce_sorted the lengths must be decreasing; otherwise the
    batch is sorted here and the order restored by the layers and ``pad_packed_sequence``."""
    op = "pack_padded_sequence"
    lens = _lengths_array(lengths, op)
    if input.dim() < 2:
        raise ValueError(f"{op}: expected input of at least 2 dims (T, B, *), got shape {tuple(input.shape)}")
    x = input.transpose(0, 1) if batch_first else input
    T, B = x.shape[0], x.shape[1]
    if lens.shape[0] != B:
        raise ValueError(f"{op}: got {lens.shape[0]} lengths for a batch of {B} (input shape {tuple(input.shape)})")
    if B and lens.min() <= 0:
        raise ValueError(f"{op}: every length must be at least 1, got {lens.tolist()}")
    if B and lens.max() > T:
        raise ValueError(f"{op}: a length of {lens.max()} exceeds the {T} steps of the input "
                         f"(shape {tuple(input.shape)})")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise ValueError(f"{op}: lengths must be sorted in decreasing order when enforce_sorted=True, "
                             f"got {lens.tolist()}; pass enforce_sorted=False to sort them here")
        order = None
    else:
        order = np.argsort(-lens, kind="stable")
    sorted_lens = lens if order is None else lens[order]
    batch_sizes = (sorted_lens[None, :] > np.arange(int(sorted_lens.max()) if B else 0)[:, None]).sum(1)
    rows = _rows(batch_sizes, B, order)
    data = x.reshape(T * B, *x.shape[2:]).index_select(0, _index(rows))
    sorted_indices = None if order is None else _index(order)
    return PackedSequence(data, _index(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of ``pack_padded_sequence``: returns (padded (T, B, *) or (B, T, *),
    lengths (B) int64) in the batch's original order; T = total_length if given."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got {type(sequence).__name__}")
    longest = len(sequence.batch_sizes.numpy())
    if total_length is not None and total_length < longest:
        raise ValueError(f"pad_packed_sequence: total_length={total_length} is shorter than the longest "
                         f"sequence ({longest})")
    padded, lengths = _unpack_sorted(sequence, total_length, padding_value)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths.index_select(0, sequence.unsorted_indices)
    return (padded.transpose(0, 1) if batch_first else padded), lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks tensors of shapes (L_i, *) into (max L, B, *) ((B, max L, *) with batch_first),
    padding with padding_value on the right (or the left)."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: expected a non-empty list of tensors")
    tail = tuple(sequences[0].shape[1:])
    for k, s in enumerate(sequences):
        if s.dim() < 1 or tuple(s.shape[1:]) != tail:
            raise ValueError(f"pad_sequence: sequence {k} has shape {tuple(s.shape)}, expected (L, *{tail})")
    T = max(s.shape[0] for s in sequences)
    cols = []
    for s in sequences:
        n = T - s.shape[0]
        if n:
            pad = full((n, *tail), padding_value, dtype=s.dtype)
            s = _C.cat([s, pad] if padding_side == "right" else [pad, s], 0)
        cols.append(s)
    return _C.stack(cols, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of the batch's sequences, each cut to its length."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[b, :int(n)] for b, n in enumerate(_lengths_array(lengths, "unpad_sequence"))]


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of (L_i, *) tensors."""
    sequences = list(sequences)
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of (L_i, *) tensors of a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
