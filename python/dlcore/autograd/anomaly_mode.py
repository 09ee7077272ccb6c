"""Anomaly mode, as torch.autograd's: for finding where a NaN or an error in backward
comes from.

While it is on, every op that records a graph node also records the Python stack of the
forward call that created it; an error raised in a node's backward then names the node
and shows that stack, and (with check_nan) a gradient with a NaN in it stops the
backward pass with a RuntimeError that names the node ("Function 'div' returned nan
values in its 0th output") and shows where the forward pass created it. Recording the
stacks and scanning the gradients slow training: a mode for debugging.
"""
import functools
import traceback
import warnings

from .. import _C


def _forward_stack():
    # The caller's stack without this function's frame, innermost call last.
    return "".join(traceback.format_stack()[:-1])


_C._set_anomaly_trace_source(_forward_stack)


def is_anomaly_enabled():
    return _C.is_anomaly_enabled()


def is_anomaly_check_nan_enabled():
    return _C.is_anomaly_check_nan_enabled()


def set_anomaly_enabled(enabled, check_nan=True):
    """Turns anomaly mode on or off (the setting stays)."""
    _C._set_anomaly_enabled(bool(enabled), bool(check_nan))


class detect_anomaly:
    """Turns anomaly mode on inside its block or decorated function (and back to what it
    was after), with a warning that it slows the code down. check_nan=False keeps the
    stacks and the error reports but does not scan gradients for NaNs."""

    def __init__(self, check_nan=True):
        self.check_nan = bool(check_nan)

    def __enter__(self):
        warnings.warn("anomaly detection is on: it records a stack per graph node and scans every "
                      "gradient, so it slows training; use it for debugging only", stacklevel=2)
        self._prev = (_C.is_anomaly_enabled(), _C.is_anomaly_check_nan_enabled())
        _C._set_anomaly_enabled(True, self.check_nan)
        return self

    def __exit__(self, *exc):
        _C._set_anomaly_enabled(*self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Sets anomaly mode on or off. As a plain call the setting stays; as a context
    manager it is undone on exit."""

    def __init__(self, mode, check_nan=True):
        self._prev = (_C.is_anomaly_enabled(), _C.is_anomaly_check_nan_enabled())
        _C._set_anomaly_enabled(bool(mode), bool(check_nan))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _C._set_anomaly_enabled(*self._prev)
        return False
