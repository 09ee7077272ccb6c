"""Padding layers over ``F.pad``: zero, constant, reflection, replication and circular
padding of the last 1, 2 or 3 dims. ``padding`` is an int (every side) or 2n ints in
F.pad's order (left, right, top, bottom, front, back)."""
from . import functional as F
from .module import Module


class _PadNd(Module):
    _dims = 1
    _mode = "constant"

    def __init__(self, padding, value=0.0):
        super().__init__()
        n = 2 * self._dims
        self.padding = (padding,) * n if isinstance(padding, int) else tuple(padding)
        if len(self.padding) != n or not all(isinstance(p, int) for p in self.padding):
            raise ValueError(f"{type(self).__name__}: padding must be an int or {n} ints, got {padding!r}")
        self.value = value

    def forward(self, input):
        if input.ndim < self._dims + 1:
            raise ValueError(f"{type(self).__name__}: expected an input with at least {self._dims + 1} dims, "
                             f"got shape {tuple(input.shape)}")
        return F.pad(input, self.padding, self._mode, self.value)

    def extra_repr(self):
        extra = f", value={self.value}" if self._mode == "constant" and self.value != 0.0 else ""
        return f"{self.padding}{extra}"


def _layer(name, dims, mode, doc, constant=False):
    def __init__(self, padding, value=0.0):
        _PadNd.__init__(self, padding, value)

    def __init_zero__(self, padding):
        _PadNd.__init__(self, padding, 0.0)

    body = {"_dims": dims, "_mode": mode, "__doc__": doc, "__init__": __init__ if constant else __init_zero__}
    return type(name, (_PadNd,), body)


ZeroPad1d = _layer("ZeroPad1d", 1, "constant", "Pads the last dim with zeros.")
ZeroPad2d = _layer("ZeroPad2d", 2, "constant", "Pads (left, right, top, bottom) with zeros.")
ZeroPad3d = _layer("ZeroPad3d", 3, "constant", "Pads the last three dims with zeros.")
ConstantPad1d = _layer("ConstantPad1d", 1, "constant", "Pads the last dim with ``value``.", True)
ConstantPad2d = _layer("ConstantPad2d", 2, "constant", "Pads the last two dims with ``value``.", True)
ConstantPad3d = _layer("ConstantPad3d", 3, "constant", "Pads the last three dims with ``value``.", True)
ReflectionPad1d = _layer("ReflectionPad1d", 1, "reflect", "Mirrors the last dim (the edge not repeated).")
ReflectionPad2d = _layer("ReflectionPad2d", 2, "reflect", "Mirrors the last two dims.")
ReflectionPad3d = _layer("ReflectionPad3d", 3, "reflect", "Mirrors the last three dims.")
ReplicationPad1d = _layer("ReplicationPad1d", 1, "replicate", "Repeats the edge of the last dim.")
ReplicationPad2d = _layer("ReplicationPad2d", 2, "replicate", "Repeats the edges of the last two dims.")
ReplicationPad3d = _layer("ReplicationPad3d", 3, "replicate", "Repeats the edges of the last three dims.")
CircularPad1d = _layer("CircularPad1d", 1, "circular", "Wraps the last dim around.")
CircularPad2d = _layer("CircularPad2d", 2, "circular", "Wraps the last two dims around.")
CircularPad3d = _layer("CircularPad3d", 3, "circular", "Wraps the last three dims around.")
