"""Activation layers. Each calls one fused C++ op (forward and backward kernels); the
parameters and defaults are PyTorch's."""
from .. import _C
from ..creation import full
from . import functional as F
from .module import Module, Parameter


class _Activation(Module):
    _fn = None

    def forward(self, input):
        return type(self)._fn(input)


class ReLU(_Activation):
    _fn = staticmethod(F.relu)

    def __init__(self, inplace=False):
        super().__init__()


class Sigmoid(_Activation):
    _fn = staticmethod(F.sigmoid)


class Tanh(_Activation):
    _fn = staticmethod(F.tanh)


class SiLU(_Activation):
    """x sigmoid(x) (also called swish)."""
    _fn = staticmethod(F.silu)

    def __init__(self, inplace=False):
        super().__init__()


class Hardsigmoid(_Activation):
    """clip(x / 6 + 1/2, 0, 1)."""
    _fn = staticmethod(F.hardsigmoid)

    def __init__(self, inplace=False):
        super().__init__()


class PiecewiseLinear(_Activation):
    """The piecewise-linear unit clip(x + 1/2, 0, 1): 0 below -1/2, 1 above 1/2, linear between
    (not in PyTorch; the course material's saturating linear unit)."""
    _fn = staticmethod(F.piecewise_linear)


class Step(_Activation):
    """The Heaviside unit step: 1 for x > 0, 0 for x < 0, 1/2 at 0; its gradient is zero
    (not in PyTorch, which has torch.heaviside without a gradient)."""
    _fn = staticmethod(F.heaviside_step)


class Sign(_Activation):
    """sign(x) in {-1, 0, 1}; zero gradient."""
    _fn = staticmethod(F.sign)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha

    def forward(self, input):
        return F.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class GELU(Module):
    """x Phi(x) (``approximate='none'``, with erf) or its tanh approximation (``'tanh'``)."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Hardtanh(Module):
    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val, self.max_val = min_val, max_val

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0)


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmax(input, _softmax_dim(self.dim, input))

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, input):
        return F.log_softmax(input, _softmax_dim(self.dim, input))


def _softmax_dim(dim, input):
    # PyTorch's legacy rule when dim is not given: 0 for 0-, 1- and 3-D inputs, else 1.
    if dim is not None:
        return dim
    return 0 if input.ndim in (0, 1, 3) else 1


class LogSigmoid(_Activation):
    _fn = staticmethod(F.logsigmoid)


class Softsign(_Activation):
    _fn = staticmethod(F.softsign)


class Tanhshrink(_Activation):
    _fn = staticmethod(F.tanhshrink)


class Hardswish(_Activation):
    _fn = staticmethod(F.hardswish)

    def __init__(self, inplace=False):
        super().__init__()


class Mish(_Activation):
    _fn = staticmethod(F.mish)

    def __init__(self, inplace=False):
        super().__init__()


class SELU(_Activation):
    _fn = staticmethod(F.selu)

    def __init__(self, inplace=False):
        super().__init__()


class CELU(Module):
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha

    def forward(self, input):
        return F.celu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Softmin(Softmax):
    def forward(self, input):
        return F.softmin(input, _softmax_dim(self.dim, input))


class GLU(Module):
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class CosineSimilarity(Module):
    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class Hardshrink(Module):
    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Softshrink(Hardshrink):
    def forward(self, input):
        return F.softshrink(input, self.lambd)


class Threshold(Module):
    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value = threshold, value

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value)


class PReLU(Module):
    """max(0, x) + a min(0, x) with a learned slope ``a``: one (the default), or one per
    channel (``num_parameters`` = the size of dim 1), initialised to ``init``."""

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.weight = Parameter(full((num_parameters,), float(init), dtype=dtype or _C._get_default_dtype()))

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"



class Softmax2d(Module):
    """softmax over the channels of (N, C, H, W) or (C, H, W) input."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected a 3-D or 4-D input, got shape {tuple(input.shape)}")
        return F.softmax(input, -3)


class RReLU(Module):
    """Leaky ReLU with a random negative slope in [lower, upper] in training, the mean
    slope in eval mode."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        if not 0.0 <= lower <= upper:
            raise ValueError(f"RReLU: expected 0 <= lower <= upper, got lower={lower}, upper={upper}")
        self.lower, self.upper = lower, upper

    def forward(self, input):
        return F.rrelu(input, self.lower, self.upper, self.training)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}"
