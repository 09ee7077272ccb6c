"""dl.load reading files PyTorch's torch.save wrote (tests/data/, made by
make_torch_checkpoints.py with PyTorch; PyTorch is not needed here): every storage
type, views, a Parameter, nested plain data, a state dict that loads into the same
dlcore model; a pickled model object and the legacy format refused with the reason."""
import os
import pickle

import numpy as np
import pytest

import dlcore as dl
from dlcore import nn

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def test_tensors_of_every_kind_and_plain_data():
    obj = dl.load(os.path.join(DATA, "torch_checkpoint.pt"))
    t = obj["tensors"]
    w = np.arange(12, dtype=np.float32).reshape(3, 4) / np.float32(10)
    expected = {"w": w, "wt": w.T, "row": w[1], "d": np.array([1.5, -2.0]), "n": np.array(7),
                "i": np.array([-3, 4], np.int32), "b": np.array([True, False]), "h": np.array([0.5, 1.25], np.float32),
                "bf": np.array([0.5, 3.0], np.float32), "u8": np.array([0, 255], np.int32),
                "empty": np.zeros((0, 3), np.float32)}
    assert list(t) == list(expected)  # the OrderedDict's order
    for name, want in expected.items():
        got = t[name].numpy()
        assert got.dtype == want.dtype and got.shape == want.shape, name
        np.testing.assert_array_equal(got, want, err_msg=name)
    t["row"].add_(1)  # views come back as copies
    np.testing.assert_array_equal(t["w"].numpy(), w)
    p = obj["param"]
    assert isinstance(p, nn.Parameter) and p.requires_grad
    np.testing.assert_array_equal(p.detach().numpy(), [1, 1])
    assert obj["epoch"] == 3 and obj["lr"] == [0.1, 0.01] and obj["name"] == "run"
    assert obj["pair"] == (1, None) and obj["raw"] == b"\x00\x01"


def test_state_dict_loads_into_the_dlcore_model(rng):
    sd = dl.load(os.path.join(DATA, "torch_checkpoint.pt"))["model"]
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    model.load_state_dict(sd)
    model.eval()
    x = rng.normal(size=(5, 4)).astype(np.float32)
    W = np.arange(12, dtype=np.float64).reshape(3, 4) / 10 - 0.5
    h = x @ W.T + [0.25, -0.5, 1.0]
    want = (h - [0.2, -0.3, 0.4]) / np.sqrt(np.array([1.0, 4.0, 0.25]) + 1e-5) * [1.5, 2.0, 0.5] + [0.0, 0.1, -0.1]
    np.testing.assert_allclose(model(dl.tensor(x)).detach().numpy(), want, rtol=1e-5, atol=1e-6)
    assert int(model[1].num_batches_tracked) == 5


def test_refuses_code_and_names_the_legacy_format(tmp_path):
    with pytest.raises(pickle.UnpicklingError, match=r"needs __main__\.Net.*never runs code.*state_dict\(\)"):
        dl.load(os.path.join(DATA, "torch_model_object.pt"))
    with pytest.raises(ValueError, match="PyTorch's legacy format"):
        dl.load(os.path.join(DATA, "torch_legacy.pt"))
    import zipfile

    bogus = tmp_path / "not_torch.zip"
    with zipfile.ZipFile(bogus, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="a zip file but not a PyTorch checkpoint"):
        dl.load(bogus)
    broken = tmp_path / "broken.pt"
    with zipfile.ZipFile(os.path.join(DATA, "torch_checkpoint.pt")) as src, zipfile.ZipFile(broken, "w") as dst:
        for name in src.namelist():
            if not name.endswith("/data/0"):
                dst.writestr(name, src.read(name))
    with pytest.raises(pickle.UnpicklingError, match="lacks the data of storage 0"):
        dl.load(broken)


def test_a_safetensors_header_that_starts_like_a_pickle_still_loads(tmp_path):
    """A header of 640 bytes begins the file with 0x80 0x02, a pickle's first two bytes:
    the safetensors reading comes first."""
    path = tmp_path / "ck.safetensors"
    name = "w" * 560  # pads the JSON header to exactly 640 bytes
    body = {name: {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
    import json
    import struct

    header = json.dumps(body).encode()
    header += b" " * (640 - len(header))
    assert len(header) == 640
    path.write_bytes(struct.pack("<Q", 640) + header + np.array([1.5, -2.0], np.float32).tobytes())
    assert path.read_bytes()[:2] == b"\x80\x02"
    np.testing.assert_array_equal(dl.load(path)[name].numpy(), [1.5, -2.0])
