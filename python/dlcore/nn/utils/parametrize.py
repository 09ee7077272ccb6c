"""Parametrizations, as ``torch.nn.utils.parametrize``: ``register_parametrization(module,
"weight", p)`` keeps the tensor's unconstrained value as
``module.parametrizations.weight.original`` and makes ``module.weight`` the value of
``p(original)``, recomputed at each access (inside ``cached()``, once); further
registrations chain. Assigning to ``module.weight`` goes through ``p.right_inverse`` when
p has one. ``remove_parametrizations`` puts a plain parameter back. State-dict keys are
PyTorch's (``parametrizations.weight.original``).
"""
import contextlib

from ...grad_mode import no_grad
from ..module import Module, ModuleDict, ModuleList, Parameter

_cache = {"enabled": 0, "values": {}}


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order to ``original``."""

    def __init__(self, modules, original, unsafe=False):
        super().__init__(modules)
        self.unsafe = unsafe
        first = modules[0]
        with no_grad():
            value = first.right_inverse(original) if hasattr(first, "right_inverse") else original
        if isinstance(value, (tuple, list)):
            for i, v in enumerate(value):
                self.register_parameter(f"original{i}", Parameter(v.detach().clone(), original.requires_grad))
            self.is_tensor = False
            self.ntensors = len(value)
        else:
            self.original = Parameter(value.detach().clone(), original.requires_grad)
            self.is_tensor = True
            self.ntensors = 1

    def right_inverse(self, value):
        """Sets the originals so that the parametrized value is value (through each
        parametrization's right_inverse, last to first)."""
        with no_grad():
            for p in reversed(list(self)):
                if not hasattr(p, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(p).__name__} has no right_inverse: the tensor "
                                       "cannot be assigned")
                value = p.right_inverse(value)
            if self.is_tensor:
                self.original.copy_(value)
            else:
                for i, v in enumerate(value):
                    getattr(self, f"original{i}").copy_(v)

    def forward(self):
        first = self[0]
        x = first(self.original) if self.is_tensor else first(*(getattr(self, f"original{i}")
                                                              for i in range(self.ntensors)))
        for p in list(self)[1:]:
            x = p(x)
        return x


def _value(module, name):
    plist = module._modules["parametrizations"]._modules[name]
    if _cache["enabled"]:
        key = (id(plist), name)
        if key not in _cache["values"]:
            _cache["values"][key] = plist()
        return _cache["values"][key]
    return plist()


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Makes module.<tensor_name> (a parameter or buffer, or an already parametrized
    tensor) the value of parametrization applied to it; returns module."""
    if not isinstance(parametrization, Module):
        raise TypeError(f"register_parametrization: the parametrization must be a Module, got "
                        f"{type(parametrization).__name__}")
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            with no_grad():
                value = getattr(module, tensor_name)
                out = parametrization(value)
            if tuple(out.shape) != tuple(value.shape) or out.dtype != value.dtype:
                raise ValueError(f"register_parametrization: the parametrization changes '{tensor_name}' from "
                                 f"{tuple(value.shape)} {value.dtype.name} to {tuple(out.shape)} {out.dtype.name}")
        plist.append(parametrization)
        return module
    original = module._parameters.get(tensor_name)
    is_buffer = original is None and tensor_name in module._buffers
    if is_buffer:
        original = module._buffers[tensor_name]
    if original is None:
        raise ValueError(f"register_parametrization: {type(module).__name__} has no parameter or buffer "
                         f"'{tensor_name}'")
    if not unsafe:
        with no_grad():
            out = parametrization(original)
        if tuple(out.shape) != tuple(original.shape) or out.dtype != original.dtype:
            raise ValueError(f"register_parametrization: the parametrization changes '{tensor_name}' from "
                             f"{tuple(original.shape)} {original.dtype.name} to {tuple(out.shape)} {out.dtype.name}; "
                             "pass unsafe=True to allow it")
    plist = ParametrizationList([parametrization], original, unsafe)
    if "parametrizations" not in module._modules:
        module.parametrizations = ModuleDict()
    (module._buffers if is_buffer else module._parameters).pop(tensor_name)
    module.parametrizations[tensor_name] = plist
    return module


def is_parametrized(module, tensor_name=None):
    plists = module._modules.get("parametrizations")
    if plists is None or not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists._modules


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Puts back a plain parameter <tensor_name>: the parametrized value (or, with
    leave_parametrized=False, the original)."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: {type(module).__name__} has no parametrization on "
                         f"'{tensor_name}'")
    plist = module.parametrizations[tensor_name]
    with no_grad():
        if leave_parametrized:
            value = plist().detach().clone()
        elif plist.is_tensor:
            value = plist.original.detach().clone()
        else:
            raise ValueError("remove_parametrizations: leave_parametrized=False needs a single original tensor")
    requires_grad = plist.original.requires_grad if plist.is_tensor else plist.original0.requires_grad
    del module.parametrizations._modules[tensor_name]
    if not len(module.parametrizations):
        del module._modules["parametrizations"]
    module.register_parameter(tensor_name, Parameter(value, requires_grad))
    return module


@contextlib.contextmanager
def cached():
    """Within the block each parametrized tensor is computed once (its first access)."""
    _cache["enabled"] += 1
    try:
        yield
    finally:
        _cache["enabled"] -= 1
        if not _cache["enabled"]:
            _cache["values"].clear()
