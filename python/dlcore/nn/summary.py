"""``summary(model, input_shape)``: a per-layer table of output shapes, parameter counts and
forward FLOPs, from one forward pass on zeros."""
from .. import _C
from ..creation import zeros
from ..grad_mode import no_grad
from .module import Module


def _flops(module, inputs, output):
    """Forward floating-point operations of one leaf module (a multiply-add counts 2)."""
    flops_of = getattr(module, "_flops", None)
    if flops_of is not None:
        return int(flops_of(inputs, output))
    from .linear import Linear, Maxout

    if isinstance(module, (Linear, Maxout)):
        x = inputs[0]
        rows = x.numel() // x.shape[-1] if x.ndim and x.shape[-1] else 0
        out_f = module.weight.shape[0]
        return rows * out_f * (2 * module.weight.shape[1] + (1 if module.bias is not None else 0))
    if isinstance(output, _C.Tensor) and module.__module__.endswith(("activation", "dropout")):
        return output.numel()
    return 0


def summary(model, input_shape, dtype=None, print_fn=print):
    """Runs ``model`` once on zeros of ``input_shape`` (including the batch dim) and prints,
    per leaf layer, its name, type, output shape, parameter count and forward FLOPs.

    Returns ``{"params": ..., "trainable_params": ..., "flops": ...}`` for the whole model.
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a dlcore.nn.Module, got {type(model).__name__}")
    rows, handles = [], []
    for name, m in model.named_modules():
        if next(m.children(), None) is not None:
            continue

        def hook(mod, inputs, output, name=name):
            shape = tuple(output.shape) if isinstance(output, _C.Tensor) else type(output).__name__
            n = sum(p.numel() for p in mod.parameters(recurse=False))
            rows.append((name or type(mod).__name__, type(mod).__name__, shape, n, _flops(mod, inputs, output)))

        handles.append(m.register_forward_hook(hook))
    try:
        with no_grad():
            model(zeros(*input_shape, dtype=dtype))
    finally:
        for h in handles:
            h.remove()
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    flops = sum(r[4] for r in rows)
    header = f"{'layer':<24}{'type':<18}{'output shape':<22}{'params':>12}{'FLOPs':>16}"
    lines = [header, "-" * len(header)]
    for name, kind, shape, n, f in rows:
        lines.append(f"{name:<24}{kind:<18}{str(shape):<22}{n:>12,}{f:>16,}")
    lines += ["-" * len(header),
              f"total params {total:,} (trainable {trainable:,}); forward FLOPs {flops:,} "
              f"for input {tuple(input_shape)}"]
    print_fn("\n".join(lines))
    return {"params": total, "trainable_params": trainable, "flops": flops}
