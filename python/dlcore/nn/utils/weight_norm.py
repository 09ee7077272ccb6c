"""Weight reparametrisations with PyTorch's (hook-based) names: ``weight_norm`` and
``spectral_norm``, and their ``remove_*``.

Each replaces a module's parameter ``name`` with the parameters (and buffers) it is computed
from, under PyTorch's state-dict keys, and recomputes the weight before every forward (a
forward pre-hook), so gradients reach the new parameters through ordinary ops.
"""
from ... import _C
from ...grad_mode import no_grad
from ..module import Parameter

_EPS_DEFAULT = 1e-12


def _norm_except_dim(v, dim):
    """The 2-norm of v over every dim but ``dim`` (kept, size 1 elsewhere), or of all of v
    for dim None."""
    if dim is None:
        return (v * v).sum().sqrt()
    others = tuple(d for d in range(v.ndim) if d != dim)
    return (v * v).sum(others, keepdim=True).sqrt() if others else v.abs()


class _Reparam:
    """A pre-hook that sets ``module.<name>`` from other parameters before each forward."""

    def __init__(self, name):
        self.name = name

    @classmethod
    def check_free(cls, module, name):
        for hook in getattr(module, "_forward_pre_hooks", {}).values():
            if isinstance(hook, _Reparam) and hook.name == name:
                raise RuntimeError(f"{cls.__name__.lstrip('_')}: '{name}' of {type(module).__name__} is already "
                                   f"reparametrised (by {type(hook).__name__.lstrip('_')})")

    def attach(self, module):
        self.handle = module.register_forward_pre_hook(self)
        object.__setattr__(module, self.name, self.compute(module))

    def __call__(self, module, args):
        object.__setattr__(module, self.name, self.compute(module))


def _take_parameter(module, name, what):
    param = module._parameters.get(name) if hasattr(module, "_parameters") else None
    if not isinstance(param, Parameter):
        raise ValueError(f"{what}: {type(module).__name__} has no parameter '{name}'")
    del module._parameters[name]
    return param


class _WeightNorm(_Reparam):
    def __init__(self, name, dim):
        super().__init__(name)
        self.dim = dim

    def compute(self, module):
        g, v = getattr(module, self.name + "_g"), getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))


def weight_norm(module, name="weight", dim=0):
    """``w = g v / ||v||``: the direction ``<name>_v`` and the magnitude ``<name>_g`` (one per
    slice along ``dim``, or one for all of w with dim None) become the parameters."""
    _WeightNorm.check_free(module, name)
    weight = _take_parameter(module, name, "weight_norm")
    if dim is not None:
        if not -weight.ndim <= dim < weight.ndim:
            raise IndexError(f"weight_norm: dim {dim} is out of range for '{name}' of shape {tuple(weight.shape)}")
        dim %= weight.ndim
    hook = _WeightNorm(name, dim)
    with no_grad():
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, dim).clone()))
        module.register_parameter(name + "_v", Parameter(weight.clone()))
    hook.attach(module)
    return module


def _find(module, name, cls, what):
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, cls) and hook.name == name:
            return hook
    raise ValueError(f"{what}: '{name}' of {type(module).__name__} has no {what.replace('remove_', '')}")


def remove_weight_norm(module, name="weight"):
    """Back to one parameter ``<name>`` holding the current weight."""
    hook = _find(module, name, _WeightNorm, "remove_weight_norm")
    with no_grad():
        weight = hook.compute(module).clone()
    hook.handle.remove()
    del module._parameters[name + "_g"], module._parameters[name + "_v"]
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight))
    return module


class _SpectralNorm(_Reparam):
    def __init__(self, name, n_power_iterations, dim, eps):
        super().__init__(name)
        self.n_power_iterations, self.dim, self.eps = n_power_iterations, dim, eps

    def matrix(self, w):
        if self.dim != 0:
            w = w.movedim(self.dim, 0)
        return w.reshape(w.shape[0], -1)

    def compute(self, module):
        w = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        mat = self.matrix(w)
        if module.training:
            # Power iteration on the detached matrix, updating the buffers in place.
            with no_grad():
                m = mat.detach()
                for _ in range(self.n_power_iterations):
                    v.copy_(_normalize(m.t() @ u, self.eps))
                    u.copy_(_normalize(m @ v, self.eps))
        sigma = (u.clone() * (mat @ v.clone())).sum()
        return w / sigma


def _normalize(x, eps):
    return x / _C.clamp((x * x).sum().sqrt(), eps, None)


def spectral_norm(module, name="weight", n_power_iterations=1, eps=_EPS_DEFAULT, dim=None):
    """``w / sigma``, sigma the largest singular value of w (as a matrix of its dim ``dim``
    against the rest; 0, or 1 for transposed convolutions), estimated by
    ``n_power_iterations`` steps of power iteration per forward in training mode. The
    parameter becomes ``<name>_orig``; the vectors ``<name>_u`` and ``<name>_v`` are buffers."""
    if not isinstance(n_power_iterations, int) or n_power_iterations < 1:
        raise ValueError(f"spectral_norm: n_power_iterations must be a positive int, got {n_power_iterations!r}")
    _SpectralNorm.check_free(module, name)
    weight = _take_parameter(module, name, "spectral_norm")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    hook = _SpectralNorm(name, n_power_iterations, dim % max(weight.ndim, 1), eps)
    mat = hook.matrix(weight.detach())
    from ...creation import randn

    with no_grad():
        u = _normalize(randn(mat.shape[0], dtype=weight.dtype), eps)
        v = _normalize(randn(mat.shape[1], dtype=weight.dtype), eps)
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", u)
    module.register_buffer(name + "_v", v)
    hook.attach(module)
    return module


def remove_spectral_norm(module, name="weight"):
    """Back to one parameter ``<name>`` holding the current normalised weight."""
    hook = _find(module, name, _SpectralNorm, "remove_spectral_norm")
    with no_grad():
        weight = hook.compute(module).clone()
    hook.handle.remove()
    del module._parameters[name + "_orig"], module._buffers[name + "_u"], module._buffers[name + "_v"]
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight))
    return module
