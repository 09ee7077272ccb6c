"""Training helpers over a model's parameters (gradient clipping, an L1 penalty, the
parameters as one vector, weight and spectral normalisation, folding batch norms into the
layer before them) and ``rnn``, batches of sequences of different lengths."""
from . import parametrizations, parametrize, prune, rnn  # noqa: F401
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm, l1_penalty
from .fusion import fuse_conv_bn_eval, fuse_conv_bn_weights, fuse_linear_bn_eval, fuse_linear_bn_weights
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .weight_norm import remove_spectral_norm, remove_weight_norm, spectral_norm, weight_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm", "l1_penalty",
           "fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights",
           "parameters_to_vector", "vector_to_parameters", "weight_norm", "remove_weight_norm", "spectral_norm",
           "remove_spectral_norm", "skip_init", "stateless"]


def skip_init(module_cls, *args, **kwargs):
    """module_cls(*args, **kwargs): PyTorch leaves the parameters uninitialised; dlcore
    initialises them (any values satisfy the promise)."""
    kwargs.pop("device", None)
    return module_cls(*args, **kwargs)


class stateless:  # noqa: N801  (PyTorch's module name)
    """torch.nn.utils.stateless: functional_call (see dlcore.func)."""

    @staticmethod
    def functional_call(module, parameters_and_buffers, args=(), kwargs=None, *, tie_weights=True, strict=False):
        from ...func import functional_call

        return functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
