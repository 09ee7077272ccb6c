"""dlcore.nn.Module and the containers: registration, traversal, modes, dtype conversion,
state dicts and their errors, hooks, repr, and summary's counts."""
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import dlcore as dl
from dlcore import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.scale = nn.Parameter(dl.ones(3))
        self.register_buffer("running", dl.zeros(3))
        self.register_buffer("scratch", dl.zeros(1), persistent=False)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.fc(x)) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
        self.shared = self.head  # the same module twice: listed once

    def forward(self, x):
        return self.head(self.block(x))


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["block.scale", "block.fc.weight", "block.fc.bias", "head.0.weight", "head.0.bias"]
    assert [n for n, _ in net.named_buffers()] == ["block.running", "block.scratch"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "block.act", "head", "head.0", "head.1"]
    assert sum(p.numel() for p in net.parameters()) == 3 + 12 + 3 + 6 + 2
    assert list(net.state_dict()) == names[:1] + ["block.running"] + names[1:]
    net.block.fc = None
    assert "block.fc.weight" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="as parameter 'scale'"):
        net.block.scale = dl.ones(3)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        net.nope


def test_registering_a_name_taken_by_another_kind_is_an_error():
    lin = nn.Linear(2, 2)
    lin.extra = 1
    for register, name in [(lin.register_buffer, "weight"), (lin.add_module, "bias"),
                           (lin.register_parameter, "extra"), (lin.register_buffer, "forward")]:
        value = nn.Parameter(dl.ones(1)) if register == lin.register_parameter else None
        with pytest.raises(KeyError, match=f"attribute '{name}' already exists"):
            register(name, value)
    assert list(lin.state_dict()) == ["weight", "bias"]
    lin.register_parameter("weight", nn.Parameter(dl.zeros(2, 2)))  # the same kind: replaced
    np.testing.assert_array_equal(lin.weight.detach().numpy(), 0.0)


def test_train_eval_apply_zero_grad():
    net = Net()
    net.eval()
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.count("Linear") == 2
    net(dl.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_to_dtype_converts_parameters_and_buffers():
    net = Net().to(dl.float64)
    assert all(p.dtype == dl.float64 and isinstance(p, nn.Parameter) for p in net.parameters())
    assert net.block.running.dtype == dl.float64
    assert net(dl.randn(2, 4, dtype=dl.float64)).dtype == dl.float64
    with pytest.raises(TypeError, match="floating-point"):
        net.to(dl.int64)


def test_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    x = dl.randn(3, 4)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    sd = a.state_dict()
    del sd["block.scale"]
    sd["extra.weight"] = dl.ones(1)
    with pytest.raises(ValueError, match=r"missing keys: block.scale.*unexpected keys: extra.weight"):
        b.load_state_dict(sd)
    missing, unexpected = b.load_state_dict(sd, strict=False)
    assert missing == ["block.scale"] and unexpected == ["extra.weight"]
    sd = a.state_dict()
    sd["head.0.weight"] = dl.ones(5, 3)
    with pytest.raises(ValueError, match=r"size mismatch for head.0.weight: checkpoint \(5, 3\), model \(2, 3\)"):
        b.load_state_dict(sd, strict=False)


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(tuple(out.shape)) or out + 1)
    out = lin(dl.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy() + 1, (3, 2)))
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(lin(dl.ones(1, 2)).detach().numpy(),
                               (lin.weight.detach().numpy().sum(1) + lin.bias.detach().numpy())[None], rtol=1e-6)


def test_containers():
    seq = nn.Sequential(OrderedDict([("a", nn.Linear(2, 3)), ("b", nn.ReLU())]))
    assert isinstance(seq[0], nn.Linear) and isinstance(seq[-1], nn.ReLU) and len(seq) == 2
    assert isinstance(seq[1:][0], nn.ReLU)
    with pytest.raises(IndexError, match="out of range"):
        seq[2]
    ml = nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1)])
    ml.append(nn.Tanh())
    ml.insert(0, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "Linear", "Linear", "Tanh"]
    assert len(list(ml.parameters())) == 4
    md = nn.ModuleDict({"x": nn.Linear(1, 2)})
    md["y"] = nn.ReLU()
    assert list(md.keys()) == ["x", "y"] and "x" in md
    assert [n for n, _ in md.named_parameters()] == ["x.weight", "x.bias"]


