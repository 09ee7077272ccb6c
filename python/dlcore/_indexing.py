"""Writes by index with PyTorch's names, composed from scatter_add, gather and where:
scatter (and scatter_), index_fill (and index_fill_), take, fill_diagonal_. Gradients
flow to the input where it is kept and to the scattered source where it lands."""
import builtins

from . import _C

Tensor = _C.Tensor


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``input`` with ``src[i][j]...`` (or the number ``value``) written at position
    ``index[i][j]...`` along ``dim`` (a copy). An index named twice is written once with
    the sum of its sources' values (PyTorch leaves it unspecified which one wins); use
    unique indices. ``reduce='add'`` adds instead of writing (scatter_add)."""
    if src is None and value is None:
        raise ValueError("scatter: give src (a tensor) or value (a number)")
    if not isinstance(src, Tensor):
        value, src = (src if value is None else value), None
    if reduce not in (None, "add"):
        raise ValueError(f"scatter: reduce must be None or 'add', got {reduce!r}")
    if src is None:
        from .creation import full

        src = full(tuple(index.shape), value, dtype=input.dtype)
    elif tuple(src.shape) != tuple(index.shape):
        src = src[tuple(builtins.slice(0, n) for n in index.shape)]  # PyTorch reads src's leading part
    if src.dtype != input.dtype:
        src = src.to(input.dtype)
    if reduce == "add":
        return input.scatter_add(dim, index, src)
    from .creation import ones_like, zeros

    hit = zeros(tuple(input.shape), dtype=_C.dtype.int64).scatter_add(dim, index, ones_like(index)) > 0
    written = zeros(tuple(input.shape), dtype=input.dtype).scatter_add(dim, index, src)
    return _C.where(hit, written, input)


def _scatter_(self, dim, index, src=None, *, value=None, reduce=None):
    return self.copy_(scatter(self, dim, index, src, value=value, reduce=reduce))


def index_fill(input, dim, index, value):
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (a copy)."""
    if index.ndim > 1:
        raise ValueError(f"index_fill: index must be 0-D or 1-D, got shape {tuple(index.shape)}")
    return input.masked_fill(_slices_hit(input, dim, index.reshape(-1)), _number(value))


def _marked(n, positions):
    """A bool vector of length n, true at the (1-D, possibly repeated) positions."""
    from .creation import ones_like, zeros

    return zeros(n, dtype=_C.dtype.int64).index_add(0, positions, ones_like(positions)) > 0


def _slices_hit(input, dim, index):
    """A bool mask, broadcastable to input, of the slices at index along dim."""
    if input.ndim == 0:
        return _marked(1, index).reshape(())
    d = dim % input.ndim
    shape = [1] * input.ndim
    shape[d] = input.shape[d]
    return _marked(input.shape[d], index).reshape(shape)


def _number(value):
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"index_fill: value must be a number or a 0-D tensor, got shape {tuple(value.shape)}")
        return value.item()
    return value


def _index_fill_(self, dim, index, value):
    return self.copy_(index_fill(self, dim, index, value))


def take(input, index):
    """The elements of the flattened ``input`` at ``index`` (any shape; the result has it)."""
    flat = input.reshape(-1)
    n = flat.shape[0]
    idx = index.reshape(-1)
    if idx.shape[0] and (idx.min().item() < -n or idx.max().item() >= n):
        bad = idx.min().item() if idx.min().item() < -n else idx.max().item()
        raise IndexError(f"take: index {bad} is out of range for a tensor of {n} elements")
    return flat.index_select(0, idx).reshape(tuple(index.shape))


def _fill_diagonal_(self, fill_value, wrap=False):
    """Sets the main diagonal of a 2-D tensor (or of an n-D tensor whose dims are all
    equal) to ``fill_value``, in place; ``wrap`` continues below a tall matrix every
    columns + 1 rows, as NumPy's fill_diagonal does."""
    if self.ndim < 2:
        raise ValueError(f"fill_diagonal_: expected at least 2 dimensions, got shape {tuple(self.shape)}")
    shape = tuple(self.shape)
    if self.ndim > 2 and len(set(shape)) != 1:
        raise ValueError(f"fill_diagonal_: all dimensions of an n-D input must be equal, got {shape}")
    from .creation import arange

    numel = self.numel()
    if self.ndim == 2:
        rows, cols = shape
        stride = cols + 1
        end = numel if wrap else builtins.min(rows, cols) * cols
    else:
        stride = builtins.sum(shape[0] ** k for k in range(self.ndim))
        end = numel
    positions = arange(0, end, stride) if end > 0 else arange(0)
    return self.masked_fill_(_marked(numel, positions).reshape(shape), fill_value)


FUNCTIONS = ["scatter", "index_fill", "take"]
for _name in FUNCTIONS:
    setattr(Tensor, _name, globals()[_name])
Tensor.scatter_ = _scatter_
Tensor.index_fill_ = _index_fill_
Tensor.fill_diagonal_ = _fill_diagonal_
Tensor.nelement = Tensor.numel
