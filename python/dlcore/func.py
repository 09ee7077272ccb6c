"""Function transforms with ``torch.func``'s names: ``grad``, ``grad_and_value``, ``vjp``,
``jvp``, ``jacrev``, ``jacfwd``, ``hessian``, ``vmap``, ``functional_call`` and
``stack_module_state``.

They are built on dlcore's reverse-mode autograd, so they compose (``grad(grad(f))``):
an input that already takes part in a graph stays connected, and the results keep their
graph only where an input had one. ``vmap`` runs the function once per slice and stacks
the results: the semantics of PyTorch's vmap (in_dims, out_dims, nested vmaps), not its
batched speed. ``jacfwd`` computes the same Jacobian as ``jacrev`` (by reverse mode).
"""
import builtins
import contextlib

from . import _C
from .autograd import grad as _autograd_grad
from .autograd import functional as _functional
from .grad_mode import enable_grad

Tensor = _C.Tensor


def _argnums(argnums, n, name):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not isinstance(a, int) or not -n <= a < n:
            raise ValueError(f"{name}: argnums {argnums!r} out of range for {n} positional arguments")
    return tuple(a % n for a in nums)


def _tensors(x, name):
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for item in x for t in _tensors(item, name)]
    if isinstance(x, dict):
        return [t for item in x.values() for t in _tensors(item, name)]
    raise TypeError(f"{name}: expected tensors (or tuples, lists, dicts of them), got {type(x).__name__}")


def _rebuild(x, it):
    """x's structure with its tensors replaced, in order, by those of iterator it."""
    if isinstance(x, Tensor):
        return next(it)
    if isinstance(x, tuple):
        return tuple(_rebuild(v, it) for v in x)
    if isinstance(x, list):
        return [_rebuild(v, it) for v in x]
    return {k: _rebuild(v, it) for k, v in x.items()}


def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (the gradient of func's scalar output with respect to the
    arguments argnums, the output) (with has_aux, func returns (output, aux) and the value
    part is (output, aux))."""
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args), "grad")
        args = list(args)
        originals = {}
        for a in nums:
            ts = _tensors(args[a], "grad")
            fresh = [t if t.requires_grad else t.detach().requires_grad_() for t in ts]
            originals[a] = [t.requires_grad for t in ts]
            args[a] = _rebuild(args[a], iter(fresh))
        with enable_grad():
            out = func(*args, **kwargs)
        if has_aux and not (isinstance(out, tuple) and len(out) == 2):
            raise ValueError("grad: with has_aux=True, func must return (output, aux)")
        value, aux = (out if has_aux else (out, None))
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise ValueError(f"grad: func must return a tensor with one element, got "
                             f"{tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__}")
        wrt = [t for a in nums for t in _tensors(args[a], "grad")]
        # Results keep their graph where an input already had one (a nested transform).
        keep_graph = builtins.any(builtins.any(originals[a]) for a in nums)
        grads = _autograd_grad(value, wrt, create_graph=True, allow_unused=True)
        grads = [(g if g is not None else t * 0.0) for g, t in zip(grads, wrt)]
        if not keep_graph:
            grads = [g.detach() for g in grads]
            value = value.detach()
        it = iter(grads)
        per_arg = [_rebuild(args[a], it) for a in nums]
        result = per_arg[0] if isinstance(argnums, int) else tuple(per_arg)
        return result, ((value, aux) if has_aux else value)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of func's scalar output with respect to the
    arguments argnums (and aux, with has_aux)."""
    inner = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, value = inner(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn): vjp_fn(cotangents) returns the vector-Jacobian products,
    one per primal."""
    fresh = [p if p.requires_grad else p.detach().requires_grad_() for p in primals]
    with enable_grad():
        out = func(*fresh)
    value, aux = out if has_aux else (out, None)
    outs = _tensors(value, "vjp")
    connected = builtins.any(p.requires_grad for p in primals)

    def vjp_fn(*cotangents):
        cts = _tensors(cotangents[0] if len(cotangents) == 1 else list(cotangents), "vjp")
        if len(cts) != len(outs):
            raise ValueError(f"vjp: expected {len(outs)} cotangents, got {len(cts)}")
        gs = _autograd_grad(outs, fresh, cts, retain_graph=True, create_graph=True, allow_unused=True)
        gs = [g if g is not None else p * 0.0 for g, p in zip(gs, fresh)]
        return tuple(gs if connected else [g.detach() for g in gs])

    value = value if connected else _rebuild(value, iter([t.detach() for t in outs]))
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def jvp(func, primals, tangents, *, has_aux=False):
    """(func(*primals), the Jacobian-vector product with tangents)."""
    create = builtins.any(p.requires_grad for p in primals)
    aux_box = []

    def plain(*xs):
        out = func(*xs)
        if has_aux:
            aux_box.append(out[1])
            return out[0]
        return out

    value, out = _functional.jvp(plain, tuple(primals), tuple(tangents), create_graph=create)
    return (value, out, aux_box[-1]) if has_aux else (value, out)


def jacrev(func, argnums=0, *, has_aux=False):
    """A function returning the Jacobian of func's output with respect to the arguments
    argnums (shape: output's shape + argument's shape)."""
    def wrapper(*args):
        nums = _argnums(argnums, len(args), "jacrev")
        aux_box = []

        def of_chosen(*chosen):
            full = list(args)
            for a, v in zip(nums, chosen):
                full[a] = v
            out = func(*full)
            if has_aux:
                aux_box.append(out[1])
                return out[0]
            return out

        create = builtins.any(args[a].requires_grad for a in nums)
        jac = _functional.jacobian(of_chosen, tuple(args[a] for a in nums), create_graph=create)
        result = jac[0] if isinstance(argnums, int) else tuple(jac)
        return (result, aux_box[-1]) if has_aux else result

    return wrapper


jacfwd = jacrev


def hessian(func, argnums=0):
    """The Jacobian of the Jacobian."""
    return jacrev(jacrev(func, argnums), argnums)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dimension in_dims of its arguments (an int for all, or one entry
    per argument, None for an argument passed whole; an argument may be a tuple, list or
    dict of tensors, each mapped), the results (a tensor or a tuple of them) stacked along
    out_dims."""
    def wrapper(*args):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(dims)} entries for {len(args)} arguments")
        leaves = [None if d is None else [t.movedim(d, 0) for t in _tensors(a, "vmap")]
                  for a, d in zip(args, dims)]
        sizes = {t.shape[0] for ls in leaves if ls for t in ls}
        if not sizes:
            raise ValueError("vmap: at least one argument must be mapped (in_dims not all None)")
        if len(sizes) != 1:
            raise ValueError(f"vmap: the mapped dimensions have different sizes {sorted(sizes)}")
        n = sizes.pop()

        def call(i):
            return func(*[a if ls is None else _rebuild(a, iter([t[i] for t in ls])) for a, ls in zip(args, leaves)])

        results = [call(i) for i in range(n)]
        single = isinstance(results[0], Tensor)
        columns = [results] if single else list(zip(*results))
        outs = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(columns)
        stacked = [_C.stack(list(col), 0).movedim(0, od) for col, od in zip(columns, outs)]
        return stacked[0] if single else tuple(stacked)

    return wrapper