def test_shape_layers():
    x = dl.arange(24).reshape(2, 3, 4).float()
    assert nn.Identity(5, foo=1)(x) is x
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Unflatten(1, (3, 2, 2))(nn.Flatten()(x)).shape == (2, 3, 2, 2)
    np.testing.assert_array_equal(nn.Unflatten(2, (2, 2))(x).numpy(), x.numpy().reshape(2, 3, 2, 2))
    with pytest.raises(ValueError, match="can't be unflattened"):
        nn.Unflatten(1, (5, 2))(x)


def test_repr_shows_the_tree():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Dropout(0.5))))
    assert text == ("Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n"
                    "  (1): Sequential(\n    (0): ReLU()\n    (1): Dropout(p=0.5)\n  )\n)")


def test_summary_counts_params_and_flops():
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10, bias=False))
    lines = []
    totals = nn.summary(model, (8, 784), print_fn=lines.append)
    assert totals["params"] == 784 * 256 + 256 + 256 * 10
    # 2 flops per multiply-add, plus one add per bias element; ReLU one per element.
    assert totals["flops"] == 8 * 256 * (2 * 784 + 1) + 8 * 256 + 8 * 10 * 2 * 256
    assert "(8, 256)" in lines[0] and "200,960" in lines[0]


def test_deepcopy_and_pickle_copy_values_not_storage():
    import copy
    import pickle

    net = Net()
    twin = copy.deepcopy(net)
    assert isinstance(twin.block.scale, nn.Parameter) and twin.block.scale.requires_grad
    with dl.no_grad():
        twin.block.scale.fill_(5.0)
    assert np.all(net.block.scale.detach().numpy() == 1.0)
    x = dl.randn(2, 4)
    np.testing.assert_array_equal(copy.deepcopy(net)(x).detach().numpy(), net(x).detach().numpy())
    t = pickle.loads(pickle.dumps(dl.tensor([[1, 2], [3, 4]])))
    assert t.dtype == dl.int64 and t.tolist() == [[1, 2], [3, 4]]


def test_buffer_assignment_registers_it():
    class Stats(nn.Module):
        def __init__(self):
            super().__init__()
            self.count = nn.Buffer(dl.zeros(2))
            self.scratch = nn.Buffer(dl.ones(3), persistent=False)
            self.plain = 1

    m = Stats()
    assert [n for n, _ in m.named_buffers()] == ["count", "scratch"]
    assert list(m.state_dict()) == ["count"]  # the non-persistent one stays out
    assert isinstance(m.count, nn.Buffer) and isinstance(m.count, dl.Tensor) and not m.count.requires_grad
    m.count = m.count + 1  # a plain tensor replaces a buffer and stays a (persistent) buffer
    assert not isinstance(m.count, nn.Buffer)
    np.testing.assert_array_equal(m.state_dict()["count"].numpy(), [1, 1])
    m.plain = nn.Buffer(dl.zeros(1))  # a plain attribute becomes a buffer
    assert "plain" in dict(m.named_buffers())
    data = dl.ones(2)
    b = nn.Buffer(data)
    b.add_(1)
    np.testing.assert_array_equal(data.numpy(), [2, 2])  # shares the memory
    assert nn.Buffer(dl.ones(2, requires_grad=True)).requires_grad
    restored = pickle.loads(pickle.dumps(nn.Buffer(dl.ones(2), persistent=False)))
    assert isinstance(restored, nn.Buffer) and restored.persistent is False
    assert nn.parameter.Buffer is nn.Buffer and nn.parameter.Parameter is nn.Parameter
    with pytest.raises(TypeError, match="expected a dlcore Tensor, got list"):
        nn.Buffer([1, 2])

    class Clash(nn.Module):
        training_steps = 0

    with pytest.raises(KeyError, match="attribute 'training_steps' already exists"):
        Clash().training_steps = nn.Buffer(dl.zeros(1))


