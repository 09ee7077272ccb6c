"""Recurrent cells and layers (ops/rnn.cpp, nn/recurrent.py, nn/utils/rnn.py) against the
step-by-step NumPy references in tests/reference/rnn.py: every mode, 1 and 2 layers, both
directions, batch_first, variable lengths, proj_size; gradchecks through time for the
input, the initial states and every weight; the fused layer against the cells composed
step by step; every ISA; thread counts; truncated BPTT; bad inputs."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.nn import functional as F
from dlcore.nn.utils import rnn as rnn_utils
from reference import rnn as ref

MODES = {"lstm": (nn.LSTM, {}), "gru": (nn.GRU, {}), "rnn_tanh": (nn.RNN, {}),
         "rnn_relu": (nn.RNN, {"nonlinearity": "relu"})}
GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


def np_params(m):
    """{(layer, direction): (w_ih, w_hh, b_ih, b_hh, w_hr)} in float64."""
    D = 2 if m.bidirectional else 1
    return {(layer, d): tuple(None if p is None else p.detach().numpy().astype(np.float64)
                              for p in m._layer_weights(layer, d))
            for layer in range(m.num_layers) for d in range(D)}


def to_np(t):
    return t.detach().numpy()


def layer_weights(rng, mode, n_in, H, P=None, bias=True):
    G, P = GATES[mode], P or H
    w = [rng.normal(scale=0.5, size=(G * H, n_in)), rng.normal(scale=0.5, size=(G * H, P))]
    w += [rng.normal(scale=0.5, size=G * H), rng.normal(scale=0.5, size=G * H)] if bias else [None, None]
    w.append(rng.normal(scale=0.5, size=(P, H)) if P != H else None)
    return w


def check_layer(m, mode, x, rtol, atol, h0=None, c0=None, lengths=None):
    out, h = m(dl.tensor(x), None if h0 is None else ((dl.tensor(h0), dl.tensor(c0)) if mode == "lstm"
                                                       else dl.tensor(h0)))
    ro, rh, rc = ref.rnn(mode, x.astype(np.float64), np_params(m), m.num_layers, m.bidirectional, h0, c0,
                         lengths, m.batch_first)
    np.testing.assert_allclose(to_np(out), ro, rtol=rtol, atol=atol)
    if mode == "lstm":
        h, c = h
        np.testing.assert_allclose(to_np(c), rc, rtol=rtol, atol=atol)
    np.testing.assert_allclose(to_np(h), rh, rtol=rtol, atol=atol)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("num_layers,bidirectional,batch_first", [(1, False, False), (2, True, False),
                                                                   (2, False, True), (1, True, True)])
def test_layer_matches_reference_float32(mode, num_layers, bidirectional, batch_first, rng):
    cls, kw = MODES[mode]
    m = cls(5, 7, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, **kw)
    x = rng.normal(size=(3, 6, 5) if batch_first else (6, 3, 5)).astype(np.float32)
    check_layer(m, mode, x, 1e-5, 2e-6)


@pytest.mark.parametrize("mode", list(MODES))
def test_layer_float64_initial_state_and_no_bias(mode, rng):
    cls, kw = MODES[mode]
    m = cls(4, 6, num_layers=2, bidirectional=True, bias=False, dtype=dl.float64, **kw)
    x = rng.normal(size=(5, 3, 4))
    h0, c0 = rng.normal(size=(4, 3, 6)), rng.normal(size=(4, 3, 6))
    check_layer(m, mode, x, 1e-12, 1e-13, h0, c0 if mode == "lstm" else None)


def test_lstm_proj_size(rng):
    m = nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3, dtype=dl.float64)
    assert tuple(m.weight_hr_l1_reverse.shape) == (3, 6) and tuple(m.weight_ih_l1.shape) == (24, 6)
    x = rng.normal(size=(5, 2, 4))
    h0, c0 = rng.normal(size=(4, 2, 3)), rng.normal(size=(4, 2, 6))
    check_layer(m, "lstm", x, 1e-12, 1e-13, h0, c0)
    out, (h, c) = m(dl.tensor(x))
    assert tuple(out.shape) == (5, 2, 6) and tuple(h.shape) == (4, 2, 3) and tuple(c.shape) == (4, 2, 6)


def test_parameter_names_follow_pytorch():
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2)
    names = list(m.state_dict())
    assert names[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    assert names[5:10] == [n + "_reverse" for n in names[:5]]
    assert len(names) == 20 and names[-1] == "weight_hr_l1_reverse"
    assert [tuple(p.shape) for p in m.all_weights[2]] == [(16, 4), (16, 2), (16,), (16,), (2, 4)]
    g = nn.GRU(3, 4, bias=False)
    assert list(g.state_dict()) == ["weight_ih_l0", "weight_hh_l0"]
    assert all(abs(p).max().item() <= 0.5 for p in nn.RNN(3, 4).parameters())  # U(+-1/sqrt(4))


@pytest.mark.parametrize("mode", list(MODES))
def test_unbatched_input(mode, rng):
    cls, kw = MODES[mode]
    m = cls(3, 4, num_layers=2, **kw)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    out, h = m(dl.tensor(x))
    full, hb = m(dl.tensor(x[:, None]))
    np.testing.assert_allclose(to_np(out), to_np(full)[:, 0], rtol=1e-6)
    if mode == "lstm":
        assert tuple(h[0].shape) == (2, 4) and tuple(h[1].shape) == (2, 4)
    else:
        assert tuple(h.shape) == (2, 4)


# ---------------------------------------------------------------- variable lengths
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequences_stop_at_their_lengths(mode, enforce_sorted, rng):
    cls, kw = MODES[mode]
    m = cls(4, 5, num_layers=2, bidirectional=True, batch_first=True, dtype=dl.float64, **kw)
    lengths = [6, 4, 4, 1] if enforce_sorted else [3, 6, 1, 4]
    x = rng.normal(size=(4, 6, 4))
    h0, c0 = rng.normal(size=(4, 4, 5)), rng.normal(size=(4, 4, 5))
    packed = rnn_utils.pack_padded_sequence(dl.tensor(x), lengths, batch_first=True, enforce_sorted=enforce_sorted)
    hx = (dl.tensor(h0), dl.tensor(c0)) if mode == "lstm" else dl.tensor(h0)
    out, h = m(packed, hx)
    assert isinstance(out, rnn_utils.PackedSequence)
    padded, got_lengths = rnn_utils.pad_packed_sequence(out, batch_first=True)
    assert got_lengths.tolist() == lengths
    ro, rh, rc = ref.rnn(mode, x, np_params(m), 2, True, h0, c0 if mode == "lstm" else None,
                         np.array(lengths), batch_first=True)
    np.testing.assert_allclose(to_np(padded), ro, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(to_np(h[0] if mode == "lstm" else h), rh, rtol=1e-12, atol=1e-13)
    if mode == "lstm":
        np.testing.assert_allclose(to_np(h[1]), rc, rtol=1e-12, atol=1e-13)
    assert np.all(to_np(padded)[2, 1:] == 0) if not enforce_sorted else np.all(to_np(padded)[3, 1:] == 0)


def test_gradient_of_padded_steps_is_zero_and_matches_separate_runs(rng):
    """Each sequence of a packed batch gets the gradient it gets when run alone."""
    m = nn.GRU(3, 4, bidirectional=True, dtype=dl.float64)
    seqs = [rng.normal(size=(n, 3)) for n in (2, 5, 3)]
    xs = [dl.tensor(s, requires_grad=True) for s in seqs]
    out, h = m(rnn_utils.pack_sequence(xs, enforce_sorted=False))
    padded, lengths = rnn_utils.pad_packed_sequence(out)
    ((padded ** 2).sum() + (h ** 2).sum()).backward()
    for s, xt in zip(seqs, xs):
        alone = dl.tensor(s, requires_grad=True)
        o, ha = m(alone.unsqueeze(1))
        ((o ** 2).sum() + (ha ** 2).sum()).backward()
        np.testing.assert_allclose(to_np(xt.grad), to_np(alone.grad), rtol=1e-10, atol=1e-12)


def test_pad_pack_round_trips(rng):
    seqs = [dl.tensor(rng.normal(size=(n, 2))) for n in (3, 1, 4)]
    padded = rnn_utils.pad_sequence(seqs, batch_first=True, padding_value=-1.0)
    assert tuple(padded.shape) == (3, 4, 2)
    np.testing.assert_array_equal(to_np(padded)[1, 1:], -1.0)
    left = rnn_utils.pad_sequence(seqs, padding_side="left")
    np.testing.assert_array_equal(to_np(left)[3, 1], to_np(seqs[1])[0])
    packed = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
    assert packed.batch_sizes.tolist() == [3, 2, 2, 1] and packed.sorted_indices.tolist() == [2, 0, 1]
    np.testing.assert_array_equal(to_np(packed.data)[:3], np.stack([to_np(seqs[i])[0] for i in (2, 0, 1)]))
    for a, b in zip(rnn_utils.unpack_sequence(packed), seqs):
        np.testing.assert_array_equal(to_np(a), to_np(b))
    p, lens = rnn_utils.pad_packed_sequence(packed, total_length=6)
    assert tuple(p.shape) == (6, 3, 2) and lens.tolist() == [3, 1, 4]
    cut = rnn_utils.unpad_sequence(p, lens)
    np.testing.assert_array_equal(to_np(cut[2]), to_np(seqs[2]))


# ---------------------------------------------------------------- gradients
OP_CASES = [(mode, rev, lens, proj) for mode in GATES for rev in (False, True)
            for lens in (None, [4, 2, 0]) for proj in ((None, 2) if mode == "lstm" else (None,))]


@pytest.mark.parametrize("mode,reverse,lengths,proj", OP_CASES)
def test_rnn_layer_op_forward_and_gradcheck(mode, reverse, lengths, proj, rng):
    T, B, n_in, H = 4, 3, 3, 4
    P = proj or H
    x, h0, c0 = rng.normal(size=(T, B, n_in)), rng.normal(size=(B, P)), rng.normal(size=(B, H))
    w = layer_weights(rng, mode, n_in, H, P)
    ry, rh, rc = ref.rnn_layer(mode, x, h0, c0, *w, lengths=lengths, reverse=reverse)
    args = [x, h0, c0 if mode == "lstm" else None] + w
    for dtype, tol in ((dl.float32, 2e-5), (dl.float64, 1e-12)):
        ts = [None if a is None else dl.tensor(a).to(dtype) for a in args]
        y, h, c = F.rnn_layer(mode, ts[0], ts[1], ts[2], *ts[3:], lengths=lengths, reverse=reverse)
        np.testing.assert_allclose(to_np(y), ry, rtol=tol, atol=tol)
        np.testing.assert_allclose(to_np(h), rh, rtol=tol, atol=tol)
        if mode == "lstm":
            np.testing.assert_allclose(to_np(c), rc, rtol=tol, atol=tol)
        else:
            assert c is None
    where = [k for k, a in enumerate(args) if a is not None]

    def fn(*inputs):
        a = [None] * len(args)
        for k, t in zip(where, inputs):
            a[k] = t
        y, h, c = F.rnn_layer(mode, a[0], a[1], a[2], *a[3:], lengths=lengths, reverse=reverse)
        parts = [y.flatten(), (1.5 * h).flatten()] + ([(0.7 * c).flatten()] if c is not None else [])
        return dl.cat(parts)

    assert dl.autograd.gradcheck(fn, [dl.tensor(args[k], requires_grad=True) for k in where])


def test_gradcheck_through_a_two_layer_bidirectional_lstm(rng):
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, dtype=dl.float64)
    x = dl.tensor(rng.normal(size=(4, 2, 3)), requires_grad=True)
    h0 = dl.tensor(rng.normal(size=(4, 2, 2)), requires_grad=True)
    c0 = dl.tensor(rng.normal(size=(4, 2, 4)), requires_grad=True)

    def fn(x, h0, c0):
        out, (h, c) = m(x, (h0, c0))
        return dl.cat([out.flatten(), h.flatten(), c.flatten()])

    assert dl.autograd.gradcheck(fn, [x, h0, c0])


def test_only_requested_gradients_and_first_order(rng):
    w = [dl.tensor(a) if a is not None else None for a in layer_weights(rng, "gru", 3, 4)]
    x = dl.tensor(rng.normal(size=(3, 2, 3)), requires_grad=True)
    y, h, _ = F.rnn_layer("gru", x, None, None, *w)
    y.sum().backward()
    assert x.grad is not None and w[0].grad is None
    w[0].requires_grad_()
    y, h, _ = F.rnn_layer("gru", x, None, None, *w)
    with pytest.raises(RuntimeError, match="gru: the gradient of its backward is not implemented"):
        dl.autograd.grad(h.sum(), [w[0]], create_graph=True)


def test_fused_layer_equals_the_cells_composed_step_by_step(rng):
    """LSTM, GRU and RNN layers against a Python loop over LSTMCell/GRUCell/RNNCell (made of
    dlcore ops) with the same weights: outputs and every gradient."""
    for layer, cell in [(nn.LSTM(3, 5, dtype=dl.float64), nn.LSTMCell(3, 5, dtype=dl.float64)),
                        (nn.GRU(3, 5, dtype=dl.float64), nn.GRUCell(3, 5, dtype=dl.float64)),
                        (nn.RNN(3, 5, nonlinearity="relu", dtype=dl.float64),
                         nn.RNNCell(3, 5, nonlinearity="relu", dtype=dl.float64))]:
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            with dl.no_grad():
                getattr(cell, name).copy_(getattr(layer, name + "_l0"))
        x = rng.normal(size=(6, 2, 3))
        out, _ = layer(dl.tensor(x))
        (out * dl.tensor(np.cos(np.arange(out.numel())).reshape(out.shape))).sum().backward()
        state = None
        outs = []
        for t in range(6):
            state = cell(dl.tensor(x[t]), state)
            outs.append(state[0] if isinstance(state, tuple) else state)
        composed = dl.stack(outs)
        np.testing.assert_allclose(to_np(out), to_np(composed), rtol=1e-12, atol=1e-13)
        (composed * dl.tensor(np.cos(np.arange(out.numel())).reshape(out.shape))).sum().backward()
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            np.testing.assert_allclose(to_np(getattr(layer, name + "_l0").grad), to_np(getattr(cell, name).grad),
                                       rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["lstm", "gru", "rnn_tanh"])
def test_cells_match_reference_batched_and_unbatched(mode, rng):
    cell = {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "rnn_tanh": nn.RNNCell}[mode](4, 3, dtype=dl.float64)
    x, h, c = rng.normal(size=(2, 4)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    w = [to_np(p) for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]
    rh, rc = ref.cell_step(mode, x, h, c if mode == "lstm" else None, *w)
    hx = (dl.tensor(h), dl.tensor(c)) if mode == "lstm" else dl.tensor(h)
    got = cell(dl.tensor(x), hx)
    np.testing.assert_allclose(to_np(got[0] if mode == "lstm" else got), rh, rtol=1e-12)
    if mode == "lstm":
        np.testing.assert_allclose(to_np(got[1]), rc, rtol=1e-12)
    one = cell(dl.tensor(x[0]), (dl.tensor(h[0]), dl.tensor(c[0])) if mode == "lstm" else dl.tensor(h[0]))
    np.testing.assert_allclose(to_np(one[0] if mode == "lstm" else one), rh[0], rtol=1e-12)
    assert dl.autograd.gradcheck(lambda t: cell(t, hx)[0] if mode == "lstm" else cell(t, hx),
                                 [dl.tensor(x, requires_grad=True)])


def test_truncated_bptt_by_detaching_the_state(rng):
    m = nn.LSTM(3, 4, dtype=dl.float64)
    x = rng.normal(size=(8, 2, 3))
    full, _ = m(dl.tensor(x))
    state, outs = None, []
    xt = dl.tensor(x, requires_grad=True)
    for k in range(0, 8, 3):
        out, state = m(xt[k:k + 3], state)
        outs.append(out)
        state = tuple(s.detach() for s in state)
    np.testing.assert_allclose(to_np(dl.cat(outs)), to_np(full), rtol=1e-12, atol=1e-13)
    outs[-1].sum().backward()  # the last chunk's loss reaches only its own steps
    g = to_np(xt.grad)
    assert np.all(g[:6] == 0) and np.all(g[6:] != 0)


def test_dropout_between_layers_only_in_training():
    dl.manual_seed(0)
    m = nn.GRU(3, 8, num_layers=2, dropout=0.5, dtype=dl.float64)
    x = dl.randn(5, 2, 3, dtype=dl.float64)
    m.eval()
    check = np_params(m)
    ro, _, _ = ref.rnn("gru", to_np(x), check, 2)
    np.testing.assert_allclose(to_np(m(x)[0]), ro, rtol=1e-12, atol=1e-13)
    m.train()
    a, b = to_np(m(x)[0]), to_np(m(x)[0])
    assert not np.allclose(a, ro) and not np.allclose(a, b)
    m1 = nn.GRU(3, 8, num_layers=1, dropout=0.5, dtype=dl.float64)  # one layer: nothing to drop
    np.testing.assert_allclose(to_np(m1(x)[0]), to_np(m1.eval()(x)[0]))


# ---------------------------------------------------------------- kernels
@pytest.mark.parametrize("mode", list(GATES))
def test_every_isa(mode, isa, rng):
    T, B, n_in, H = 3, 5, 6, 21  # H not a multiple of any vector width
    x, h0, c0 = rng.normal(size=(T, B, n_in)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    w = layer_weights(rng, mode, n_in, H)
    ry, rh, _ = ref.rnn_layer(mode, x, h0, c0, *w, lengths=[3, 1, 2, 3, 0])
    ts = [None if a is None else dl.tensor(a.astype(np.float32)) for a in [x, h0, c0] + w]
    y, h, _ = F.rnn_layer(mode, ts[0], ts[1], ts[2] if mode == "lstm" else None, *ts[3:], lengths=[3, 1, 2, 3, 0])
    np.testing.assert_allclose(to_np(y), ry, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(to_np(h), rh, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_same_bits_for_any_thread_count(mode, threads):
    dl.manual_seed(3)
    m = MODES[mode][0](32, 64, num_layers=2, bidirectional=True)
    x = dl.randn(10, 16, 32)
    results = []
    for n in (1, 2, 3):
        dl.set_num_threads(n)
        m.zero_grad()
        xt = x.clone().requires_grad_()
        out, _ = m(xt)
        (out * out).sum().backward()
        results.append([to_np(out).copy(), to_np(xt.grad).copy()] + [to_np(p.grad).copy() for p in m.parameters()])
    for r in results[1:]:
        for a, b in zip(r, results[0]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode,proj,stops", [("lstm", None, False), ("lstm", None, True), ("lstm", 128, True),
                                             ("gru", None, True), ("rnn_tanh", None, False)])
def test_steps_split_across_threads(mode, proj, stops, threads, rng):
    """A step of 3 Mi multiply-adds or more runs its product split by columns across a team of
    threads that stays for the whole time loop, its gate pass split by rows (forward and
    backward): the reference's values, and the same bits at 1, 2 and 3 threads, with rows
    that stop early (unsorted, some before their first step)."""
    T, B, n_in, H = 5, 32, 16, 256
    P = proj or H  # B x G H x P: 2 Mi (rnn_tanh: split where the measured threshold says) to 8 Mi
    x, h0, c0 = rng.normal(size=(T, B, n_in)), rng.normal(size=(B, P)), rng.normal(size=(B, H))
    # Weights of a quarter of layer_weights' scale: sums of 256 terms that stay well conditioned
    # in float32 over the steps.
    w = [None if a is None else a / 4 for a in layer_weights(rng, mode, n_in, H, P)]
    lengths = [int(n) for n in rng.integers(0, T + 1, B)] if stops else None
    ry, rh, rc = ref.rnn_layer(mode, x, h0, c0, *w, lengths=lengths)
    args = [x, h0, c0 if mode == "lstm" else None] + w
    gy, gh = rng.normal(size=ry.shape), rng.normal(size=rh.shape)
    results = []
    for n in (1, 2, 3):
        dl.set_num_threads(n)
        ts = [None if a is None else dl.tensor(a.astype(np.float32), requires_grad=True) for a in args]
        y, h, c = F.rnn_layer(mode, ts[0], ts[1], ts[2], *ts[3:], lengths=lengths)
        np.testing.assert_allclose(to_np(y), ry, rtol=2e-5, atol=2e-5)
        np.testing.assert_allclose(to_np(h), rh, rtol=2e-5, atol=2e-5)
        loss = (y * dl.tensor(gy.astype(np.float32))).sum() + (h * dl.tensor(gh.astype(np.float32))).sum()
        (loss + c.sum() if c is not None else loss).backward()
        results.append([to_np(y).copy()] + [to_np(t.grad).copy() for t in ts if t is not None])
    for r in results[1:]:
        for a, b in zip(r, results[0]):
            np.testing.assert_array_equal(a, b)


def test_empty_sequence_returns_the_initial_state(rng):
    h0 = rng.normal(size=(1, 2, 3)).astype(np.float32)
    c0 = rng.normal(size=(1, 2, 3)).astype(np.float32)
    out, (h, c) = nn.LSTM(4, 3)(dl.zeros(0, 2, 4), (dl.tensor(h0), dl.tensor(c0)))
    assert tuple(out.shape) == (0, 2, 3)
    np.testing.assert_array_equal(to_np(h), h0)
    np.testing.assert_array_equal(to_np(c), c0)


# ---------------------------------------------------------------- bad inputs
def test_bad_inputs_name_the_shapes():
    m = nn.LSTM(4, 3, num_layers=2)
    with pytest.raises(ValueError, match=r"input_size: expected 4, got 5"):
        m(dl.zeros(2, 1, 5))
    with pytest.raises(ValueError, match=r"expected input of 3 dims"):
        m(dl.zeros(2, 1, 4, 1))
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(2, 1, 3\).*got \(1, 1, 3\)"):
        m(dl.zeros(2, 1, 4), (dl.zeros(1, 1, 3), dl.zeros(2, 1, 3)))
    with pytest.raises(ValueError, match=r"expected c_0 of shape \(2, 1, 3\).*got \(2, 1, 4\)"):
        m(dl.zeros(2, 1, 4), (dl.zeros(2, 1, 3), dl.zeros(2, 1, 4)))
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(1, 2, 3\)"):
        nn.GRU(4, 3)(dl.zeros(5, 2, 4), dl.zeros(1, 3, 3))
    with pytest.raises(TypeError, match=r"float64 but the input is float32"):
        nn.GRU(4, 3, dtype=dl.float64)(dl.zeros(5, 2, 4))
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(4, 3, proj_size=3)
    with pytest.raises(ValueError, match="proj_size is only supported by LSTM"):
        nn.RNNBase("GRU", 4, 3, proj_size=1)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(4, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        nn.LSTM(4, 3, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        nn.GRU(4, 0)
    with pytest.raises(ValueError, match=r"LSTMCell: input has 5 features, expected input_size=4"):
        nn.LSTMCell(4, 3)(dl.zeros(2, 5))
    with pytest.raises(ValueError, match=r"GRUCell: expected hx of shape \(2, 3\)"):
        nn.GRUCell(4, 3)(dl.zeros(2, 4), dl.zeros(3, 3))


def test_bad_lengths_and_op_arguments():
    x = dl.zeros(3, 2, 4)
    with pytest.raises(ValueError, match="sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(x, [1, 3])
    with pytest.raises(ValueError, match="at least 1"):
        rnn_utils.pack_padded_sequence(x, [3, 0])
    with pytest.raises(ValueError, match="a length of 4 exceeds the 3 steps"):
        rnn_utils.pack_padded_sequence(x, [4, 1])
    with pytest.raises(ValueError, match="got 3 lengths for a batch of 2"):
        rnn_utils.pack_padded_sequence(x, [3, 2, 1])
    with pytest.raises(ValueError, match="total_length=1 is shorter"):
        rnn_utils.pad_packed_sequence(rnn_utils.pack_padded_sequence(x, [3, 2]), total_length=1)
    w_ih, w_hh = dl.zeros(12, 4), dl.zeros(12, 3)
    with pytest.raises(ValueError, match=r"lstm: lengths\[1\] = 5 is outside \[0, T\]"):
        F.rnn_layer("lstm", x, None, None, w_ih, w_hh, lengths=[1, 5])
    with pytest.raises(ValueError, match=r"lstm: expected weight_hh of shape \(12, 3\), got \(12, 2\)"):
        F.rnn_layer("lstm", x, None, None, w_ih, dl.zeros(12, 2))
    with pytest.raises(ValueError, match=r"gru: weight_ih has 10 rows, expected a positive multiple of 3"):
        F.rnn_layer("gru", x, None, None, dl.zeros(10, 4), w_hh)
    with pytest.raises(ValueError, match=r"lstm: expected input of shape \(T, B, input_size\)"):
        F.rnn_layer("lstm", dl.zeros(3, 4), None, None, w_ih, w_hh)
    with pytest.raises(ValueError, match="mode must be"):
        F.rnn_layer("elman", x, None, None, w_ih, w_hh)
    with pytest.raises(TypeError, match="lengths must be integers"):
        F.rnn_layer("lstm", x, None, None, w_ih, w_hh, lengths=dl.tensor([1.0, 2.0]))


# ---------------------------------------------------------------- seq2seq attention
def test_luong_and_bahdanau_attention_against_reference(rng):
    q, keys = rng.normal(size=(3, 4)), rng.normal(size=(3, 5, 4))
    mask = np.ones((3, 5), bool)
    mask[1, 3:] = mask[2, 1:] = False
    dot = nn.LuongAttention()
    ctx, w = dot(dl.tensor(q), dl.tensor(keys), mask=dl.tensor(mask))
    rc, rw = ref.luong_attention(q, keys, mask)
    np.testing.assert_allclose(to_np(ctx), rc, rtol=1e-12)
    np.testing.assert_allclose(to_np(w), rw, rtol=1e-12, atol=1e-15)
    assert np.all(to_np(w)[~mask] == 0)
    general = nn.LuongAttention(6, 4, score="general", dtype=dl.float64)
    q6 = rng.normal(size=(3, 6))
    ctx, w = general(dl.tensor(q6), dl.tensor(keys))
    rc, rw = ref.luong_attention(q6, keys, weight=to_np(general.weight))
    np.testing.assert_allclose(to_np(ctx), rc, rtol=1e-12)
    add = nn.BahdanauAttention(6, 4, 7, dtype=dl.float64)
    ctx, w = add(dl.tensor(q6), dl.tensor(keys), mask=dl.tensor(mask))
    rc, rw = ref.bahdanau_attention(q6, keys, to_np(add.query_proj.weight), to_np(add.key_proj.weight),
                                    to_np(add.key_proj.bias), to_np(add.v.weight), mask)
    np.testing.assert_allclose(to_np(ctx), rc, rtol=1e-12)
    np.testing.assert_allclose(to_np(w), rw, rtol=1e-12, atol=1e-15)
    ts = [dl.tensor(q6, requires_grad=True), dl.tensor(keys, requires_grad=True)]
    assert dl.autograd.gradcheck(lambda a, k: add(a, k, mask=dl.tensor(mask))[0], ts)
    assert dl.autograd.gradcheck(lambda a, k: general(a, k)[0], ts)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
@pytest.mark.parametrize("attention", ["dot", "general", "additive"])
def test_attention_decoder_step_against_reference(cell, attention, rng):
    B, S, n_in, H = 2, 5, 3, 4
    dec = nn.AttentionDecoderCell(n_in, H, cell=cell, attention=attention, dtype=dl.float64)
    x, enc = rng.normal(size=(B, n_in)), rng.normal(size=(B, S, H))
    h, c = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    mask = np.ones((B, S), bool)
    mask[0, 4:] = False
    state = (dl.tensor(h), dl.tensor(c)) if cell == "lstm" else dl.tensor(h)
    out, new_state, w = dec(dl.tensor(x), state, dl.tensor(enc), mask=dl.tensor(mask))
    cw = [to_np(p) for p in (dec.cell.weight_ih, dec.cell.weight_hh, dec.cell.bias_ih, dec.cell.bias_hh)]
    if attention == "additive":
        a = dec.attention
        ctx, rw = ref.bahdanau_attention(h, enc, to_np(a.query_proj.weight), to_np(a.key_proj.weight),
                                         to_np(a.key_proj.bias), to_np(a.v.weight), mask)
        rh, _ = ref.cell_step(cell, np.concatenate([x, ctx], 1), h, c, *cw)
        rout = rh
    else:
        rh, _ = ref.cell_step(cell, x, h, c, *cw)
        ctx, rw = ref.luong_attention(rh, enc, mask, None if attention == "dot" else to_np(dec.attention.weight))
        rout = np.tanh(np.concatenate([ctx, rh], 1) @ to_np(dec.combine.weight).T)
    np.testing.assert_allclose(to_np(out), rout, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(to_np(w), rw, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(to_np(new_state[0] if cell == "lstm" else new_state), rh, rtol=1e-12)
    encs = dl.tensor(enc, requires_grad=True)
    assert dl.autograd.gradcheck(lambda e: dec(dl.tensor(x), state, e, mask=dl.tensor(mask))[0], [encs])
    out0, _, _ = dec(dl.tensor(x), None, dl.tensor(enc))  # a None state is zeros
    zero = (dl.zeros(B, H, dtype=dl.float64),) * 2 if cell == "lstm" else dl.zeros(B, H, dtype=dl.float64)
    np.testing.assert_allclose(to_np(out0), to_np(dec(dl.tensor(x), zero, dl.tensor(enc))[0]), rtol=1e-14)


def test_attention_bad_inputs():
    with pytest.raises(ValueError, match="'dot' attention needs encoder_size == hidden_size"):
        nn.AttentionDecoderCell(3, 4, encoder_size=5)
    with pytest.raises(ValueError, match=r"query of size 3 cannot score keys of size 4"):
        nn.LuongAttention()(dl.zeros(2, 3), dl.zeros(2, 5, 4))
    with pytest.raises(ValueError, match=r"expected mask of shape \(2, 5\), got \(2, 4\)"):
        nn.LuongAttention()(dl.zeros(2, 4), dl.zeros(2, 5, 4), mask=dl.ones(2, 4, dtype=dl.bool))
    with pytest.raises(ValueError, match=r"expected query \(B, H\) and keys \(B, S, H\)"):
        nn.BahdanauAttention(4, 4, 3)(dl.zeros(2, 4), dl.zeros(3, 5, 4))


def test_directions_of_one_layer_as_one_op(rng, threads):
    """rnn_layer_directions: each direction equals its own rnn_layer, at 1 and 2 threads, and
    the input's gradient sums both directions'."""
    T, B, n_in, H = 5, 3, 2, 4
    x = rng.normal(size=(T, B, n_in))
    ws = [layer_weights(rng, "lstm", n_in, H), layer_weights(rng, "lstm", n_in, H, P=2)]
    h0s = [rng.normal(size=(B, H)), rng.normal(size=(B, 2))]
    c0s = [rng.normal(size=(B, H)), rng.normal(size=(B, H))]
    lengths = [5, 2, 4]
    for n in (1, 2):
        dl.set_num_threads(n)
        dirs = [(dl.tensor(h0s[k]), dl.tensor(c0s[k]), *[None if a is None else dl.tensor(a) for a in ws[k]],
                 k == 1) for k in range(2)]
        both = F.rnn_layer_directions("lstm", dl.tensor(x), dirs, lengths)
        for k in range(2):
            ry, rh, rc = ref.rnn_layer("lstm", x, h0s[k], c0s[k], *ws[k], lengths=lengths, reverse=k == 1)
            for got, want in zip(both[k], (ry, rh, rc)):
                np.testing.assert_allclose(to_np(got), want, rtol=1e-12, atol=1e-13)

    def fn(xt, w0, w1):
        dirs = [(None, None, dl.tensor(ws[0][0]), w0, None, None, None, False),
                (None, None, dl.tensor(ws[1][0]), w1, None, None, dl.tensor(ws[1][4]), True)]
        (y0, h0, c0), (y1, h1, c1) = F.rnn_layer_directions("lstm", xt, dirs, lengths)
        return dl.cat([y0.flatten(), y1.flatten(), h1.flatten(), c0.flatten()])

    ts = [dl.tensor(a, requires_grad=True) for a in (x, ws[0][1], ws[1][1])]
    assert dl.autograd.gradcheck(fn, ts)


def test_gate_functions_accurate_and_nan_propagating_on_every_isa(isa):
    """float32 sigmoid (as a GRU's update gate) and tanh (an RNN's) to 2e-7 absolute over
    [-100, 100], with NaN in, NaN out."""
    v = np.concatenate([np.linspace(-100, 100, 4001), [-1e-6, 1e-30, 0.0, 88.5, -88.5, np.nan]]).astype(np.float32)
    x = dl.tensor(v.reshape(1, -1, 1))
    h, = F.rnn_layer("rnn_tanh", x, None, None, dl.ones(1, 1), dl.zeros(1, 1))[1:2]
    s, = F.rnn_layer("gru", x, dl.ones(v.size, 1), None, dl.tensor([[0.0], [1.0], [0.0]]), dl.zeros(3, 1))[1:2]
    v64 = v.astype(np.float64)
    for got, want in ((to_np(h)[:, 0], np.tanh(v64)), (to_np(s)[:, 0], 1 / (1 + np.exp(-v64)))):
        assert np.isnan(got[-1])
        np.testing.assert_allclose(got[:-1], want[:-1], rtol=0, atol=2e-7)


def test_changing_a_saved_input_in_place_before_backward_is_an_error(rng):
    m = nn.LSTM(3, 4)
    x = dl.tensor(rng.normal(size=(5, 2, 3)).astype(np.float32), requires_grad=True)
    h0, c0 = dl.zeros(1, 2, 4), dl.zeros(1, 2, 4)
    out, _ = m(x, (h0, c0))
    c0.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation|in-place"):
        out.sum().backward()
