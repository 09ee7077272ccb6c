"""Argument normalisation shared by the layers and their functional forms."""


def _ntuple(v, n, name, op):
    """An int or an n-tuple of ints as an n-tuple; ValueError naming the argument otherwise."""
    if isinstance(v, (list, tuple)):
        if len(v) != n or not all(isinstance(e, int) and not isinstance(e, bool) for e in v):
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
        return tuple(v)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {v!r}")
    return (v,) * n
