"""The ``Optimizer`` base class: parameter groups, per-parameter state, ``zero_grad``,
``state_dict`` / ``load_state_dict``. Subclasses name their C++ update kind and state;
``step()`` makes one fused C++ call per parameter group (per dtype within a group)."""
import copy

from .. import _C
from ..creation import full, zeros_like
from ..grad_mode import no_grad
from ..nn.module import zero_grads

Tensor = _C.Tensor


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class Optimizer:
    #: the C++ update kind ("sgd", "adam", "adagrad", "rmsprop")
    _kind = None
    #: names of the state tensors, in the kernel's slot order
    _slots = ()

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.param_groups = []
        self.state = {}  # id(param) -> dict
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got a Tensor")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group):
        """Adds a dict with "params" and any hyperparameters that differ from the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: expected a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        # named_parameters(): (name, parameter) pairs, the names kept as "param_names".
        named = [isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in params]
        if any(named):
            if not all(named):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got {type(p).__name__}")
            if not p.dtype.is_floating_point:
                raise TypeError(f"optimizer can only optimize floating-point tensors, got {p.dtype!r}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group["params"] = params
        for k, v in self.defaults.items():
            if v is required and k not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {k}")
            group.setdefault(k, v)
        self._validate(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError("some parameters appear in more than one parameter group (or twice in one)")
        self.param_groups.append(group)

    def _validate(self, group):
        if group["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if group.get("weight_decay", 0.0) < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group.get("eps", 0.0) < 0.0:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")

    def zero_grad(self, set_to_none=True):
        zero_grads((p for g in self.param_groups for p in g["params"]), set_to_none)

    # ---- the update
    def _hyper(self, group):
        """The hyperparameters the C++ update reads, from a group."""
        raise NotImplementedError

    def _needs_slot(self, group, name):
        return True

    def _init_slot(self, group, name, p):
        return zeros_like(p)

    def _slot_shape(self, name, p):
        """The shape slot ``name`` has for parameter p (a checkpoint's must match)."""
        return tuple(p.shape)

    def step(self, closure=None):
        """One update of every parameter with a gradient; returns closure() if given."""
        loss = None
        if closure is not None:
            from ..grad_mode import enable_grad

            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _stepped(self, group):
        """(param, grad, state) for the group's parameters with a gradient, each state made
        on first use ({"step": 0}, the slots, _init_numbers) and its step count advanced."""
        out = []
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            st = self.state.get(id(p))
            if st is None:
                st = self.state[id(p)] = {"step": 0}
                for name in self._slots:
                    if self._needs_slot(group, name):
                        value = self._init_slot(group, name, p)
                        if value is not None:  # None: a slot this parameter has no use for
                            st[name] = value
                st.update(self._init_numbers(group))
            st["step"] += 1
            out.append((p, g, st))
        return out

    def _init_numbers(self, group):
        """Numbers (not tensors) a parameter's state starts with."""
        return {}

    def _step_group(self, group):
        by_dtype = {}
        for p, g, st in self._stepped(group):
            by_dtype.setdefault(p.dtype, []).append((p, g, st))
        hyper = self._hyper(group)
        for items in by_dtype.values():
            states = [[st.get(name) for _, _, st in items] for name in self._slots]
            _C._optimizer_step(self._kind, hyper, [p for p, _, _ in items], [g for _, g, _ in items], states,
                               [st["step"] for _, _, st in items], self._scalars(group, items))

    def _scalars(self, group, items):
        """Per-parameter numbers an update needs besides its step count (NAdam's momentum
        product); items are (param, grad, state) after the step count was advanced."""
        return []

    # ---- state
    def state_dict(self):
        """{"state": {index: {name: value}}, "param_groups": [{hyperparameters, "params": [index]}]},
        parameters numbered in group order, as in PyTorch."""
        index, groups = {}, []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            packed["params"] = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for g in self.param_groups:
            for p in g["params"]:
                if id(p) in self.state:
                    state[index[id(p)]] = {k: (v.detach().clone() if isinstance(v, Tensor) else v)
                                           for k, v in self.state[id(p)].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restores hyperparameters and state saved by state_dict() of an optimizer over
        parameters of the same number, order and shapes."""
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if groups is None or "state" not in state_dict:
            raise ValueError("load_state_dict: expected a dict with 'state' and 'param_groups'")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"load_state_dict: the state has {len(groups)} parameter groups, "
                             f"the optimizer {len(self.param_groups)}")
        for saved, own in zip(groups, self.param_groups):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"load_state_dict: a saved group has {len(saved['params'])} parameters, "
                                 f"the optimizer's has {len(own['params'])}")
        saved_state = {int(k): v for k, v in state_dict["state"].items()}
        new_state = {}
        for saved, own in zip(groups, self.param_groups):
            for idx, p in zip(saved["params"], own["params"]):
                if int(idx) not in saved_state:
                    continue
                entry = {}
                for k, v in saved_state[int(idx)].items():
                    if isinstance(v, Tensor) and k in self._slots:
                        if tuple(v.shape) != self._slot_shape(k, p):
                            raise ValueError(f"load_state_dict: state '{k}' of shape {tuple(v.shape)} does not "
                                             f"match its parameter of shape {tuple(p.shape)}")
                        v = v.detach().to(p.dtype).clone()
                    elif k == "step":
                        v = int(v.item()) if isinstance(v, Tensor) else int(v)
                    elif isinstance(v, Tensor) and v.ndim == 0:  # a number kept per parameter (NAdam's)
                        v = float(v.item())
                    entry[k] = v
                new_state[id(p)] = entry
        for saved, own in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    own[k] = copy.deepcopy(v) if not isinstance(v, Tensor) else v
        self.state = new_state


def _full_like(p, value):
    return full(tuple(p.shape), value, dtype=p.dtype)
