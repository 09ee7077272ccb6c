"""Training helpers over a model's parameters: gradient clipping and an L1 penalty."""
from .clip_grad import clip_grad_norm_, clip_grad_value_, l1_penalty

__all__ = ["clip_grad_norm_", "clip_grad_value_", "l1_penalty"]