@contextlib.contextmanager
def _swapped(module, tensors, strict):
    """module's parameters and buffers named in tensors ('layer.weight' keys) replaced
    for the duration."""
    own = dict(module.named_parameters())
    own.update(dict(module.named_buffers()))
    unknown = [k for k in tensors if k not in own]
    if unknown:
        raise ValueError(f"functional_call: the module has no parameter or buffer named {unknown[0]!r}")
    if strict:
        missing = [k for k in own if k not in tensors]
        if missing:
            raise ValueError(f"functional_call: strict=True, but {missing[0]!r} was not given")
    saved = []
    for key, value in tensors.items():
        *path, leaf = key.split(".")
        owner = module
        for p in path:
            owner = getattr(owner, p)
        table = owner._parameters if leaf in owner._parameters else owner._buffers
        saved.append((table, leaf, table[leaf]))
        table[leaf] = value
    try:
        yield
    finally:
        for table, leaf, old in reversed(saved):
            table[leaf] = old


def functional_call(module, parameter_and_buffer_dicts, args=(), kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) run with the given tensors (a dict, or a tuple of dicts, of
    'name' -> tensor) in place of its parameters and buffers; the module is left as it was."""
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, (tuple, list)) \
        else (parameter_and_buffer_dicts,)
    merged = {}
    for d in dicts:
        for k, v in d.items():
            if k in merged:
                raise ValueError(f"functional_call: {k!r} is given twice")
            merged[k] = v
    args = args if isinstance(args, tuple) else (args,)
    with _swapped(module, merged, strict):
        return module(*args, **(kwargs or {}))


def stack_module_state(models):
    """(params, buffers): each name's tensors of the models stacked along a new first dim
    (for vmap over an ensemble with functional_call); the parameters detached and
    requiring grad, as PyTorch's."""
    models = list(models)
    if not models:
        raise ValueError("stack_module_state: expected at least one model")
    names = [n for n, _ in models[0].named_parameters()]
    params = {n: _C.stack([dict(m.named_parameters())[n].detach() for m in models], 0).requires_grad_()
              for n in names}
    bnames = [n for n, _ in models[0].named_buffers()]
    buffers = {n: _C.stack([dict(m.named_buffers())[n] for m in models], 0) for n in bnames}
    return params, buffers
