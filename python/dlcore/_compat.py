"""The PyTorch switches a ported script calls at its start: ``compile``, deterministic
algorithms and the float32 matmul precision. dlcore runs eagerly, is deterministic, and
computes float32 products in full float32, so these check their arguments and keep what they
are told (for the getters) without changing how dlcore computes."""
_state = {"deterministic": False, "warn_only": False, "matmul_precision": "highest"}


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """Returns model (a module or function) itself: dlcore runs eagerly. Without model, a
    decorator that does the same."""
    if model is None:
        return lambda m: compile(m)
    if not callable(model):
        raise TypeError(f"compile: expected a module or function, got {type(model).__name__}")
    return model


def use_deterministic_algorithms(mode, *, warn_only=False):
    if not isinstance(mode, bool) or not isinstance(warn_only, bool):
        raise TypeError("use_deterministic_algorithms: mode and warn_only must be bools, got "
                        f"{type(mode).__name__} and {type(warn_only).__name__}")
    _state["deterministic"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    return _state["warn_only"]


_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision):
    if precision not in _PRECISIONS:
        raise ValueError(f"set_float32_matmul_precision: precision must be one of {', '.join(_PRECISIONS)}, "
                         f"got {precision!r}")
    _state["matmul_precision"] = precision


def get_float32_matmul_precision():
    return _state["matmul_precision"]