def test_forward_hook_options_prepend_with_kwargs_always_call():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            if factor == 0:
                raise ValueError("no zero factors")
            return x * factor

    m = Scale()
    order = []
    m.register_forward_hook(lambda mod, args, out: order.append("first"))
    m.register_forward_hook(lambda mod, args, out: order.append("prepended"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {**kwargs, "factor": 3.0}), with_kwargs=True)
    seen = []
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append(kwargs["factor"]) or out + 1,
                            with_kwargs=True)
    out = m(dl.ones(2), factor=2.0)
    np.testing.assert_array_equal(out.numpy(), [4.0, 4.0])  # the pre-hook made factor 3, the hook added 1
    assert order == ["prepended", "first"] and seen == [3.0]

    m2 = Scale()
    called = []
    m2.register_forward_hook(lambda mod, args, out: called.append(out), always_call=True)
    m2.register_forward_hook(lambda mod, args, out: called.append("plain"))
    with pytest.raises(ValueError, match="no zero factors"):
        m2(dl.ones(2), factor=0)
    assert called == [None]  # only the always_call hook, with no output
    m3 = Scale()
    m3.register_forward_pre_hook(lambda mod, args, kwargs: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="new_args, new_kwargs"):
        m3(dl.ones(2))


def test_state_dict_hooks():
    net = Net()
    calls = []
    net.block.register_state_dict_pre_hook(lambda m, prefix, keep_vars: calls.append(("pre", prefix, keep_vars)))

    def post(m, sd, prefix, meta):
        calls.append(("post", prefix))
        sd[prefix + "note"] = dl.tensor([7.0])

    net.block.register_state_dict_post_hook(post)
    sd = net.state_dict()
    assert calls == [("pre", "block.", False), ("post", "block.")]
    np.testing.assert_array_equal(sd["block.note"].numpy(), [7.0])

    # A load pre-hook renames old keys; the post-hook drops the hook-made key from the
    # unexpected ones before strict checks them.
    other = Net()
    old = {k.replace("block.fc.", "block.linear."): v for k, v in net.state_dict().items()}

    def rename(m, state, prefix, meta, strict, missing, unexpected, errors):
        for k in list(state):
            if k.startswith(prefix + "linear."):
                state[k.replace(prefix + "linear.", prefix + "fc.")] = state.pop(k)

    other.block.register_load_state_dict_pre_hook(rename)
    other.block.register_load_state_dict_post_hook(lambda m, keys: keys.unexpected_keys.remove("block.note"))
    other.block.register_state_dict_post_hook(post)  # state_dict's hooks do not change what loads
    keys = other.load_state_dict(old)
    assert keys.missing_keys == [] and keys.unexpected_keys == []
    assert "block.linear.weight" in old  # the caller's dict is left as it was
    np.testing.assert_array_equal(other.block.fc.weight.detach().numpy(), net.block.fc.weight.detach().numpy())

    def refuse(m, state, prefix, meta, strict, missing, unexpected, errors):
        errors.append("checkpoint from another model")

    h = other.register_load_state_dict_pre_hook(refuse)
    with pytest.raises(ValueError, match="checkpoint from another model"):
        other.load_state_dict(net.state_dict())
    h.remove()


def test_load_state_dict_assign_and_to_empty():
    src, dst = Block(), Block()
    sd = src.state_dict()
    dst.fc.weight.requires_grad_(False)
    dst.load_state_dict(sd, assign=True)
    assert dst.fc.bias is not sd["fc.bias"] and isinstance(dst.fc.bias, nn.Parameter)
    np.testing.assert_array_equal(dst.fc.weight.detach().numpy(), src.fc.weight.detach().numpy())
    assert not dst.fc.weight.requires_grad and dst.fc.bias.requires_grad
    before = sd["fc.bias"].numpy().copy()
    sd["fc.bias"].add_(1.0)  # assigned, not copied: the module sees the change
    np.testing.assert_array_equal(dst.fc.bias.detach().numpy(), before + 1.0)
    assert dst.running is sd["running"]
    bad = dict(sd)
    bad["fc.bias"] = dl.zeros(3, dtype=dl.float64)
    with pytest.raises(TypeError, match="fc.bias is dlcore.float64 in the checkpoint"):
        Block().load_state_dict(bad, assign=True)

    m = Block()
    w = m.fc.weight
    assert m.to_empty(device="cpu") is m
    assert m.fc.weight is not w and m.fc.weight.shape == (3, 4) and m.fc.weight.requires_grad
    assert m.running.shape == (3,) and isinstance(m.fc.weight, nn.Parameter)
    m.load_state_dict(sd)
    np.testing.assert_array_equal(m.fc.weight.detach().numpy(), src.fc.weight.detach().numpy())
    with pytest.raises(TypeError, match="CPU"):
        m.to_empty(device="cuda")
