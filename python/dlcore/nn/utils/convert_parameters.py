"""All of a model's parameters as one flat vector, and back (for optimisers and analyses
that work on a single vector)."""
from ... import _C


def parameters_to_vector(parameters):
    """The parameters, flattened and joined in order, as one 1-D tensor (a copy, in the
    graph: gradients flow back to each parameter)."""
    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: no parameters given")
    return _C.cat([p.reshape(-1) for p in params], 0)


def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of the 1-D ``vec`` into the parameters, in order."""
    if not isinstance(vec, _C.Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D tensor, got "
                        f"{tuple(vec.shape) if isinstance(vec, _C.Tensor) else type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if total != vec.shape[0]:
        raise ValueError(f"vector_to_parameters: the vector has {vec.shape[0]} values, the parameters {total}")
    from ...grad_mode import no_grad

    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec.narrow(0, start, n).reshape(tuple(p.shape)))
            start += n
