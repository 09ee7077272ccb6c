"""Test helpers with PyTorch's torch.testing names: assert_close and make_tensor.

assert_close(actual, expected) compares tensors, NumPy arrays, numbers, and sequences
or mappings of them, element by element, with tolerances chosen from the dtype
(|actual - expected| <= atol + rtol * |expected|), and raises an AssertionError that says
how many elements differ and where the largest differences are.
"""
import collections.abc
import math

import numpy as np

from . import _C

Tensor = _C.Tensor

# (rtol, atol) by dtype when neither is given: PyTorch's defaults.
_DEFAULT_TOLERANCES = {
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
}


def _tolerances(dtype, rtol, atol):
    if (rtol is None) != (atol is None):
        raise ValueError(f"assert_close(): give both rtol and atol or neither, got rtol={rtol} and atol={atol}")
    if rtol is not None:
        if rtol < 0 or atol < 0:
            raise ValueError(f"assert_close(): rtol and atol must be non-negative, got rtol={rtol} and atol={atol}")
        return rtol, atol
    return _DEFAULT_TOLERANCES.get(np.dtype(dtype), (0.0, 0.0))


def _fail(message, msg):
    if callable(msg):
        message = msg(message)
    elif msg is not None:
        message = msg
    raise AssertionError(message)


def _differences(a64, e64):
    """|a - e| and |a - e| / |e| of float64 arrays, with the positions where a and e are
    both the same infinity counted as no difference."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        diff = np.abs(a64 - e64)
        same = a64 == e64
        diff = np.where(same, 0.0, diff)
        rel = np.where(same, 0.0, diff / np.abs(e64))
    return diff, rel


def _format_number(x, integer):
    return str(int(x)) if integer and np.isfinite(x) else repr(float(x))


def _mismatch(a, e, rtol, atol, equal_nan, scalar):
    """None where a and e are close, else the report of how they differ."""
    integer = not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(e.dtype, np.floating))
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.isfinite(a64) & np.isfinite(e64) & (np.abs(a64 - e64) <= atol + rtol * np.abs(e64))
    close |= a64 == e64  # equal infinities (an infinity is close to nothing else)
    if equal_nan:
        close |= np.isnan(a64) & np.isnan(e64)
    if close.all():
        return None
    diff, rel = _differences(a64, e64)
    kind = "equal" if integer and rtol == 0 and atol == 0 else "close"
    allowed_abs = "" if kind == "equal" else f" (up to {atol} allowed)"
    allowed_rel = "" if kind == "equal" else f" (up to {rtol} allowed)"
    if scalar:
        return (f"Scalars are not {kind}!\n\n"
                f"Expected {_format_number(e64.item(), integer)} but got {_format_number(a64.item(), integer)}.\n"
                f"Absolute difference: {_format_number(diff.item(), integer)}{allowed_abs}\n"
                f"Relative difference: {float(rel.item())!r}{allowed_rel}")
    bad = ~close
    n_bad, n = int(bad.sum()), bad.size

    def worst(values):
        # The largest difference among the mismatched elements (NaN first, as the
        # largest), and its index.
        masked = np.where(bad, values, -np.inf)
        flat = int(np.argmax(np.where(np.isnan(masked), np.inf, masked)))
        return values.reshape(-1)[flat], tuple(int(i) for i in np.unravel_index(flat, values.shape))

    d, di = worst(diff)
    r, ri = worst(rel)
    return (f"Tensor-likes are not {kind}!\n\n"
            f"Mismatched elements: {n_bad} / {n} ({100.0 * n_bad / n:.1f}%)\n"
            f"Greatest absolute difference: {_format_number(d, integer)} at index {di}{allowed_abs}\n"
            f"Greatest relative difference: {float(r)!r} at index {ri}{allowed_rel}")


def _is_number(x):
    return isinstance(x, (bool, int, float, np.bool_, np.integer, np.floating))


def _is_sequence(x):
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, (str, bytes))


def _dtype_name(x):
    return str(x.dtype) if isinstance(x, Tensor) else f"numpy.{x.dtype}"


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raises an AssertionError unless actual and expected are close.

    Tensors (or NumPy arrays, compared with arrays) must have the same shape and, with
    check_dtype, the same dtype; check_stride compares strides too. Values are close
    where |actual - expected| <= atol + rtol * |expected|, equal infinities match, and NaN
    matches NaN only with equal_nan. rtol and atol default by dtype: float32 1.3e-6 and
    1e-5, float64 (and Python floats) 1e-7 and 1e-7, integers and bools exact. Numbers
    are compared as numbers (int against float is a type mismatch with check_dtype);
    sequences and mappings element by element. msg replaces the message, or, when
    callable, gets the message and returns the one to raise. check_device, check_layout
    and allow_subclasses are accepted for PyTorch's signature (every dlcore tensor is a
    strided CPU tensor)."""
    _compare(actual, expected, rtol, atol, equal_nan, check_dtype, check_stride, msg, ())


