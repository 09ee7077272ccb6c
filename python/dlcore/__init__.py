"""dlcore: a deep-learning library with a native C++ core and a PyTorch-shaped API.

Tensors, their operations and a reverse-mode autograd engine live in the C++
core (``dlcore._C``); this package re-exports them with PyTorch's names, so a
script written for PyTorch ports by changing ``import torch`` to
``import dlcore``.
"""
from collections import namedtuple as _namedtuple

from . import _C
from ._C import (  # noqa: F401
    Generator,
    Tensor,
    abs,
    acos,
    add,
    amax,
    amin,
    argmax,
    argmin,
    argsort,
    asin,
    atan,
    broadcast_to,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    cat,
    ceil,
    chunk,
    clamp,
    clip,
    clone,
    cos,
    cosh,
    cummax,
    cummin,
    cumprod,
    cumsum,
    detach,
    device,
    div,
    dtype,
    eq,
    erf,
    erfc,
    exp,
    exp2,
    expm1,
    flatten,
    flip,
    floor,
    floor_divide,
    fmod,
    from_dlpack,
    from_numpy,
    gather,
    ge,
    get_num_threads,
    gt,
    index_add,
    index_select,
    is_grad_enabled,
    le,
    log,
    log10,
    log1p,
    logcumsumexp,
    log2,
    log_softmax,
    logical_not,
    logsumexp,
    lt,
    masked_fill,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    multinomial,
    narrow,
    ne,
    neg,
    nonzero,
    permute,
    pow,
    prod,
    reciprocal,
    relu,
    remainder,
    reshape,
    round,
    rsqrt,
    scatter_add,
    set_num_threads,
    sigmoid,
    sign,
    sin,
    sinh,
    softmax,
    sort,
    split,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    sub,
    sum,
    t,
    tanh,
    topk,
    transpose,
    tril,
    triu,
    trunc,
    unsqueeze,
    var,
    where,
)
from .creation import (  # noqa: F401
    arange,
    empty,
    empty_like,
    eye,
    full,
    full_like,
    get_default_dtype,
    linspace,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    set_default_dtype,
    tensor,
    zeros,
    zeros_like,
)
from ._arithmetic import (  # noqa: F401
    addcdiv,
    addcmul,
    addmm,
    atan2,
    clamp_max,
    clamp_min,
    copysign,
    deg2rad,
    float_power,
    frac,
    heaviside,
    hypot,
    lerp,
    logaddexp,
    logit,
    nan_to_num,
    nanmean,
    nansum,
    negative,
    positive,
    rad2deg,
    signbit,
    sinc,
    std_mean,
    true_divide,
    var_mean,
    xlogy,
)
from ._tensor_functions import (  # noqa: F401
    aminmax,
    cumulative_trapezoid,
    trapezoid,
    trapz,
    vander,
    argwhere,
    block_diag,
    cartesian_prod,
    combinations,
    cross,
    diff,
    dist,
    dsplit,
    hsplit,
    inner,
    kron,
    logspace,
    msort,
    pdist,
    ravel,
    renorm,
    rot90,
    row_stack,
    take_along_dim,
    tensor_split,
    tensordot,
    vsplit,
)
from ._composite import (  # noqa: F401
    all,
    allclose,
    any,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    bmm,
    broadcast_shapes,
    broadcast_tensors,
    bucketize,
    cdist,
    column_stack,
    diag,
    diagonal,
    dstack,
    finfo,
    hstack,
    iinfo,
    isclose,
    isfinite,
    isinf,
    isnan,
    logical_and,
    logical_or,
    logical_xor,
    masked_select,
    meshgrid,
    mm,
    moveaxis,
    movedim,
    norm,
    outer,
    repeat_interleave,
    roll,
    searchsorted,
    swapaxes,
    swapdims,
    tile,
    trace,
    tril_indices,
    triu_indices,
    unbind,
    unflatten,
    vstack,
)
from ._order_statistics import (  # noqa: F401
    bincount,
    count_nonzero,
    histc,
    kthvalue,
    median,
    mode,
    nanmedian,
    quantile,
    unique,
)
from ._indexing import index_fill, scatter, take  # noqa: F401
from ._random import bernoulli, randint_like  # noqa: F401
from ._einsum import einsum  # noqa: F401
from .grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled  # noqa: F401
from . import _tensor  # noqa: F401  (Python-level Tensor methods)
from ._tensor import get_printoptions, set_printoptions  # noqa: F401
from . import autograd  # noqa: F401
from . import amp, backends, cuda, datasets, distributions, linalg, nn, optim, special, utils, vision  # noqa: F401, E402
from . import func  # noqa: F401, E402
from ._compat import (  # noqa: F401, E402
    are_deterministic_algorithms_enabled,
    compile,
    get_float32_matmul_precision,
    is_deterministic_algorithms_warn_only_enabled,
    set_float32_matmul_precision,
    use_deterministic_algorithms,
)
from .amp import autocast  # noqa: F401, E402
from .linalg import cholesky_inverse, det, inverse, logdet, lu_unpack, matrix_exp, pinverse, slogdet  # noqa: F401, E402,E501
from .linalg import _cholesky_upper as cholesky, _qr_some as qr, _svd_v as svd  # noqa: F401, E402
from ._linalg_factor import cholesky_solve  # noqa: F401, E402
from .special import erfinv, i0, polygamma  # noqa: F401, E402
from .special import gammainc as igamma, gammaincc as igammac  # noqa: F401, E402
from ._tensor_extras import lu_solve, strided  # noqa: F401, E402
from ._tensor_extras import (  # noqa: F401, E402
    absolute,
    addbmm,
    addmv,
    angle,
    baddbmm,
    corrcoef,
    cov,
    diag_embed,
    dot,
    equal,
    fix,
    fliplr,
    flipud,
    frexp,
    ger,
    histogram,
    index_copy,
    isin,
    logaddexp2,
    masked_scatter,
    matrix_power,
    mv,
    nanquantile,
    nextafter,
    nonzero_static,
    put,
    sgn,
    tan,
    unique_consecutive,
    vdot,
)
from .serialization import load, save  # noqa: F401, E402
from . import jit, random, testing  # noqa: F401, E402
from .autograd.anomaly_mode import (  # noqa: F401, E402
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
)
from .random import default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state  # noqa: F401, E402
from ._torch_names import (  # noqa: F401, E402
    acosh,
    addr,
    alpha_dropout,
    as_tensor,
    asarray,
    asinh,
    atanh,
    bartlett_window,
    blackman_window,
    can_cast,
    chain_matmul,
    diagflat,
    diagonal_scatter,
    dropout,
    e,
    embedding,
    fmax,
    fmin,
    gcd,
    group_norm,
    hamming_window,
    hann_window,
    index_put,
    inf,
    is_complex,
    is_conj,
    is_neg,
    is_nonzero,
    is_same_size,
    is_signed,
    isneginf,
    isposinf,
    isreal,
    kaiser_window,
    lcm,
    ldexp,
    layer_norm,
    mvlgamma,
    nan,
    newaxis,
    pi,
    promote_types,
    result_type,
    scalar_tensor,
    select_scatter,
    slice_scatter,
    unravel_index,
)
from ._torch_names import ALIASES as _ALIASES, _export_functional, _export_methods  # noqa: E402
from ._torch_names import Size, fill, imag, real  # noqa: F401, E402
from ._scatter_reduce import index_reduce, scatter_reduce  # noqa: F401, E402
from . import _inplace  # noqa: E402

