"""Tensor creation functions, shaped like PyTorch's (``zeros(2, 3)`` or ``zeros((2, 3))``)."""
import builtins

import numpy as np

from . import _C

_NUMPY_TO_DTYPE = {
    np.dtype("float32"): _C.dtype.float32,
    np.dtype("float64"): _C.dtype.float64,
    np.dtype("int64"): _C.dtype.int64,
    np.dtype("int32"): _C.dtype.int32,
    np.dtype("bool"): _C.dtype.bool,
}
_DTYPE_TO_NUMPY = {v: k for k, v in _NUMPY_TO_DTYPE.items()}


def _shape(size, op):
    if len(size) == 1 and not isinstance(size[0], builtins.int):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (builtins.int, np.integer)) or isinstance(s, builtins.bool):
            raise TypeError(f"{op}: size must be a sequence of ints, got {size!r}")
    return [builtins.int(s) for s in size]


def _dtype(dtype, default=None):
    if dtype is None:
        return _C._get_default_dtype() if default is None else default
    if isinstance(dtype, _C.dtype):
        return dtype
    try:
        return _NUMPY_TO_DTYPE[np.dtype(dtype)]
    except (TypeError, KeyError):
        raise TypeError(f"unsupported dtype {dtype!r}; supported are float32, float64, int64, "
                        "int32 and bool") from None


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (nested lists, numbers, NumPy arrays, tensors).

    Python floats become the default dtype (float32 unless ``set_default_dtype`` says
    otherwise), Python ints int64, bools bool; a NumPy array keeps its dtype. As in PyTorch,
    the data is always copied.
    """
    _check_device(device)
    if isinstance(data, _C.Tensor):
        t = data.detach().clone()
        if dtype is not None:
            t = t.to(_dtype(dtype))
        return _finish(t, requires_grad)
    from_numpy_input = isinstance(data, (np.ndarray, np.generic))
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ValueError(f"tensor: could not build a tensor from the data ({e})") from None
    if arr.dtype == object:
        raise ValueError("tensor: expected nested sequences of equal length holding numbers")
    if dtype is None:
        default = _DTYPE_TO_NUMPY[_C._get_default_dtype()]
        if arr.dtype.kind == "f" and not (from_numpy_input and arr.dtype in (np.float32, np.float64)):
            arr = arr.astype(default)
        elif arr.dtype.kind in "iu":
            if not (from_numpy_input and arr.dtype == np.int32):
                arr = _int_cast(arr, np.int64)
        elif arr.dtype.kind not in "fb":
            raise TypeError(f"tensor: unsupported data of NumPy dtype {arr.dtype}")
        target = _NUMPY_TO_DTYPE.get(arr.dtype)
        if target is None:
            arr = arr.astype(default)
    else:
        arr = _int_cast(arr, _DTYPE_TO_NUMPY[_dtype(dtype)])
    return _finish(_C._from_buffer_copy(np.require(arr, requirements="C")), requires_grad)


def _int_cast(arr, target):
    """arr as NumPy dtype target; integers that the target's range cannot hold raise
    OverflowError instead of wrapping around (2**63 would become -2**63)."""
    target = np.dtype(target)
    if arr.size and arr.dtype.kind in "iu" and target.kind == "i":
        info = np.iinfo(target)
        lo, hi = int(arr.min()), int(arr.max())
        if lo < info.min or hi > info.max:
            raise OverflowError(f"tensor: the value {hi if hi > info.max else lo} does not fit in {target.name}")
    return arr.astype(target)


def set_default_dtype(d):
    """Makes ``d`` (float32 or float64) the dtype of new floating tensors, as in PyTorch:
    factories given no dtype, tensors built from Python floats, layers' parameters, ops
    mixing integer tensors with Python floats, and float results of integer inputs (true
    division, ``sqrt`` of an int64 tensor). Tensors already made keep their dtype."""
    _C._set_default_dtype(_dtype(d))


def get_default_dtype():
    """The dtype of new floating tensors (float32 unless ``set_default_dtype`` changed it)."""
    return _C._get_default_dtype()


def _check_device(device):
    if device is not None and str(device) != "cpu":
        raise TypeError(f"only the 'cpu' device is available in this build, got {device!r}")


def empty(*size, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    return _finish(_C._empty(_shape(size, "empty"), _dtype(dtype)), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    return _finish(_C._zeros(_shape(size, "zeros"), _dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    return _finish(_C._ones(_shape(size, "ones"), _dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    d = None if dtype is None else _dtype(dtype)
    return _finish(_C._full(_shape((size,), "full"), fill_value, d), requires_grad)


def _like(t, dtype):
    return t.dtype if dtype is None else _dtype(dtype)


def empty_like(input, dtype=None, requires_grad=False):
    return empty(input.shape, dtype=_like(input, dtype), requires_grad=requires_grad)


def zeros_like(input, dtype=None, requires_grad=False):
    return zeros(input.shape, dtype=_like(input, dtype), requires_grad=requires_grad)


def ones_like(input, dtype=None, requires_grad=False):
    return ones(input.shape, dtype=_like(input, dtype), requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False):
    return full(input.shape, fill_value, dtype=_like(input, dtype), requires_grad=requires_grad)


def rand_like(input, dtype=None, requires_grad=False):
    return rand(input.shape, dtype=_like(input, dtype), requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False):
    return randn(input.shape, dtype=_like(input, dtype), requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from start (default 0) up to, not including, end. int64 for integer
    arguments, float32 otherwise."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    d = None if dtype is None else _dtype(dtype)
    return _finish(_C._arange(start, end, step, d), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    return _finish(_C._linspace(float(start), float(end), builtins.int(steps), _dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    return _finish(_C._eye(n, -1 if m is None else m, _dtype(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    _check_device(device)
    return _finish(_C._rand(_shape(size, "rand"), _dtype(dtype), generator), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    _check_device(device)
    return _finish(_C._randn(_shape(size, "randn"), _dtype(dtype), generator), requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform in [low, high); ``randint(high, size)`` or ``randint(low, high, size)``."""
    _check_device(device)
    if size is None:
        if high is None:
            raise TypeError("randint: expected a size")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    return _finish(_C._randint(low, high, _shape((size,), "randint"), _dtype(dtype, _C.dtype.int64), generator),
                   requires_grad)


def normal(mean, std, size, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal samples with the given (float) mean and standard deviation."""
    _check_device(device)
    return _finish(_C._normal(float(mean), float(std), _shape((size,), "normal"), _dtype(dtype), generator),
                   requires_grad)


def randperm(n, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0..n-1 (int64), drawn from dlcore's default generator or
    ``generator``, so ``manual_seed`` makes it reproducible."""
    _check_device(device)
    if isinstance(n, builtins.bool) or not isinstance(n, (builtins.int, np.integer)) or n < 0:
        raise ValueError(f"randperm: n must be a non-negative int, got {n!r}")
    keys = _C._rand([builtins.int(n)], _C.dtype.float64, generator).numpy()
    order = np.argsort(keys, kind="stable").astype(np.int64)
    return _finish(_C.from_numpy(order).to(_dtype(dtype, _C.dtype.int64)), requires_grad)
