"""dlcore.utils.data (datasets, samplers, DataLoader, random_split), the shipped datasets and their
stratified split, the progress bar, and checkpoints (format, atomicity, errors)."""
import io
import json
import os
import struct

import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                               SequentialSampler, SubsetRandomSampler, TensorDataset, WeightedRandomSampler,
                               get_worker_info, random_split)
from dlcore.utils.progress import progress


def test_tensor_dataset_and_in_order_loader():
    x, y = dl.arange(10).reshape(10, 1).float(), dl.arange(10)
    ds = TensorDataset(x, y)
    assert len(ds) == 10 and ds[3][1].item() == 3
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 1)
    assert len(DataLoader(ds, batch_size=4)) == 3 and len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert [b[1].tolist() for b in DataLoader(ds, batch_size=4, drop_last=True)] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="same size in dim 0"):
        TensorDataset(dl.ones(3), dl.ones(4))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)


def test_shuffle_is_a_permutation_and_reproducible():
    ds = TensorDataset(dl.arange(50))

    def epoch(loader):
        return [v for (b,) in loader for v in b.tolist()]

    loader = DataLoader(ds, batch_size=7, shuffle=True)
    dl.manual_seed(3)
    a, b = epoch(loader), epoch(loader)
    assert sorted(a) == list(range(50)) and a != list(range(50)) and a != b
    dl.manual_seed(3)
    assert epoch(loader) == a
    g = dl.Generator().manual_seed(11)
    c = epoch(DataLoader(ds, batch_size=7, shuffle=True, generator=g))
    g.manual_seed(11)
    assert epoch(DataLoader(ds, batch_size=7, shuffle=True, generator=g)) == c


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": dl.tensor([float(i)]), "y": i * i}


def test_map_style_dataset_default_and_custom_collate():
    batches = list(DataLoader(Squares(), batch_size=2))
    assert batches[0]["x"].shape == (2, 1) and batches[2]["y"].tolist() == [16]
    sums = list(DataLoader(Squares(), batch_size=5, collate_fn=lambda items: sum(it["y"] for it in items)))
    assert sums == [30]


def test_random_split():
    ds = TensorDataset(dl.arange(10))
    dl.manual_seed(0)
    a, b = random_split(ds, [7, 3])
    values = sorted([int(a[i][0].item()) for i in range(7)] + [int(b[i][0].item()) for i in range(3)])
    assert values == list(range(10))
    parts = random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    with pytest.raises(ValueError, match="do not sum"):
        random_split(ds, [3, 3])


def test_shipped_datasets_and_stratified_split():
    x, y = dl.datasets.load_mnist_5k()
    assert x.shape == (5000, 784) and x.dtype == dl.float32 and 0 <= x.min().item() and x.max().item() <= 1
    assert np.bincount(y.numpy()).tolist() == [500] * 10
    (xt, yt), (xs, ys) = dl.datasets.load_digits(split=True, seed=4)
    assert xt.shape[0] + xs.shape[0] == 1797
    counts_all = np.bincount(dl.datasets.load_digits()[1].numpy())
    assert np.all(np.abs(np.bincount(ys.numpy()) - np.round(counts_all * 0.2)) == 0)
    (xt2, _), _ = dl.datasets.load_digits(split=True, seed=4)
    np.testing.assert_array_equal(xt.numpy(), xt2.numpy())
    assert dl.datasets.load_mnist_5k(as_tensors=False, flatten=False)[0].shape == (5000, 1, 28, 28)


def test_shakespeare_text_and_char_vocab():
    text = dl.datasets.load_shakespeare()
    assert len(text) == 1036467 and text.startswith("HAMLET, PRINCE OF DENMARK")
    vocab = dl.datasets.CharVocab(text)
    assert len(vocab) == len(set(text)) == 76 and vocab.chars == sorted(vocab.chars)
    codes = vocab.encode("To be, or not")
    assert codes.dtype == np.int64 and vocab.decode(codes) == "To be, or not"
    assert [vocab.chars[i] for i in codes[:2]] == ["T", "o"]
    with pytest.raises(ValueError, match="'~' is not in the vocabulary"):
        vocab.encode("~")


