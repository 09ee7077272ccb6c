"""Writes the PyTorch checkpoints test_torch_format.py reads, with PyTorch itself (run by
hand where torch is installed; the tests need only the files):

    python tests/data/make_torch_checkpoints.py

torch_checkpoint.pt: a state dict of Linear(4, 3) + BatchNorm1d(3) with set values,
tensors of every storage type (views among them), a Parameter and plain data.
torch_model_object.pt: a whole pickled model (a class from __main__), which dlcore refuses.
torch_legacy.pt: the pre-1.6 format (a bare pickle), which dlcore names.
"""
import collections
import os

import torch

here = os.path.dirname(os.path.abspath(__file__))

model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
with torch.no_grad():
    model[0].weight.copy_(torch.arange(12, dtype=torch.float32).reshape(3, 4) / 10 - 0.5)
    model[0].bias.copy_(torch.tensor([0.25, -0.5, 1.0]))
    model[1].weight.copy_(torch.tensor([1.5, 2.0, 0.5]))
    model[1].bias.copy_(torch.tensor([0.0, 0.1, -0.1]))
    model[1].running_mean.copy_(torch.tensor([0.2, -0.3, 0.4]))
    model[1].running_var.copy_(torch.tensor([1.0, 4.0, 0.25]))
    model[1].num_batches_tracked.fill_(5)

w = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 10
tensors = collections.OrderedDict([
    ("w", w), ("wt", w.t()), ("row", w[1]), ("d", torch.tensor([1.5, -2.0], dtype=torch.float64)),
    ("n", torch.tensor(7)), ("i", torch.tensor([-3, 4], dtype=torch.int32)), ("b", torch.tensor([True, False])),
    ("h", torch.tensor([0.5, 1.25], dtype=torch.float16)), ("bf", torch.tensor([0.5, 3.0], dtype=torch.bfloat16)),
    ("u8", torch.tensor([0, 255], dtype=torch.uint8)), ("empty", torch.zeros(0, 3)),
])
torch.save({"model": model.state_dict(), "tensors": tensors, "param": torch.nn.Parameter(torch.ones(2)),
            "epoch": 3, "lr": [0.1, 0.01], "name": "run", "pair": (1, None), "raw": b"\x00\x01"},
           os.path.join(here, "torch_checkpoint.pt"))


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 2)


torch.save(Net(), os.path.join(here, "torch_model_object.pt"))
torch.save({"x": torch.ones(2)}, os.path.join(here, "torch_legacy.pt"), _use_new_zipfile_serialization=False)
