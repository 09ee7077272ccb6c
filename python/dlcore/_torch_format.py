"""Reading files written by PyTorch's ``torch.save`` (its zip format, PyTorch 1.6 and
later) without PyTorch: a state dict or checkpoint saved there loads into dlcore.

The archive holds ``<name>/data.pkl`` (a pickle whose tensors refer, by persistent id,
to storages) and one raw little-endian file per storage, ``<name>/data/<key>``. The
unpickler here resolves only the names such a file of tensors and plain data uses
(tensor and parameter rebuilds, storage types, OrderedDict, dtypes and a few builtins);
any other global (a pickled model class, a lambda) is refused with an UnpicklingError
that says so: nothing from the file is ever run. Views come back as copies; float16
and bfloat16 become float32, and the narrow integer types int32 (dlcore's dtypes).
"""
import collections
import io
import pickle
import zipfile

import numpy as np

from . import _C

# torch's storage type names -> the NumPy dtype of their bytes, and the dtype dlcore keeps
_STORAGES = {
    "FloatStorage": (np.float32, np.float32), "DoubleStorage": (np.float64, np.float64),
    "HalfStorage": (np.float16, np.float32), "BFloat16Storage": ("bfloat16", np.float32),
    "LongStorage": (np.int64, np.int64), "IntStorage": (np.int32, np.int32),
    "ShortStorage": (np.int16, np.int32), "CharStorage": (np.int8, np.int32),
    "ByteStorage": (np.uint8, np.int32), "BoolStorage": (np.bool_, np.bool_),
}
_DTYPE_NAMES = {"float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
                "int64": "int64", "long": "int64", "int32": "int32", "int": "int32", "bool": "bool"}


class _StorageType:
    def __init__(self, name):
        self.name = name


class _Storage:
    """A storage's elements as a 1-D NumPy array."""

    def __init__(self, array, keep):
        self.array, self.keep = array, keep


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    a = storage.array
    itemsize = a.dtype.itemsize
    count = int(np.prod(size, dtype=np.int64)) if len(size) else 1
    if count:
        last = storage_offset + sum((s - 1) * st for s, st in zip(size, stride))
        if storage_offset < 0 or last >= a.size or min(stride, default=0) < 0:
            raise pickle.UnpicklingError(f"load: a tensor of size {tuple(size)} and stride {tuple(stride)} at offset "
                                         f"{storage_offset} lies outside its storage of {a.size} elements")
        view = np.lib.stride_tricks.as_strided(a[storage_offset:], shape=tuple(size),
                                               strides=tuple(st * itemsize for st in stride))
    else:
        view = np.zeros(tuple(size), dtype=a.dtype)
    t = _C.from_numpy(np.array(view, dtype=storage.keep, order="C"))  # (ascontiguousarray makes 0-d 1-d)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v1(storage, storage_offset, size, stride):
    return _rebuild_tensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks, *state):
    from .nn.module import Parameter

    return Parameter(data, requires_grad)


class _Unpickler(pickle.Unpickler):
    def __init__(self, data, archive, prefix, path, big_endian):
        super().__init__(data)
        self.archive, self.prefix, self.path, self.big_endian = archive, prefix, path, big_endian
        self.storages = {}

    def find_class(self, module, name):
        allowed = {
            ("collections", "OrderedDict"): collections.OrderedDict,
            ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
            ("torch._utils", "_rebuild_tensor"): _rebuild_tensor_v1,
            ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
            ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
            ("torch", "Size"): tuple,
            ("builtins", "set"): set, ("builtins", "frozenset"): frozenset, ("builtins", "slice"): slice,
            ("builtins", "complex"): complex,
        }
        if (module, name) in allowed:
            return allowed[(module, name)]
        if module == "torch" and name in _STORAGES:
            return _StorageType(name)
        if module == "torch" and name in _DTYPE_NAMES:  # a dtype pickles as its global name
            return getattr(_C.dtype, _DTYPE_NAMES[name])
        if module == "_codecs" and name == "encode":  # how protocol 2 pickles bytes
            return lambda text, encoding="latin1": text.encode(encoding)
        raise pickle.UnpicklingError(
            f"load: '{self.path}' needs {module}.{name}, which a file of tensors and plain data does not; dlcore "
            "never runs code from a checkpoint. Save the model's state_dict() (not the model object) in PyTorch")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"load: '{self.path}': unknown persistent id {pid!r}")
        _, kind, key, _location, numel = pid[:5]
        if not isinstance(kind, _StorageType):
            raise pickle.UnpicklingError(f"load: '{self.path}': unsupported storage type {kind!r}")
        if key not in self.storages:
            raw_dtype, keep = _STORAGES[kind.name]
            try:
                raw = self.archive.read(f"{self.prefix}data/{key}")
            except KeyError:
                raise pickle.UnpicklingError(f"load: '{self.path}' lacks the data of storage {key}") from None
            if raw_dtype == "bfloat16":  # the top half of a float32
                bits = np.frombuffer(raw, dtype=">u2" if self.big_endian else "<u2").astype(np.uint32) << 16
                array = bits.view(np.float32)
            else:
                dt = np.dtype(raw_dtype).newbyteorder(">" if self.big_endian else "<")
                array = np.frombuffer(raw, dtype=dt)
            if array.size < numel:
                raise pickle.UnpicklingError(f"load: '{self.path}': storage {key} holds {array.size} elements, "
                                             f"{numel} expected")
            self.storages[key] = _Storage(array.astype(array.dtype.newbyteorder("=")), keep)
        return self.storages[key]


def load_torch_zip(path):
    """The object a PyTorch zip checkpoint holds, its tensors as dlcore tensors."""
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
        if not pickles:
            raise ValueError(f"load: '{path}' is a zip file but not a PyTorch checkpoint (no data.pkl)")
        prefix = pickles[0][:-len("data.pkl")]
        names = set(archive.namelist())
        order = archive.read(prefix + "byteorder").decode().strip() if prefix + "byteorder" in names else "little"
        return _Unpickler(io.BytesIO(archive.read(pickles[0])), archive, prefix, path, order == "big").load()