def test_progress_bar_format():
    out = io.StringIO()
    bar = progress(range(4), desc="epoch 1", file=out, force=True)
    for _ in bar:
        bar.set_postfix(loss=0.25)
    text = out.getvalue()
    assert "epoch 1: |########################| 4/4" in text and "loss=0.25" in text and text.endswith("\n")
    quiet = io.StringIO()
    list(progress(range(3), file=quiet))  # not a terminal: nothing drawn
    assert quiet.getvalue() == ""


# ---- checkpoints
def test_save_load_state_dict_is_plain_safetensors(tmp_path):
    sd = {"w": dl.randn(3, 2), "b": dl.arange(4), "m": dl.tensor([True, False]), "d": dl.ones(2, dtype=dl.float64)}
    path = tmp_path / "sd.safetensors"
    dl.save(sd, path)
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert header["w"]["dtype"] == "F32" and header["b"]["dtype"] == "I64" and header["m"]["dtype"] == "BOOL"
    assert (8 + n) % 8 == 0
    np.testing.assert_array_equal(np.frombuffer(raw, np.float32, 6, 8 + n + header["w"]["data_offsets"][0]),
                                  sd["w"].numpy().ravel())
    back = dl.load(path)
    assert list(back) == list(sd)
    for k in sd:
        assert back[k].dtype == sd[k].dtype
        np.testing.assert_array_equal(back[k].numpy(), sd[k].numpy())
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    other = safetensors_numpy.load_file(str(path))
    np.testing.assert_array_equal(other["w"], sd["w"].numpy())
    safetensors_numpy.save_file({"a": np.arange(3.0)}, str(tmp_path / "other.safetensors"))
    np.testing.assert_array_equal(dl.load(tmp_path / "other.safetensors")["a"].numpy(), np.arange(3.0))


def test_nested_objects_round_trip(tmp_path):
    obj = {"model": {"w": dl.ones(2)}, "opt": {"state": {0: {"step": 3, "m": dl.zeros(2)}},
                                                 "param_groups": [{"lr": 0.1, "betas": (0.9, 0.99), "params": [0]}]},
           "epoch": 7, "note": None, "inf": float("inf")}
    dl.save(obj, tmp_path / "ck")
    back = dl.load(tmp_path / "ck")
    assert back["epoch"] == 7 and back["note"] is None and back["inf"] == float("inf")
    assert back["opt"]["param_groups"][0]["betas"] == (0.9, 0.99)
    assert back["opt"]["state"][0]["step"] == 3 and back["opt"]["state"][0]["m"].shape == (2,)
    with pytest.raises(TypeError, match="can't store an object of type object"):
        dl.save({"x": object()}, tmp_path / "bad")


def test_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    dl.save({"w": dl.ones(3)}, path)
    before = path.read_bytes()

    def crash(src, dst):
        raise KeyboardInterrupt("killed between write and rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        dl.save({"w": dl.zeros(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.safetensors"]  # no temporary file left behind
    np.testing.assert_array_equal(dl.load(path)["w"].numpy(), 1.0)


def test_saving_onto_a_directory_is_an_error_that_writes_nothing(tmp_path):
    (tmp_path / "runs").mkdir()
    with pytest.raises(IsADirectoryError, match="save: '.*runs' is a directory"):
        dl.save({"w": dl.ones(3)}, tmp_path / "runs")
    assert sorted(os.listdir(tmp_path)) == ["runs"] and os.listdir(tmp_path / "runs") == []


def test_truncated_or_foreign_files_are_clear_errors(tmp_path):
    good = tmp_path / "good"
    dl.save({"w": dl.ones(100)}, good)
    raw = good.read_bytes()
    cases = {"short": raw[:5], "header": raw[:20], "data": raw[:-10], "text": b"hello, this is not a checkpoint",
             "json": struct.pack("<Q", 4) + b"[1]!"}
    for name, data in cases.items():
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(ValueError, match="truncated|not a dlcore/safetensors checkpoint"):
            dl.load(p)


