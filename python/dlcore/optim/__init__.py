"""Optimizers (``dlcore.optim``), shaped like ``torch.optim``: each ``step()`` is one fused,
multithreaded C++ update per parameter group."""
from . import lr_scheduler, swa_utils  # noqa: F401
from .adadelta import Adadelta  # noqa: F401
from .adafactor import Adafactor  # noqa: F401
from .muon import Muon  # noqa: F401
from .adagrad import Adagrad  # noqa: F401
from .adam import Adam, AdamW  # noqa: F401
from .adam_variants import Adamax, NAdam, RAdam  # noqa: F401
from .lbfgs import LBFGS  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
from .rmsprop import RMSprop  # noqa: F401
from .rprop_asgd import ASGD, Rprop  # noqa: F401
from .sgd import SGD  # noqa: F401
