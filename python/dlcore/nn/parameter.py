"""``dlcore.nn.parameter`` (PyTorch's ``torch.nn.parameter``): the tensor kinds a module
registers when they are assigned to it."""
from .lazy import UninitializedBuffer, UninitializedParameter  # noqa: F401
from .module import Buffer, Parameter  # noqa: F401
