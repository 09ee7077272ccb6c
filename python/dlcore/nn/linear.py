"""Dense layers: ``Linear``, ``Maxout``, and the shape helpers ``Identity``, ``Flatten``,
``Unflatten``."""
import math

from .. import _C
from ..creation import empty
from . import functional as F
from . import init
from .module import Module, Parameter


def _weight_and_bias(module, weight_shape, bias_size, bias, dtype):
    """Registers an uninitialised ``weight`` of weight_shape and, when ``bias``, a ``bias`` of
    bias_size values (else ``bias`` is None), in dtype (the default dtype unless given)."""
    dtype = dtype or _C._get_default_dtype()
    module.weight = Parameter(empty(*weight_shape, dtype=dtype))
    if bias:
        module.bias = Parameter(empty(bias_size, dtype=dtype))
    else:
        module.register_parameter("bias", None)


class Identity(Module):
    """Returns its input (extra constructor arguments are ignored, as in PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b, with ``weight`` (out_features, in_features) and ``bias`` (out_features),
    initialised as PyTorch's (uniform in +-1/sqrt(in_features)). One GEMM with the bias
    added in its write-back."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        _check_features("Linear", in_features=in_features, out_features=out_features)
        self.in_features = in_features
        self.out_features = out_features
        _weight_and_bias(self, (out_features, in_features), out_features, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init._default_linear_init(self.weight, self.bias)

    def forward(self, input):
        return _C.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Maxout(Module):
    """The maximum over ``pieces`` affine maps of the input: for each of the out_features
    units, max_k (x W_k^T + b_k). ``weight`` has shape (out_features * pieces, in_features),
    row j * pieces + k being piece k of unit j; initialised like Linear."""

    def __init__(self, in_features, out_features, pieces, bias=True, dtype=None):
        super().__init__()
        _check_features("Maxout", in_features=in_features, out_features=out_features, pieces=pieces)
        if pieces < 1:
            raise ValueError(f"Maxout: pieces must be at least 1, got {pieces}")
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        _weight_and_bias(self, (out_features * pieces, in_features), out_features * pieces, bias, dtype)
        init._default_linear_init(self.weight, self.bias)

    def forward(self, input):
        return F.maxout(input, self.weight, self.bias, self.pieces)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, pieces={self.pieces}"


class Flatten(Module):
    """Flattens dims start_dim..end_dim into one (by default all but the batch dim)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expands dim ``dim`` into ``unflattened_size``."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        d = self.dim % input.ndim if input.ndim else 0
        if math.prod(self.unflattened_size) != input.shape[d] and -1 not in self.unflattened_size:
            raise ValueError(f"Unflatten: dim {self.dim} of size {input.shape[d]} can't be unflattened "
                             f"into {self.unflattened_size}")
        shape = tuple(input.shape[:d]) + self.unflattened_size + tuple(input.shape[d + 1:])
        return input.reshape(shape)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


def _check_features(layer, **sizes):
    for name, v in sizes.items():
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{layer}: {name} must be a non-negative int, got {v!r}")


class Bilinear(Module):
    """y = x1^T A x2 + b with ``weight`` (out_features, in1_features, in2_features) and
    ``bias`` (out_features), both uniform in +-1/sqrt(in1_features) as in PyTorch."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        _check_features("Bilinear", in1_features=in1_features, in2_features=in2_features,
                        out_features=out_features)
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        bound = 1.0 / math.sqrt(in1_features)
        self.weight = Parameter(empty(out_features, in1_features, in2_features, dtype=dtype))
        init.uniform_(self.weight, -bound, bound)
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
            init.uniform_(self.bias, -bound, bound)
        else:
            self.bias = None

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
