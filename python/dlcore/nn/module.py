"""``Module``, ``Parameter`` and the containers (``Sequential``, ``ModuleList``, ``ModuleDict``).

A module holds parameters, buffers and sub-modules registered by attribute assignment,
exactly as in PyTorch: ``self.fc = Linear(2, 3)`` registers a child, ``self.w =
Parameter(...)`` a parameter, ``self.register_buffer("running_mean", t)`` a buffer.
"""
from collections import OrderedDict

import numpy as np

from .. import _C
from ..creation import zeros

Tensor = _C.Tensor


class Parameter(Tensor):
    """A tensor that is a module's parameter: assigning it to a module attribute registers it.

    ``Parameter(data)`` shares ``data``'s memory and requires grad by default.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = zeros(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter: expected a dlcore Tensor, got {type(data).__name__}")
        super().__init__(data.detach())
        self.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        return (Parameter, (self.detach().clone(), self.requires_grad))


class Buffer(Tensor):
    """A tensor that is a module's buffer: assigning it to a module attribute registers it
    (``persistent=False`` keeps it out of the state dict), as ``register_buffer`` does.

    ``Buffer(data)`` shares ``data``'s memory and keeps its ``requires_grad``.
    """

    def __init__(self, data=None, *, persistent=True):
        if data is None:
            data = zeros(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer: expected a dlcore Tensor, got {type(data).__name__}")
        super().__init__(data.detach())
        self.requires_grad_(data.requires_grad)
        self.persistent = persistent

    def __reduce_ex__(self, proto):
        return (_rebuild_buffer, (self.detach().clone(), self.persistent, self.requires_grad))


def _rebuild_buffer(data, persistent, requires_grad):
    return Buffer(data.requires_grad_(requires_grad), persistent=persistent)


def _parametrized(module, name):
    """Whether module.<name> is computed by nn.utils.parametrize."""
    plists = module.__dict__.get("_modules", {}).get("parametrizations")
    return plists is not None and name in plists.__dict__.get("_modules", {})


class Module:
    """Base class of every layer and model; subclasses define ``forward``."""

    training: bool

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        backward = self.__dict__.get("_backward_hooks") or self.__dict__.get("_backward_pre_hooks")
        if not (self._forward_pre_hooks or self._forward_hooks or backward):
            return self.forward(*args, **kwargs)
        with_kwargs = self.__dict__.get("_hooks_with_kwargs", ())
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in with_kwargs:
                r = hook(self, args, kwargs)
                if r is not None:
                    if not (isinstance(r, tuple) and len(r) == 2 and isinstance(r[1], dict)):
                        raise RuntimeError("forward pre-hook registered with_kwargs must return None or a tuple "
                                           f"(new_args, new_kwargs), got {type(r).__name__}")
                    args, kwargs = r
                    args = args if isinstance(args, tuple) else (args,)
            else:
                r = hook(self, args)
                if r is not None:
                    args = r if isinstance(r, tuple) else (r,)
        if backward:
            from .backward_hooks import wrap_inputs

            args, state = wrap_inputs(self, args)
        try:
            out = self.forward(*args, **kwargs)
        except BaseException:
            always = self.__dict__.get("_hooks_always_called", ())
            for key, hook in list(self._forward_hooks.items()):
                if key in always:
                    try:
                        hook(self, args, kwargs, None) if key in with_kwargs else hook(self, args, None)
                    except Exception:
                        pass  # the forward's own error is the one to see
            raise
        for key, hook in list(self._forward_hooks.items()):
            r = hook(self, args, kwargs, out) if key in with_kwargs else hook(self, args, out)
            if r is not None:
                out = r
        if backward:
            from .backward_hooks import wrap_outputs

            out = wrap_outputs(state, out)
        return out

    # ---- registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign '{name}' before Module.__init__() is called")
        params, buffers, modules = self._parameters, self._buffers, self._modules
        if _parametrized(self, name) and not isinstance(value, Module):
            modules["parametrizations"]._modules[name].right_inverse(value)
            return
        if isinstance(value, Parameter):
            self._remove_from(name, buffers, modules)
            params[name] = value
        elif isinstance(value, Module):
            self._remove_from(name, params, buffers)
            modules[name] = value
        elif isinstance(value, Buffer):
            self._remove_from(name, params, modules)
            self.register_buffer(name, value, persistent=value.persistent)
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter '{name}' "
                                "(a Parameter or None is expected)")
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module '{name}' "
                                "(a Module or None is expected)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer '{name}' "
                                "(a Tensor or None is expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _remove_from(self, name, *dicts):
        for d in dicts:
            d.pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            if key in d and name in d[key]:
                return d[key][name]
        if _parametrized(self, name):
            from .utils.parametrize import _value

            return _value(self, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(key, {}):
                del self.__dict__[key][name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def register_parameter(self, name, param):
        _check_name(name, self, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None, got {type(param).__name__}")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        _check_name(name, self, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: '{name}' must be a Tensor or None, got {type(tensor).__name__}")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        _check_name(name, self, "module", self._modules)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module or None, got {type(module).__name__}")
        self._modules[name] = module

    register_module = add_module

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output)`` runs after forward; a non-None result replaces the
        output. ``with_kwargs``: ``hook(module, args, kwargs, output)``; ``prepend``: runs
        before the hooks already registered; ``always_call``: runs (with output None) even
        when forward raises."""
        handle = _HookHandle(self._forward_hooks, hook, prepend)
        self._flag_hook(handle, with_kwargs, always_call)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` runs before forward; a non-None result replaces the
        arguments. ``with_kwargs``: ``hook(module, args, kwargs)``, returning None or
        ``(args, kwargs)``; ``prepend``: runs before the hooks already registered."""
        handle = _HookHandle(self._forward_pre_hooks, hook, prepend)
        self._flag_hook(handle, with_kwargs, False)
        return handle

    def _flag_hook(self, handle, with_kwargs, always_call):
        for flag, name in ((with_kwargs, "_hooks_with_kwargs"), (always_call, "_hooks_always_called")):
            if flag:
                if name not in self.__dict__:
                    object.__setattr__(self, name, set())
                self.__dict__[name].add(handle.id)

    def register_state_dict_pre_hook(self, hook):
        """``hook(module, prefix, keep_vars)`` runs before state_dict() collects this
        module's entries."""
        return _HookHandle(self._hook_table("_state_dict_pre_hooks"), hook)

    def register_state_dict_post_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata)`` runs after state_dict() has
        collected this module's entries, and may change state_dict in place."""
        return _HookHandle(self._hook_table("_state_dict_hooks"), hook)

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` runs before load_state_dict() reads this module's
        entries, and may change state_dict in place (rename or convert keys)."""
        return _HookHandle(self._hook_table("_load_state_dict_pre_hooks"), hook)

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys)`` runs after load_state_dict(), with the lists
        of missing and unexpected keys, which it may change in place before strict checks
        them."""
        return _HookHandle(self._hook_table("_load_state_dict_post_hooks"), hook)

    def register_full_backward_hook(self, hook):
        """``hook(module, grad_input, grad_output)`` runs when the gradients with respect to
        the module's inputs are computed; a non-None result replaces grad_input
        (nn/backward_hooks.py)."""
        return _HookHandle(self._backward_hook_table("_backward_hooks"), hook)

    def register_full_backward_pre_hook(self, hook):
        """``hook(module, grad_output)`` runs when the gradients with respect to the module's
        outputs arrive; a non-None result replaces grad_output."""
        return _HookHandle(self._backward_hook_table("_backward_pre_hooks"), hook)

    def _hook_table(self, name):
        if name not in self.__dict__:  # made on first use
            object.__setattr__(self, name, OrderedDict())
        return self.__dict__[name]

    _backward_hook_table = _hook_table

    # ---- traversal
    def get_submodule(self, target):
        """The module at the dotted path target ('' is this one); AttributeError naming the
        part that is missing or not a module."""
        mod = self
        if target == "":
            return mod
        for part in target.split("."):
            child = mod._modules.get(part) if isinstance(mod, Module) else None
            if child is None:
                raise AttributeError(f"{type(mod).__name__} has no submodule {part!r} (looking up {target!r})")
            mod = child
        return mod

    def set_submodule(self, target, module):
        """Replaces the module at the dotted path target (which must exist)."""
        *path, leaf = target.split(".")
        owner = self.get_submodule(".".join(path))
        if leaf not in owner._modules:
            raise AttributeError(f"{type(owner).__name__} has no submodule {leaf!r} (looking up {target!r})")
        setattr(owner, leaf, module)

    def get_parameter(self, target):
        *path, leaf = target.split(".")
        owner = self.get_submodule(".".join(path))
        if leaf not in owner._parameters:
            raise AttributeError(f"{type(owner).__name__} has no parameter {leaf!r} (looking up {target!r})")
        return owner._parameters[leaf]

    def get_buffer(self, target):
        *path, leaf = target.split(".")
        owner = self.get_submodule(".".join(path))
        if leaf not in owner._buffers:
            raise AttributeError(f"{type(owner).__name__} has no buffer {leaf!r} (looking up {target!r})")
        return owner._buffers[leaf]

    def compile(self, *args, **kwargs):
        """Nothing to do: dlcore runs eagerly (as dlcore.compile)."""

    def cuda(self, device=None):
        raise RuntimeError("Module.cuda(): no CUDA device in this dlcore build (dlcore.cuda.is_available() is "
                           "False); keep the model on the 'cpu' device")

    def half(self):
        raise TypeError("Module.half(): dlcore has no float16 tensors (float32 and float64)")

    def bfloat16(self):
        raise TypeError("Module.bfloat16(): dlcore has no bfloat16 tensors (float32 and float64)")

    def share_memory(self):
        """One process holds everything: the module as it is."""
        return self

    def named_modules(self, memo=None, prefix=""):
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, prefix + ("." if prefix else "") + name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, key, prefix, recurse):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mprefix, m in mods:
            for name, t in getattr(m, key).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield mprefix + ("." if mprefix else "") + name, t

    def named_parameters(self, prefix="", recurse=True):
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and conversions
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        zero_grads(self.parameters(), set_to_none)

    def apply(self, fn):
        """Calls ``fn(module)`` on every sub-module (children first) and on self; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _apply_to_tensors(self, convert):
        for m in self.modules():
            for name, p in m._parameters.items():
                if p is None:
                    continue
                new = convert(p)
                if new is not p:
                    q = Parameter(new, requires_grad=p.requires_grad)
                    if p.grad is not None:
                        q.grad = convert(p.grad)
                    m._parameters[name] = q
            for name, b in m._buffers.items():
                if b is not None:
                    m._buffers[name] = convert(b)
        return self

    def to(self, *args, **kwargs):
        """``to(dtype)`` (or ``to(device)``, ``to(device, dtype)``): converts floating-point
        parameters and buffers. Only the CPU device exists; replaces Parameters whose dtype
        changes, so build the optimizer after calling ``to``."""
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        if kwargs:
            raise TypeError(f"to: unexpected arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, _C.dtype):
                dtype = a
            else:
                device = a
        if device is not None and str(device) != "cpu":
            raise TypeError(f"to: only the 'cpu' device is available, got {device!r}")
        if dtype is None:
            return self
        if not dtype.is_floating_point:
            raise TypeError(f"to: module parameters can only be converted to a floating-point dtype, got {dtype!r}")
        return self._apply_to_tensors(lambda t: t.detach().to(dtype) if t.dtype.is_floating_point
                                      and t.dtype != dtype else t)

    def float(self):
        return self.to(_C.dtype.float32)

    def double(self):
        return self.to(_C.dtype.float64)

    def cpu(self):
        return self

    # ---- state
    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An ordered dict from dotted names to parameters and persistent buffers (detached
        unless ``keep_vars``), after each module's state-dict pre-hooks and before its
        post-hooks."""
        if args:  # PyTorch's old positional form: state_dict(destination, prefix, keep_vars)
            destination, prefix, keep_vars = (list(args) + [destination, prefix, keep_vars][len(args):])[:3]
        return self._entries(destination, prefix, keep_vars, hooks=True)

    def _entries(self, destination=None, prefix="", keep_vars=False, hooks=False):
        """state_dict's entries; with hooks, around the state-dict hooks (load_state_dict
        reads the module's own entries, without them)."""
        out = OrderedDict() if destination is None else destination
        for mprefix, m in self.named_modules(prefix=prefix.rstrip(".")):
            dot = mprefix + ("." if mprefix else "")
            for hook in list(m.__dict__.get("_state_dict_pre_hooks", {}).values()) if hooks else ():
                hook(m, dot, keep_vars)
            for name, p in m._parameters.items():
                if p is not None:
                    out[dot + name] = p if keep_vars else p.detach()
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent:
                    out[dot + name] = b if keep_vars else b.detach()
        for mprefix, m in reversed(list(self.named_modules(prefix=prefix.rstrip("."))) if hooks else []):
            for hook in list(m.__dict__.get("_state_dict_hooks", {}).values()):
                hook(m, out, mprefix + ("." if mprefix else ""), {})
        return out

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copies values into this module's parameters and buffers (in place, under no_grad),
        or with ``assign`` makes the given tensors the parameters and buffers (a parameter
        keeps its requires_grad).

        Shape mismatches always raise; with ``strict`` missing and unexpected keys raise too.
        Each module's load pre-hooks run first (on a copy of state_dict they may change), its
        post-hooks last. Returns ``(missing_keys, unexpected_keys)``.
        """
        pre = [(mprefix, m) for mprefix, m in self.named_modules() if m.__dict__.get("_load_state_dict_pre_hooks")]
        missing_hook, unexpected_hook, error_msgs = [], [], []  # what the pre-hooks report
        if pre:
            state_dict = OrderedDict(state_dict)
            for mprefix, m in pre:
                for hook in list(m._load_state_dict_pre_hooks.values()):
                    hook(m, state_dict, mprefix + ("." if mprefix else ""), {}, strict, missing_hook,
                         unexpected_hook, error_msgs)
            if error_msgs:
                raise ValueError(f"load_state_dict of {type(self).__name__}: " + ". ".join(error_msgs))
        own = self._entries(keep_vars=True)
        self._materialize_placeholders(own, state_dict)
        own = self._entries(keep_vars=True)
        missing = [k for k in own if k not in state_dict] + missing_hook
        unexpected = [k for k in state_dict if k not in own] + unexpected_hook
        keys = _IncompatibleKeys(missing, unexpected)
        mismatched = []
        for k, t in own.items():
            if k in state_dict:
                v = state_dict[k]
                shape = tuple(v.shape) if hasattr(v, "shape") else None
                if shape != tuple(t.shape):
                    mismatched.append(f"{k}: checkpoint {shape}, model {tuple(t.shape)}")
        if mismatched:
            raise ValueError(f"load_state_dict of {type(self).__name__}: size mismatch for " + "; ".join(mismatched))
        post = [m for _, m in self.named_modules() if m.__dict__.get("_load_state_dict_post_hooks")]
        if not post:
            self._check_keys(keys, strict)  # before any copy: a failed load changes nothing
        from ..grad_mode import no_grad

        with no_grad():
            for k, t in own.items():
                if k in state_dict:
                    v = state_dict[k]
                    if not isinstance(v, Tensor):  # a NumPy array, say
                        v = _C.from_numpy(np.ascontiguousarray(v))
                    if assign:
                        self._assign(k, t, v)
                    else:
                        t.copy_(v.detach())
        if post:
            # The post-hooks see the loaded module and may change the key lists that strict
            # then checks (as in PyTorch, a strict failure then comes after the copies).
            for m in post:
                for hook in list(m._load_state_dict_post_hooks.values()):
                    hook(m, keys)
            self._check_keys(keys, strict)
        return keys

    def _check_keys(self, keys, strict):
        if strict and (keys.missing_keys or keys.unexpected_keys):
            errors = []
            if keys.missing_keys:
                errors.append("missing keys: " + ", ".join(keys.missing_keys))
            if keys.unexpected_keys:
                errors.append("unexpected keys: " + ", ".join(keys.unexpected_keys))
            raise ValueError(f"load_state_dict of {type(self).__name__}: " + ". ".join(errors))

    def _assign(self, key, old, value):
        """load_state_dict(assign=True): value becomes the entry at key."""
        *path, leaf = key.split(".")
        owner = self
        for p in path:
            owner = getattr(owner, p)
        if leaf in owner._parameters:
            if value.dtype != old.dtype:
                raise TypeError(f"load_state_dict(assign=True): {key} is {value.dtype} in the checkpoint but "
                                f"{old.dtype} in the model")
            owner._parameters[leaf] = Parameter(value, requires_grad=old.requires_grad)
        else:
            owner._buffers[leaf] = value.detach() if value.requires_grad else value

    def to_empty(self, *, device=None, recurse=True):
        """Replaces every parameter and buffer with an uninitialised tensor of the same shape
        and dtype (a parameter keeps its requires_grad), for weights to be filled next (from
        a checkpoint, or by an init function). device may only be the CPU."""
        if device is not None and str(device).split(":")[0] != "cpu":
            raise TypeError(f"to_empty: dlcore tensors live on the CPU, got device={device!r}")
        from ..creation import empty

        modules = self.modules() if recurse else [self]
        for m in modules:
            for name, p in list(m._parameters.items()):
                if p is not None:
                    m._parameters[name] = Parameter(empty(tuple(p.shape), dtype=p.dtype),
                                                    requires_grad=p.requires_grad)
            for name, b in list(m._buffers.items()):
                if b is not None:
                    m._buffers[name] = empty(tuple(b.shape), dtype=b.dtype)
        return self

    def _materialize_placeholders(self, own, state_dict):
        """Sizes a lazy layer's placeholders (nn/lazy.py) from the checkpoint's tensors."""
        for key, t in own.items():
            if key in state_dict and hasattr(t, "materialize") and hasattr(state_dict[key], "shape"):
                *path, leaf = key.split(".")
                owner = self
                for p in path:
                    owner = getattr(owner, p)
                shape = tuple(state_dict[key].shape)
                if leaf in owner._parameters:
                    t.materialize(shape)
                else:
                    owner._buffers[leaf] = t.materialize(shape)

    # ---- printing
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        if not lines:
            if "\n" in extra:  # one entry per line (ParameterList, ParameterDict)
                return f"{type(self).__name__}(\n  " + extra.replace("\n", "\n  ") + "\n)"
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"\n  {extra}" if extra else "")
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def zero_grads(params, set_to_none=True):
    """Drops each parameter's .grad (set_to_none) or fills it with zeros."""
    for p in params:
        if p.grad is None:
            continue
        if set_to_none:
            p.grad = None
        else:
            g = p.grad.detach()
            g.zero_()
            p.grad = g