def _compare(actual, expected, rtol, atol, equal_nan, check_dtype, check_stride, msg, path):
    where = "" if not path else f"\n\nThe failure occurred for item {''.join(f'[{p!r}]' for p in path)}"

    def fail(message):
        _fail(message + where if not (callable(msg) or msg is not None) else message, msg)

    tensors = (isinstance(actual, Tensor), isinstance(expected, Tensor))
    arrays = (isinstance(actual, np.ndarray), isinstance(expected, np.ndarray))
    if all(tensors) or all(arrays):
        if tuple(actual.shape) != tuple(expected.shape):
            fail(f"The values for attribute 'shape' do not match: {tuple(actual.shape)} != {tuple(expected.shape)}.")
        if check_dtype and actual.dtype != expected.dtype:
            fail(f"The values for attribute 'dtype' do not match: {_dtype_name(actual)} != {_dtype_name(expected)}.")
        if check_stride and all(tensors) and actual.numel() > 1 and tuple(actual.stride()) != tuple(expected.stride()):
            fail(f"The values for attribute 'stride()' do not match: {tuple(actual.stride())} != "
                 f"{tuple(expected.stride())}.")
        a = actual.detach().numpy() if all(tensors) else actual
        e = expected.detach().numpy() if all(tensors) else expected
        if check_dtype:
            r, t = _tolerances(a.dtype, rtol, atol)
        else:
            r, t = (max(x, y) for x, y in zip(_tolerances(a.dtype, rtol, atol), _tolerances(e.dtype, rtol, atol)))
        report = _mismatch(a, e, r, t, equal_nan, a.ndim == 0)
        if report:
            fail(report)
        return
    if _is_number(actual) and _is_number(expected):
        ta, te = type(actual), type(expected)
        if check_dtype and ta is not te:
            fail(f"The (d)types do not match: {ta} != {te}.")
        a, e = np.asarray(actual), np.asarray(expected)
        floating = np.issubdtype(a.dtype, np.floating) or np.issubdtype(e.dtype, np.floating)
        r, t = _tolerances(np.float64 if floating else np.int64, rtol, atol)
        report = _mismatch(a, e, r, t, equal_nan, True)
        if report:
            fail(report)
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        ka, ke = list(actual.keys()), list(expected.keys())
        if set(ka) != set(ke):
            missing = sorted((k for k in ke if k not in actual), key=repr)
            extra = sorted((k for k in ka if k not in expected), key=repr)
            fail("The keys of the mappings do not match:\n"
                 + (f"Missing keys in the actual mapping: {missing}\n" if missing else "")
                 + (f"Additional keys in the actual mapping: {extra}" if extra else "").rstrip())
        for k in ke:
            _compare(actual[k], expected[k], rtol, atol, equal_nan, check_dtype, check_stride, msg, path + (k,))
        return
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            fail(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (x, y) in enumerate(zip(actual, expected)):
            _compare(x, y, rtol, atol, equal_nan, check_dtype, check_stride, msg, path + (i,))
        return
    raise TypeError(f"assert_close(): cannot compare inputs of type {type(actual).__name__} and "
                    f"{type(expected).__name__}: both must be tensors, both NumPy arrays, both numbers, "
                    "or sequences or mappings of those")


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False, noncontiguous=False,
                exclude_zero=False, memory_format=None):
    """A tensor of the given shape and dtype with random values, drawn from dlcore's
    default generator (dlcore.manual_seed makes them repeat): uniform in [low, high) for
    floats (default [-9, 9)), integers in [low, high) (default [-9, 10)), random bools.
    noncontiguous gives a strided view into a larger tensor, exclude_zero replaces zeros
    with the dtype's smallest normal value (1 for integers). device and memory_format are
    accepted for PyTorch's signature (CPU, strided)."""
    from .creation import empty, rand, randint

    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"make_tensor(): sizes must be non-negative, got {shape}")
    if not isinstance(dtype, _C.dtype):
        raise TypeError(f"make_tensor(): dtype must be a dlcore dtype, got {dtype!r}")
    if dtype == _C.dtype.bool:
        if low is not None or high is not None:
            raise ValueError("make_tensor(): low and high do not apply to bool tensors")
        values = randint(0, 2, shape, dtype=_C.dtype.int64) == 1
    elif dtype.is_floating_point:
        lo, hi = -9.0 if low is None else float(low), 9.0 if high is None else float(high)
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
            raise ValueError(f"make_tensor(): need finite low <= high, got low={low} and high={high}")
        values = rand(shape, dtype=dtype) * (hi - lo) + lo
        if exclude_zero:
            values = values.masked_fill(values == 0, float(np.finfo(np.float32 if dtype == _C.dtype.float32
                                                                    else np.float64).tiny))
    else:
        info = np.iinfo(np.int32 if dtype == _C.dtype.int32 else np.int64)
        lo = -9 if low is None else int(math.ceil(low))
        hi = 10 if high is None else int(math.ceil(high))
        if lo >= hi or lo < info.min or hi - 1 > info.max:
            raise ValueError(f"make_tensor(): need low < high within {dtype}'s range, got low={low} and high={high}")
        values = randint(lo, hi, shape, dtype=dtype)
        if exclude_zero:
            values = values.masked_fill(values == 0, 1)
    if noncontiguous and values.numel() > 1:
        wide = empty(shape[:-1] + (2 * shape[-1],), dtype=dtype)
        t = wide[..., ::2]
        t.copy_(values)
        values = t
    if requires_grad:
        values.requires_grad_(True)
    return values
