"""Grad-mode switches: ``no_grad`` and ``enable_grad`` work as context managers and decorators."""
import functools

from . import _C


class _GradMode:
    _mode = True

    def __enter__(self):
        self._prev = _C.is_grad_enabled()
        _C._set_grad_enabled(self._mode)
        return self

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Disables gradient recording inside its block or decorated function."""

    _mode = False


class enable_grad(_GradMode):
    """Enables gradient recording inside its block or decorated function."""

    _mode = True


class set_grad_enabled(_GradMode):
    """Sets grad mode to ``mode``; as a plain call, the setting stays."""

    def __init__(self, mode):
        self._prev = _C.is_grad_enabled()
        self._mode = bool(mode)
        _C._set_grad_enabled(self._mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        mode = self._mode
        _C._set_grad_enabled(self._prev)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


def inference_mode(mode=True):
    """``no_grad`` under PyTorch's other name (dlcore has no separate inference tensors):
    a context manager, or a decorator with or without the call."""
    if callable(mode):
        return no_grad()(mode)
    return no_grad() if mode else enable_grad()