class _IncompatibleKeys(tuple):
    def __new__(cls, missing, unexpected):
        return super().__new__(cls, (missing, unexpected))

    missing_keys = property(lambda self: self[0])
    unexpected_keys = property(lambda self: self[1])

    def __repr__(self):
        return f"<keys: missing {self[0]}, unexpected {self[1]}>"


class _HookHandle:
    _next_id = 0

    def __init__(self, hooks, hook, prepend=False):
        self.hooks = hooks
        self.id = _HookHandle._next_id
        _HookHandle._next_id += 1
        hooks[self.id] = hook
        if prepend:
            hooks.move_to_end(self.id, last=False)

    def remove(self):
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _check_name(name, module, what, own):
    """A new entry of ``own`` (the module's parameters, buffers or children) may replace one of
    the same kind, never a plain attribute, a class attribute or an entry of another kind."""
    if not isinstance(name, str):
        raise TypeError(f"{what} name must be a str, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f"{what} name can't be empty or contain '.', got '{name}'")
    others = [d for d in (module._parameters, module._buffers, module._modules) if d is not own]
    if name not in own and (name in module.__dict__ or hasattr(type(module), name) or any(name in d for d in others)):
        raise KeyError(f"attribute '{name}' already exists")


class Sequential(Module):
    """Modules applied in order: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 2))`` or from an
    OrderedDict of names to modules."""

    def __init__(self, *mods):
        super().__init__()
        if len(mods) == 1 and isinstance(mods[0], OrderedDict):
            for name, m in mods[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(mods):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._name_at(idx)]

    def __setitem__(self, idx, module):
        self.add_module(self._name_at(idx), module)

    def __delitem__(self, idx):
        del self._modules[self._name_at(idx)]

    def _name_at(self, idx):
        return list(self._modules)[int(_key(idx, len(self), "Sequential"))]

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self


def _key(idx, n, what):
    if not isinstance(idx, int):
        raise TypeError(f"{what} indices must be integers or slices, got {type(idx).__name__}")
    if not -n <= idx < n:
        raise IndexError(f"{what} index {idx} is out of range for length {n}")
    return str(idx % n) if n else str(idx)


class ModuleList(Module):
    """A list of modules, registered as children (indexable, iterable, appendable)."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _keys(self):
        return list(self._modules.keys())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[self._keys()[int(_key(idx, len(self), "ModuleList"))]]

    def __setitem__(self, idx, module):
        self.add_module(self._keys()[int(_key(idx, len(self), "ModuleList"))], module)

    def __delitem__(self, idx):
        del self._modules[self._keys()[int(_key(idx, len(self), "ModuleList"))]]
        mods = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)


class ModuleDict(Module):
    """An ordered dict of named modules, registered as children."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key):
        return self._modules.pop(key)

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self.add_module(k, m)


__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict"]