_inplace.install()  # after every method it writes back

_export_functional(globals())
_export_methods(globals())
lu = Tensor.lu
unsafe_chunk, unsafe_split = Tensor.unsafe_chunk, Tensor.unsafe_split
unsafe_split_with_sizes = Tensor.unsafe_split_with_sizes
for _alias, _base in _ALIASES.items():
    globals().setdefault(_alias, globals()[_base])

__version__ = _C._version()

float32 = dtype.float32
float64 = dtype.float64
int32 = dtype.int32
int64 = dtype.int64
bool = dtype.bool  # noqa: A001  (PyTorch's name)
float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001

# max(x, dim) and min(x, dim) return (values, indices), as in PyTorch.
_MinMax = _namedtuple("minmax", ["values", "indices"])
_Sort = _namedtuple("sort", ["values", "indices"])
_TopK = _namedtuple("topk", ["values", "indices"])
_CumMax = _namedtuple("cummax", ["values", "indices"])
_CumMin = _namedtuple("cummin", ["values", "indices"])

divide = div
multiply = mul
subtract = sub
concat = cat
concatenate = cat


def config():
    """The build and runtime facts of this dlcore: version, chosen ISA, threads, ..."""
    return {
        "version": __version__,
        "isa": _C._active_isa(),
        "available_isas": list(_C._available_isas()),
        "compiled_isas": list(_C._compiled_isas()),
        "threads": _C.get_num_threads(),
        "compiler": _C._compiler(),
        "openmp": _C._openmp(),
        "cuda": _C._cuda_available(),
    }


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


def _native_dir():
    # Where the native module was installed (the package itself, or the build tree's
    # install folder in an editable install); headers and library sit beside it.
    import os

    return os.path.dirname(os.path.abspath(_C.__file__))


def get_include():
    """The directory holding dlcore's C++ headers (``#include <dlcore/dlcore.h>``)."""
    import os

    return os.path.join(_native_dir(), "include")


def get_library_dir():
    """The directory holding ``libdlcore.so``, the C++ core."""
    import os

    return os.path.join(_native_dir(), "lib")


def cmake_prefix_path():
    """A CMAKE_PREFIX_PATH entry under which ``find_package(dlcore)`` finds this dlcore."""
    return _native_dir()