def test_model_checkpoint_reloads_identically(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    dl.save(model.state_dict(), tmp_path / "m")
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    other.load_state_dict(dl.load(tmp_path / "m"))
    x = dl.randn(5, 3)
    np.testing.assert_array_equal(model(x).detach().numpy(), other(x).detach().numpy())


def test_samplers_match_pytorchs_contracts():
    ds = TensorDataset(dl.arange(10))
    assert list(SequentialSampler(ds)) == list(range(10)) and len(SequentialSampler(ds)) == 10
    g = dl.Generator().manual_seed(1)
    perm = list(RandomSampler(ds, generator=g))
    assert sorted(perm) == list(range(10)) and perm != list(range(10))
    g.manual_seed(1)
    assert list(RandomSampler(ds, generator=g)) == perm
    more = list(RandomSampler(ds, num_samples=25))  # successive permutations
    assert len(more) == 25 and sorted(more[:10]) == list(range(10)) and sorted(more[10:20]) == list(range(10))
    drawn = list(RandomSampler(ds, replacement=True, num_samples=1000))
    assert len(drawn) == 1000 and set(drawn) == set(range(10))
    sub = list(SubsetRandomSampler([3, 5, 7]))
    assert sorted(sub) == [3, 5, 7]
    dl.manual_seed(2)
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 4000))
    counts = np.bincount(w, minlength=4)
    assert counts[0] == counts[2] == 0 and abs(counts[3] / 4000 - 0.75) < 5 * np.sqrt(0.75 * 0.25 / 4000)
    assert sorted(WeightedRandomSampler(dl.tensor([1.0, 2.0, 3.0]), 3, replacement=False)) == [0, 1, 2]
    assert list(BatchSampler(SequentialSampler(range(7)), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError, match="num_samples must be a positive int"):
        RandomSampler(ds, num_samples=0)
    with pytest.raises(ValueError, match="weights must be 1-D"):
        WeightedRandomSampler(np.ones((2, 2)), 3)
    with pytest.raises(TypeError, match="drop_last must be a bool"):
        BatchSampler(range(3), 2, None)


def test_loader_with_sampler_batch_sampler_and_no_batching():
    ds = TensorDataset(dl.arange(10) * 10)
    # A sampler over part of the data: the loader's length follows it.
    loader = DataLoader(ds, batch_size=2, sampler=[9, 1, 4])
    assert [b.tolist() for (b,) in loader] == [[90, 10], [40]] and len(loader) == 2
    # A batch sampler of buckets (as for sequences of similar lengths).
    buckets = [[0, 1, 2], [5, 6], [9]]
    loader = DataLoader(Squares(), batch_sampler=[[0, 1], [4]])
    assert [b["y"].tolist() for b in loader] == [[0, 1], [16]] and len(loader) == 2
    assert [b.tolist() for (b,) in DataLoader(ds, batch_sampler=buckets)] == [[0, 10, 20], [50, 60], [90]]
    # batch_size=None: single samples, not batches.
    singles = list(DataLoader(Squares(), batch_size=None))
    assert len(singles) == 5 and singles[3]["y"] == 9
    with pytest.raises(ValueError, match="batch_sampler is mutually exclusive"):
        DataLoader(ds, batch_size=4, batch_sampler=buckets)
    with pytest.raises(ValueError, match="sampler and shuffle are mutually exclusive"):
        DataLoader(ds, sampler=[1], shuffle=True)
    assert get_worker_info() is None


class Countdown(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n, 0, -1))

    def __len__(self):
        return self.n


def test_iterable_and_concatenated_datasets():
    assert [b.tolist() for b in DataLoader(Countdown(5), batch_size=2)] == [[5, 4], [3, 2], [1]]
    assert [b.tolist() for b in DataLoader(Countdown(5), batch_size=2, drop_last=True)] == [[5, 4], [3, 2]]
    assert len(DataLoader(Countdown(5), batch_size=2)) == 3
    assert list(DataLoader(Countdown(3), batch_size=None)) == [3, 2, 1]
    with pytest.raises(ValueError, match="an IterableDataset takes no shuffle"):
        DataLoader(Countdown(3), shuffle=True)
    cat = ConcatDataset([TensorDataset(dl.arange(3)), Squares()])
    assert len(cat) == 8 and cat.cumulative_sizes == [3, 8]
    assert cat[2][0].item() == 2 and cat[3]["y"] == 0 and cat[-1]["y"] == 16
    with pytest.raises(IndexError, match="index 8 is out of range for 8 samples"):
        cat[8]
    with pytest.raises(TypeError, match="iterable datasets cannot be indexed"):
        ConcatDataset([Countdown(2)])


