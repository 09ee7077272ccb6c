"""AdaptiveLogSoftmaxWithLoss against a plain NumPy adaptive softmax (tests/reference/nn.py)."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.autograd import gradcheck
from reference import nn as ref


def weights(m):
    f = lambda p: None if p is None else p.detach().numpy().astype(np.float64)  # noqa: E731
    tails = [(f(c[0].weight), f(c[1].weight)) for c in m.tail]
    return f(m.head.weight), f(m.head.bias), tails


@pytest.mark.parametrize("head_bias", [False, True])
def test_forward_log_prob_and_predict_against_reference(head_bias, rng):
    dl.manual_seed(0)
    m = nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 9, 15], div_value=2.0, head_bias=head_bias)
    assert [tuple(c[0].weight.shape) for c in m.tail] == [(8, 16), (4, 16), (2, 16)]
    assert [tuple(c[1].weight.shape) for c in m.tail] == [(5, 8), (6, 4), (5, 2)]
    assert tuple(m.head.weight.shape) == (7, 16)
    x = rng.normal(size=(12, 16)).astype(np.float32)
    target = np.array([0, 3, 4, 8, 9, 14, 15, 19, 1, 12, 17, 5])  # every cluster and both ends
    want = ref.adaptive_log_softmax(x.astype(np.float64), *weights(m), [4, 9, 15], 20)
    out, loss = m(dl.tensor(x), dl.tensor(target))
    np.testing.assert_allclose(out.detach().numpy(), want[np.arange(12), target], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(float(loss), -want[np.arange(12), target].mean(), rtol=1e-5)
    lp = m.log_prob(dl.tensor(x)).detach().numpy()
    np.testing.assert_allclose(lp, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.exp(want).sum(1), 1.0, rtol=1e-12)  # the reference is a distribution
    assert (m.predict(dl.tensor(x)).numpy() == want.argmax(1)).all()
    one, one_loss = m(dl.tensor(x[3]), dl.tensor(np.int64(target[3])))  # unbatched
    assert one.ndim == 0
    np.testing.assert_allclose(float(one), want[3, target[3]], rtol=1e-5)
    np.testing.assert_allclose(m.log_prob(dl.tensor(x[3])).detach().numpy(), want[3], rtol=1e-5, atol=1e-5)


def test_targets_in_one_cluster_only_and_gradcheck(rng):
    m = nn.AdaptiveLogSoftmaxWithLoss(6, 10, [3, 6], div_value=2.0, dtype=dl.float64)
    x = rng.normal(size=(4, 6))
    for target in (np.array([7, 8, 9, 6]), np.array([0, 1, 2, 0])):  # the shortlist or one cluster alone
        out, _ = m(dl.tensor(x), dl.tensor(target))
        want = ref.adaptive_log_softmax(x, *weights(m), [3, 6], 10)[np.arange(4), target]
        np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12)
    target = dl.tensor(np.array([0, 4, 7, 9]))
    xt = dl.tensor(x, requires_grad=True)
    assert gradcheck(lambda a: m(a, target).output, (xt,))
    m(xt, target).loss.backward()
    assert all(p.grad is not None for p in m.parameters())


def test_bad_arguments():
    with pytest.raises(ValueError, match="cutoffs should be a sequence of unique, positive integers"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3])
    with pytest.raises(ValueError, match="between 1 and n_classes - 1 = 9"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 10])
    with pytest.raises(ValueError, match="unique"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 5])
    m = nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5])
    with pytest.raises(IndexError, match=r"should be in \[0, 9\], but values in range \[0, 10\]"):
        m(dl.ones(2, 8), dl.tensor(np.array([0, 10])))
    with pytest.raises(ValueError, match=r"input should be \(N, 8\)"):
        m(dl.ones(2, 7), dl.tensor(np.array([0, 1])))
    with pytest.raises(ValueError, match="same batch size, got 2 and 3"):
        m(dl.ones(2, 8), dl.tensor(np.array([0, 1, 2])))
    with pytest.raises(ValueError, match="does not match input"):
        m(dl.ones(2, 8), dl.tensor(np.array([[0, 1]])))
