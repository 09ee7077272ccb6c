"""Training helpers over a model's parameters (gradient clipping, an L1 penalty, the
parameters as one vector) and ``rnn``, batches of sequences of different lengths."""
from . import rnn  # noqa: F401
from .clip_grad import clip_grad_norm_, clip_grad_value_, l1_penalty
from .convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["clip_grad_norm_", "clip_grad_value_", "l1_penalty", "parameters_to_vector", "vector_to_parameters"]
