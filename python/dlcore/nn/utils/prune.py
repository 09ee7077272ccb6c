"""Pruning, as torch.nn.utils.prune: zero chosen entries (or whole channels) of a module's
parameter through a mask.

Pruning ``module.<name>`` the first time moves the parameter to ``<name>_orig``, adds the
buffer ``<name>_mask`` (1 keeps, 0 prunes) and makes ``module.<name>`` the product
``<name>_orig * <name>_mask``, recomputed before every forward (a forward pre-hook), so
the pruned entries get no gradient. Pruning the same parameter again prunes among the
entries (or channels) still unpruned: an amount of 0.5 then takes half of what is left.
``remove`` makes it permanent: ``<name>`` is a parameter again, holding the pruned values.
Amounts are a count (int) or a fraction of the entries or channels (float in [0, 1],
rounded as Python's round). Ties in the scores go to the earlier position.
"""
import math
import numbers

from ... import _C
from ...creation import ones_like, rand
from ...grad_mode import no_grad
from ..module import Module, Parameter

Tensor = _C.Tensor

__all__ = ["BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
           "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
           "l1_unstructured", "random_structured", "ln_structured", "global_unstructured", "custom_from_mask",
           "remove", "is_pruned"]


def _check_amount(amount):
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")


def _count(amount, size):
    """How many of size entries (or channels) amount prunes."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={size}")
        return int(amount)
    return round(amount * size)


def _zero_smallest(scores, mask, k):
    """mask (a flat copy's values) with the k positions of smallest scores set to 0."""
    if k == 0:
        return mask
    flat = mask.reshape(-1)
    indices = scores.reshape(-1).topk(k, largest=False).indices
    flat.index_fill_(0, indices, 0.0)
    return flat.reshape(tuple(mask.shape))


def _channel_mask(mask, dim, pruned_channels):
    """mask with the channels at pruned_channels (indices along dim) set to 0."""
    if pruned_channels.numel() == 0:
        return mask
    return mask.index_fill(dim, pruned_channels, 0.0)


def _other_dims(t, dim):
    return tuple(d for d in range(t.ndim) if d != dim)


def _check_structured(t):
    if t.ndim <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. Found tensor of "
                         f"shape {tuple(t.shape)} with {t.ndim} dims")


class BasePruningMethod:
    """A way to choose the mask: compute_mask(t, default_mask) gives the new mask from the
    importance scores t and the mask so far. apply(module, name, ...) prunes a module's
    parameter with it."""

    PRUNING_TYPE = "unstructured"
    _tensor_name = None

    def compute_mask(self, t, default_mask):
        raise NotImplementedError

    def apply_mask(self, module):
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return orig * mask.to(orig.dtype)

    def __call__(self, module, inputs):
        object.__setattr__(module, self._tensor_name, self.apply_mask(module))

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        if not isinstance(module, Module):
            raise TypeError(f"{cls.__name__}.apply: expected a Module, got {type(module).__name__}")
        old = _hook_of(module, name)
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old is None:
            orig = module._parameters.get(name)
            if not isinstance(orig, Tensor):
                raise ValueError(f"Parameter '{name}' of module {type(module).__name__} does not exist (or is not "
                                 "a parameter) and cannot be pruned")
            default_mask = ones_like(orig)
        else:
            orig = module._parameters[name + "_orig"]
            default_mask = module._buffers[name + "_mask"].detach().clone()
            if not isinstance(old, PruningContainer):
                container = PruningContainer(old)
                container._handle = old._handle
                old = container
            old.add_pruning_method(method)
            method = old
        scores = orig if importance_scores is None else importance_scores
        if tuple(scores.shape) != tuple(orig.shape):
            raise ValueError(f"importance_scores of shape {tuple(scores.shape)} should match parameter '{name}' "
                             f"of shape {tuple(orig.shape)}")
        with no_grad():
            mask = method.compute_mask(scores.detach(), default_mask)
        if old is None:
            del module._parameters[name]
            module.register_parameter(name + "_orig", orig)
            module.register_buffer(name + "_mask", mask)
            method._handle = module.register_forward_pre_hook(method)
        else:
            module._buffers[name + "_mask"] = mask
            module._forward_pre_hooks[method._handle.id] = method  # the container in the old one's place
        object.__setattr__(module, name, method.apply_mask(module))
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """t with this method's mask applied (the module-free form)."""
        scores = t if importance_scores is None else importance_scores
        mask = default_mask if default_mask is not None else ones_like(t)
        with no_grad():
            mask = self.compute_mask(scores.detach(), mask)
        return t * mask

    def remove(self, module):
        """Makes the pruning permanent: <name> becomes a parameter holding the pruned values."""
        name = self._tensor_name
        with no_grad():
            weight = self.apply_mask(module).detach().clone()
        self._handle.remove()
        module.__dict__.pop(name, None)
        orig = module._parameters.pop(name + "_orig")
        del module._buffers[name + "_mask"]
        module.register_parameter(name, Parameter(weight, requires_grad=orig.requires_grad))


def _hook_of(module, name):
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            return hook
    return None


