"""Mixed precision (``dlcore.amp``), for scripts written for ``torch.amp``.

dlcore computes in float32 or float64 and has no float16 or bfloat16 tensors, so these keep a
script's autocast regions and loss scaling working without changing its numbers:
``autocast`` regions run in the tensors' own dtypes (as with ``enabled=False``), and
``GradScaler`` is always disabled (float32 gradients do not underflow as float16 ones do):
``scale(loss)`` is ``loss`` and ``step(optimizer)`` is ``optimizer.step()``. Each warns
when asked for what it does not do.
"""
import functools
import warnings

_DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "hpu", "mtia", "meta")


def _check_device_type(name, device_type):
    if not isinstance(device_type, str) or device_type not in _DEVICE_TYPES:
        raise ValueError(f"{name}: device_type must be one of {', '.join(_DEVICE_TYPES)}, "
                         f"got {device_type!r}")


def is_autocast_available(device_type):
    """False for every device: dlcore has no reduced-precision dtypes to cast to."""
    _check_device_type("is_autocast_available", device_type)
    return False


class autocast:
    """A context manager (or decorator) for a region that would run in reduced precision
    under PyTorch. dlcore runs it in the tensors' own dtypes; an enabled region warns that
    it does so."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        _check_device_type("autocast", device_type)
        if not isinstance(enabled, bool):
            raise TypeError(f"autocast: enabled must be a bool, got {type(enabled).__name__}")
        self.device_type, self.fast_dtype, self.enabled = device_type, dtype, enabled

    def __enter__(self):
        if self.enabled:
            warnings.warn("dlcore has no float16 or bfloat16 tensors: the autocast region runs in "
                          "the tensors' own dtypes, as with enabled=False", UserWarning, stacklevel=2)
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapped


class GradScaler:
    """PyTorch's loss scaler, always disabled (as PyTorch's is on a device without float16
    gradients): the loss passes unscaled, ``step`` runs the optimizer's step, and the scale
    is 1. ``enabled=True`` warns that the scaler disables itself."""

    def __init__(self, device="cuda", init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        if not isinstance(device, str):
            raise TypeError(f"GradScaler: device must be a str, got {type(device).__name__}")
        if init_scale <= 0 or growth_factor <= 1.0 or not 0.0 < backoff_factor < 1.0 or growth_interval < 1:
            raise ValueError("GradScaler: needs init_scale > 0, growth_factor > 1, 0 < backoff_factor < 1 "
                             f"and growth_interval >= 1, got {init_scale}, {growth_factor}, {backoff_factor}, "
                             f"{growth_interval}")
        if enabled:
            warnings.warn("GradScaler is enabled, but dlcore's gradients are float32 or float64 and "
                          "need no loss scaling: disabling it", UserWarning, stacklevel=2)
        self._growth_factor, self._backoff_factor = growth_factor, backoff_factor
        self._growth_interval = growth_interval

    def is_enabled(self):
        return False

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer):
        pass

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        pass

    def get_scale(self):
        return 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def get_growth_interval(self):
        return self._growth_interval

    def state_dict(self):
        return {}

    def load_state_dict(self, state_dict):
        if not isinstance(state_dict, dict):
            raise TypeError(f"GradScaler.load_state_dict: expected a dict, got {type(state_dict).__name__}")
