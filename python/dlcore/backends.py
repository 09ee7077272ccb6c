"""``dlcore.backends``: the backend switches a PyTorch script sets, as plain attributes.

dlcore's CPU kernels are always deterministic (the same bits whatever the thread count) and
compute float32 in full precision, so ``cudnn.benchmark``, ``cudnn.deterministic``,
``cudnn.allow_tf32`` and ``cuda.matmul.allow_tf32`` may be set and read but change nothing.
"""
from types import SimpleNamespace as _Switches

from . import _C

cudnn = _Switches(enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
                  is_available=lambda: False, version=lambda: None)
cuda = _Switches(matmul=_Switches(allow_tf32=False, allow_fp16_reduced_precision_reduction=True),
                 is_built=lambda: bool(_C._cuda_available()))
mps = _Switches(is_available=lambda: False, is_built=lambda: False)
openmp = _Switches(is_available=lambda: bool(_C._openmp()))
mkldnn = _Switches(enabled=False, is_available=lambda: False)