class PruningContainer(BasePruningMethod):
    """The pruning methods applied to one parameter, in order; each new one prunes among
    the entries (or, structured, the channels) its predecessors left."""

    def __init__(self, *methods):
        self._pruning_methods = ()
        for m in methods:
            self.add_pruning_method(m)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method).__name__} is not a BasePruningMethod subclass")
        if self._tensor_name is None:
            self._tensor_name = method._tensor_name
        elif method._tensor_name != self._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' "
                             f"to PruningContainer. Found '{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, i):
        return self._pruning_methods[i]

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        kind = method.PRUNING_TYPE
        if kind in ("unstructured", "global"):
            keep = default_mask == 1
            partial = method.compute_mask(t[keep], default_mask[keep])
            new = default_mask.clone()
            new[keep] = partial
            return new
        if kind == "structured":
            dim = method.dim % t.ndim
            alive = (default_mask != 0).sum(_other_dims(t, dim)) != 0
            channels = alive.nonzero().reshape(-1)
            partial = method.compute_mask(t.index_select(dim, channels), default_mask.index_select(dim, channels))
            return default_mask.index_copy(dim, channels, partial)
        raise ValueError(f"Unrecognized PRUNING_TYPE {kind}")


class Identity(BasePruningMethod):
    """Prunes nothing: the mask of ones (so the parameter gets the _orig/_mask form)."""

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class _Unstructured(BasePruningMethod):
    """Prunes the amount entries of smallest score (_scores)."""

    def __init__(self, amount):
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        return _zero_smallest(self._scores(t), default_mask.clone(), _count(self.amount, t.numel()))


class RandomUnstructured(_Unstructured):
    """Prunes amount entries chosen at random (dlcore's default generator)."""

    def _scores(self, t):
        return rand(*tuple(t.shape), dtype=_C.dtype.float64)

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Unstructured):
    """Prunes the amount entries of smallest absolute value."""

    def _scores(self, t):
        return t.abs()

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class _Structured(BasePruningMethod):
    """Prunes the amount channels (slices along dim) of smallest score (_channel_scores)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _check_amount(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        _check_structured(t)
        dim = self.dim % t.ndim
        k = _count(self.amount, t.shape[dim])
        if k == 0:
            return default_mask.clone()
        pruned = self._channel_scores(t, dim).topk(k, largest=False).indices
        return _channel_mask(default_mask.clone(), dim, pruned)


class RandomStructured(_Structured):
    """Prunes amount whole channels (slices along dim) chosen at random."""

    def _channel_scores(self, t, dim):
        return rand(t.shape[dim], dtype=_C.dtype.float64)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(_Structured):
    """Prunes the amount channels (slices along dim) of smallest L_n norm (n a number,
    inf, -inf or 'fro' for 2)."""

    def __init__(self, amount, n, dim=-1):
        super().__init__(amount, dim)
        if n == "fro":
            n = 2
        if isinstance(n, str) or not isinstance(n, numbers.Real):
            raise ValueError(f"LnStructured: n must be a number, inf, -inf or 'fro', got {n!r}")
        self.n = n

    def _channel_scores(self, t, dim):
        a = t.abs()
        others = _other_dims(t, dim)
        if self.n == math.inf:
            return a.amax(others)
        if self.n == -math.inf:
            return a.amin(others)
        if self.n == 0:
            return (a != 0).to(a.dtype).sum(others)
        return a.pow(self.n).sum(others).pow(1.0 / self.n)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where the given mask is 0."""

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if tuple(self.mask.shape) != tuple(default_mask.shape):
            raise ValueError(f"custom_from_mask: the mask of shape {tuple(self.mask.shape)} does not match the "
                             f"parameter's shape {tuple(default_mask.shape)}")
        return default_mask * self.mask.to(default_mask.dtype)

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def identity(module, name):
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prunes across all the (module, name) pairs at once, as one vector: with
    L1Unstructured and amount=k, the k smallest entries of them all, wherever they are.
    Each parameter then carries its share of the mask (as custom_from_mask)."""
    parameters = list(parameters)
    if not parameters:
        raise ValueError("global_unstructured: no (module, name) pairs to prune")
    if not isinstance(pruning_method, type) or not issubclass(pruning_method, BasePruningMethod):
        raise TypeError(f"global_unstructured: pruning_method must be a BasePruningMethod subclass, "
                        f"got {pruning_method!r}")
    if pruning_method.PRUNING_TYPE not in ("unstructured", "global"):
        raise TypeError(f'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
                        f"{pruning_method.__name__} of type {pruning_method.PRUNING_TYPE}")
    importance_scores = importance_scores or {}
    scores, masks = [], []
    for module, name in parameters:
        current = getattr(module, name)
        scores.append(importance_scores.get((module, name), current).detach().reshape(-1))
        mask = module._buffers.get(name + "_mask")
        masks.append((mask if mask is not None else ones_like(current)).reshape(-1))
    method = pruning_method(**kwargs)
    method._tensor_name = "global"
    container = PruningContainer(method)
    with no_grad():
        mask = container.compute_mask(_C.cat(scores), _C.cat(masks))
    start = 0
    for (module, name), s in zip(parameters, scores):
        n = s.numel()
        shape = tuple(getattr(module, name).shape)
        custom_from_mask(module, name, mask[start:start + n].reshape(shape))
        start += n


def remove(module, name):
    """Makes the pruning of module.<name> permanent (see the module's docstring)."""
    method = _hook_of(module, name)
    if method is None:
        raise ValueError(f"Parameter '{name}' of module {type(module).__name__} has to be pruned before pruning "
                         "can be removed")
    method.remove(module)
    return module


def is_pruned(module):
    """Whether module or a submodule of it has a pruned parameter."""
    return any(isinstance(h, BasePruningMethod) for m in module.modules() for h in m._forward_pre_hooks.values())
