"""Checkpoints: ``dlcore.save(obj, path)`` and ``dlcore.load(path)`` in the safetensors
format (8-byte little-endian header length, a JSON header naming each tensor's dtype,
shape and byte range, then the raw little-endian data), readable by other tools.

``obj`` is a state dict (names to tensors) or any nesting of dicts, lists and tuples of
tensors, numbers, strings, booleans and None (a model's and an optimizer's state dicts,
an epoch count ...). Tensors are stored under their dotted path; the rest of the structure
goes, as JSON, into the header's ``__metadata__`` under ``dlcore.structure``. A plain
name-to-tensor dict is stored with its own names and nothing else, as other tools expect.

Saving is atomic: the bytes go to a temporary file in the target's directory, which is
flushed, fsynced and renamed over the target (then the directory is fsynced), so a crash
mid-save leaves the previous checkpoint intact. A truncated or foreign file raises
ValueError on load.
"""
import json
import os
import struct
import tempfile

import numpy as np

from . import _C

Tensor = _C.Tensor

_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "BOOL": np.bool_}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}
_STRUCTURE = "dlcore.structure"


def _flatten(obj, path, tensors):
    """obj as JSON-able structure, its tensors moved into ``tensors`` under dotted names."""
    if isinstance(obj, Tensor):
        key = path or "tensor"
        if key in tensors:
            raise ValueError(f"save: two tensors map to the name '{key}'")
        tensors[key] = obj
        return {"__tensor__": key}
    if isinstance(obj, dict):
        return {"__dict__": [[_key(k), _flatten(v, f"{path}.{k}" if path else str(k), tensors)]
                             for k, v in obj.items()]}
    if isinstance(obj, (list, tuple)):
        items = [_flatten(v, f"{path}.{i}" if path else str(i), tensors) for i, v in enumerate(obj)]
        return {"__tuple__": items} if isinstance(obj, tuple) else items
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"save: can't store an object of type {type(obj).__name__} (at '{path}'); "
                    "checkpoints hold tensors, numbers, strings, None, and dicts, lists and tuples of them")


def _key(k):
    if isinstance(k, (str, int, float, bool)) or k is None:
        return k
    raise TypeError(f"save: dict keys must be str, int, float, bool or None, got {type(k).__name__}")


def _unflatten(s, tensors):
    if isinstance(s, dict):
        if "__tensor__" in s:
            return tensors[s["__tensor__"]]
        if "__dict__" in s:
            return {k: _unflatten(v, tensors) for k, v in s["__dict__"]}
        if "__tuple__" in s:
            return tuple(_unflatten(v, tensors) for v in s["__tuple__"])
        raise ValueError("load: malformed dlcore structure in the checkpoint header")
    if isinstance(s, list):
        return [_unflatten(v, tensors) for v in s]
    return s


def _encode(obj):
    tensors = {}
    plain = isinstance(obj, dict) and obj and all(isinstance(k, str) and isinstance(v, Tensor) for k, v in obj.items())
    if plain:
        tensors = dict(obj)
        metadata = {"format": "pt"}
    else:
        structure = _flatten(obj, "", tensors)
        metadata = {"format": "pt", _STRUCTURE: json.dumps(structure)}
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().numpy())
        code = _CODES.get(a.dtype)
        if code is None:
            raise TypeError(f"save: tensor '{name}' has an unsupported dtype {a.dtype}")
        data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)  # data starts 8-byte aligned
    return b"".join([struct.pack("<Q", len(head)), head] + blobs)


def save(obj, f):
    """Writes obj to the path f atomically (see the module docstring)."""
    data = _encode(obj)
    path = os.fspath(f)
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: '{path}' is a directory; give the path of a file to write")
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:  # some filesystems do not allow opening a directory
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _legacy_pickle(path, raw):
    """Raises the reason when a file that is not safetensors starts as a pickle does."""
    if raw[:1] == b"\x80" and raw[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise ValueError(f"load: '{path}' is a bare pickle (PyTorch's legacy format, from before 1.6 or "
                         "_use_new_zipfile_serialization=False); save it again with a current PyTorch")


def load(f, map_location=None, weights_only=True):
    """Reads a checkpoint written by save() (or any safetensors file, as a name-to-tensor
    dict), or a file PyTorch's torch.save wrote (its zip format: state dicts, optimizer
    states, nested plain data; _torch_format.py). ``map_location`` and ``weights_only``
    are accepted for PyTorch compatibility; everything loads onto the CPU and no code is
    ever run."""
    path = os.fspath(f)
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:4] == b"PK\x03\x04":  # a zip archive (its first local file header): PyTorch's format
        from ._torch_format import load_torch_zip

        return load_torch_zip(path)
    if len(raw) < 8:
        raise ValueError(f"load: '{path}' is not a dlcore/safetensors checkpoint (only {len(raw)} bytes)")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        _legacy_pickle(path, raw)
        raise ValueError(f"load: '{path}' is truncated or not a safetensors checkpoint (header of {n} bytes, "
                         f"file of {len(raw)})")
    try:
        header = json.loads(raw[8:8 + n].decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError
    except (UnicodeDecodeError, ValueError):
        _legacy_pickle(path, raw)
        raise ValueError(f"load: '{path}' is not a dlcore/safetensors checkpoint (unreadable header)") from None
    metadata = header.pop("__metadata__", {}) or {}
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        try:
            dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
            shape = tuple(int(s) for s in info["shape"])
            begin, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"load: '{path}': tensor '{name}' has an unsupported or malformed entry "
                             f"{info!r}") from None
        if base + end > len(raw) or begin > end:
            raise ValueError(f"load: '{path}' is truncated: tensor '{name}' needs bytes {begin}..{end} of the data, "
                             f"the file holds {len(raw) - base}")
        count = int(np.prod(shape, dtype=np.int64))
        if (end - begin) != count * dtype.itemsize:
            raise ValueError(f"load: '{path}': tensor '{name}' of shape {shape} does not match its {end - begin} bytes")
        a = np.frombuffer(raw, dtype=dtype, count=count, offset=base + begin).reshape(shape)
        tensors[name] = _C.from_numpy(a.astype(dtype.newbyteorder("="), copy=True))
    if _STRUCTURE in metadata:
        try:
            return _unflatten(json.loads(metadata[_STRUCTURE]), tensors)
        except (KeyError, ValueError):
            raise ValueError(f"load: '{path}': the dlcore structure in the header is malformed") from None
    return tensors