def test_distributed_sampler_partitions_the_indices():
    from dlcore.utils.data import DistributedSampler, TensorDataset

    ds = TensorDataset(dl.arange(10))
    shares = [list(DistributedSampler(ds, num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
    padded = list(range(10)) + [0, 1]  # to a multiple of 3 with the first indices
    assert shares == [padded[r::3] for r in range(3)]
    dropped = [list(DistributedSampler(ds, 3, r, shuffle=False, drop_last=True)) for r in range(3)]
    assert dropped == [list(range(9))[r::3] for r in range(3)]
    assert len(DistributedSampler(ds, 3, 0, drop_last=True)) == 3

    def epoch(e, seed=0):
        out = []
        for r in range(3):
            s = DistributedSampler(ds, 3, r, seed=seed)
            s.set_epoch(e)
            out.append(list(s))
        return out

    first = epoch(0)
    # Interleaved back, the shares are one permutation of the indices, padded by its first two.
    order = [first[k % 3][k // 3] for k in range(12)]
    assert sorted(order[:10]) == list(range(10)) and order[10:] == order[:2]
    assert epoch(0) == first and epoch(1) != first and epoch(0, seed=5) != first
    assert sorted(DistributedSampler(ds)) == list(range(10))  # one replica: everything, once
    with pytest.raises(ValueError, match="DistributedSampler: rank 3 is out of range for 3 replicas"):
        DistributedSampler(ds, 3, 3)


def test_stack_chain_and_default_convert():
    from dlcore.utils.data import ChainDataset, IterableDataset, StackDataset, TensorDataset, default_convert

    a, b = TensorDataset(dl.arange(4)), TensorDataset(dl.arange(4) * 10)
    assert [x.item() for (x,), (y,) in [StackDataset(a, b)[2]]] == [2] and StackDataset(a, b)[2][1][0].item() == 20
    d = StackDataset(left=a, right=b)[3]
    assert d["left"][0].item() == 3 and d["right"][0].item() == 30 and len(StackDataset(a, b)) == 4
    with pytest.raises(ValueError, match=r"StackDataset: the datasets' lengths differ: \[3, 4\]"):
        StackDataset(a, TensorDataset(dl.arange(3)))

    class Count(IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

        def __len__(self):
            return self.n

    assert list(ChainDataset([Count(2), Count(3)])) == [0, 1, 0, 1, 2] and len(ChainDataset([Count(2), Count(1)])) == 3
    with pytest.raises(TypeError, match="ChainDataset: expected iterable datasets, got TensorDataset"):
        ChainDataset([a])
    out = default_convert({"x": np.arange(3.0), "y": (np.int64(4), "tag")})
    np.testing.assert_array_equal(out["x"].numpy(), [0.0, 1.0, 2.0])
    assert out["y"][0].item() == 4 and out["y"][1] == "tag"


def test_submodule_paths_of_pytorch():
    # Scripts import from torch.utils.data's submodules; the same names live there.
    from dlcore.utils.data import dataloader, dataset, distributed, sampler
    from dlcore.utils.data.dataloader import DataLoader, default_collate
    from dlcore.utils.data.distributed import DistributedSampler

    assert DataLoader is dl.utils.data.DataLoader and default_collate is dl.utils.data.default_collate
    assert DistributedSampler is distributed.DistributedSampler is dl.utils.data.DistributedSampler
    assert dataset.TensorDataset is dl.utils.data.TensorDataset and sampler.BatchSampler is dl.utils.data.BatchSampler
    assert dataloader.get_worker_info() is None
    # Two replicas of ten indices without shuffling: every other index from the rank.
    ds = list(range(10))
    assert list(DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)) == [1, 3, 5, 7, 9]
