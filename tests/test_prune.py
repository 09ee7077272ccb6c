"""dlcore.nn.utils.prune against masks worked out in NumPy (the k smallest |w|, stable for
ties; channel norms), iterative pruning among the entries left, global pruning, the
_orig/_mask form in parameters, state dicts and gradients, remove, and the errors."""
import numpy as np
import pytest

import dlcore as dl
from dlcore import nn
from dlcore.nn.utils import prune


def linear_with(w):
    m = nn.Linear(w.shape[1], w.shape[0])
    with dl.no_grad():
        m.weight.copy_(dl.tensor(w.astype(np.float32)))
    return m


def smallest_mask(scores, keep, k):
    """The mask keep with the k smallest scores among its ones set to 0 (ties: the earlier
    position first)."""
    mask = keep.astype(np.float32).reshape(-1).copy()
    alive = np.flatnonzero(mask == 1)
    order = alive[np.argsort(np.abs(scores.reshape(-1)[alive]), kind="stable")]
    mask[order[:k]] = 0
    return mask.reshape(keep.shape)


def test_l1_unstructured_then_again_among_the_rest(rng):
    w = rng.standard_normal((5, 6))
    m = linear_with(w)
    prune.l1_unstructured(m, "weight", amount=0.3)  # round(0.3 * 30) = 9 entries
    want = smallest_mask(w, np.ones_like(w), 9)
    np.testing.assert_array_equal(m.weight_mask.numpy(), want)
    np.testing.assert_array_equal(m.weight.detach().numpy(), (w * want).astype(np.float32))
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight_orig"]
    assert list(m.state_dict()) == ["bias", "weight_orig", "weight_mask"]
    prune.l1_unstructured(m, "weight", amount=0.5)  # half of the 21 left: round(10.5) = 10
    want = smallest_mask(w, want, 10)
    np.testing.assert_array_equal(m.weight_mask.numpy(), want)
    assert int((want == 0).sum()) == 19
    # the pruned entries get no gradient; the others get the input's
    x = rng.standard_normal((3, 6)).astype(np.float32)
    m(dl.tensor(x)).sum().backward()
    np.testing.assert_allclose(m.weight_orig.grad.numpy(), want * x.sum(0)[None, :], rtol=1e-6)
    prune.remove(m, "weight")
    assert [n for n, _ in m.named_parameters()] == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    np.testing.assert_array_equal(m.weight.detach().numpy(), (w * want).astype(np.float32))
    assert not prune.is_pruned(m) and list(m.state_dict()) == ["bias", "weight"]


def test_ln_structured_prunes_whole_channels(rng):
    w = rng.standard_normal((6, 4))
    m = linear_with(w)
    prune.ln_structured(m, "weight", amount=2, n=2, dim=0)  # the 2 rows of smallest 2-norm
    rows = np.argsort(np.linalg.norm(w, axis=1), kind="stable")[:2]
    want = np.ones_like(w)
    want[rows] = 0
    np.testing.assert_array_equal(m.weight_mask.numpy(), want)
    # again along the columns, with the L1 norm over the (original) rows
    prune.ln_structured(m, "weight", amount=0.5, n=1, dim=1)
    cols = np.argsort(np.abs(w).sum(0), kind="stable")[:2]
    want[:, cols] = 0
    np.testing.assert_array_equal(m.weight_mask.numpy(), want)
    # a channel already pruned whole is not counted again: 1 more row of the 4 left
    prune.ln_structured(m, "weight", amount=1, n=float("inf"), dim=0)
    alive = [r for r in range(6) if r not in rows]
    inf_norms = np.abs(w[alive]).max(1)
    want[alive[int(np.argmin(inf_norms))]] = 0
    np.testing.assert_array_equal(m.weight_mask.numpy(), want)
    assert isinstance(m._forward_pre_hooks[next(iter(m._forward_pre_hooks))], prune.PruningContainer)


def test_random_pruning_counts_and_seed():
    m = nn.Linear(10, 8)
    dl.manual_seed(3)
    prune.random_unstructured(m, "weight", amount=25)
    first = m.weight_mask.numpy().copy()
    assert int((first == 0).sum()) == 25
    m2 = nn.Linear(10, 8)
    dl.manual_seed(3)
    prune.random_unstructured(m2, "weight", amount=25)
    np.testing.assert_array_equal(m2.weight_mask.numpy(), first)
    prune.random_structured(m, "weight", amount=0.25, dim=0)  # 2 of the 8 rows
    rows_gone = (m.weight_mask.numpy() == 0).all(1).sum()
    assert rows_gone >= 2


def test_global_unstructured_prunes_the_smallest_of_all(rng):
    w1, w2 = rng.standard_normal((4, 5)), rng.standard_normal((3, 4)) * 0.3
    m1, m2 = linear_with(w1), linear_with(w2)
    prune.global_unstructured([(m1, "weight"), (m2, "weight")], pruning_method=prune.L1Unstructured, amount=10)
    both = np.concatenate([w1.reshape(-1), w2.reshape(-1)]).astype(np.float32)
    want = smallest_mask(both, np.ones_like(both), 10)
    np.testing.assert_array_equal(m1.weight_mask.numpy().reshape(-1), want[:20])
    np.testing.assert_array_equal(m2.weight_mask.numpy().reshape(-1), want[20:])
    assert prune.is_pruned(nn.Sequential(m1))
    with pytest.raises(TypeError, match="unstructured"):
        prune.global_unstructured([(m1, "weight")], pruning_method=prune.LnStructured, amount=1, n=2, dim=0)


def test_custom_mask_identity_and_importance_scores(rng):
    m = nn.Linear(4, 3)
    prune.custom_from_mask(m, "bias", dl.tensor([1.0, 0.0, 1.0]))
    b = m.bias_orig.detach().numpy()
    np.testing.assert_array_equal(m.bias.detach().numpy(), b * np.array([1, 0, 1], dtype=np.float32))
    prune.identity(m, "weight")
    np.testing.assert_array_equal(m.weight_mask.numpy(), np.ones((3, 4)))
    w = rng.standard_normal((3, 4))
    scores = rng.standard_normal((3, 4))
    m2 = linear_with(w)
    prune.l1_unstructured(m2, "weight", amount=4, importance_scores=dl.tensor(scores.astype(np.float32)))
    np.testing.assert_array_equal(m2.weight_mask.numpy(), smallest_mask(scores.astype(np.float32),
                                                                         np.ones((3, 4)), 4))
    pruned = prune.L1Unstructured(amount=2).prune(dl.tensor([3.0, -1.0, 0.5, 2.0]))
    np.testing.assert_array_equal(pruned.numpy(), [3.0, 0.0, 0.0, 2.0])


def test_prune_errors():
    m = nn.Linear(4, 3)
    with pytest.raises(ValueError, match="amount=1.5 should either be a float in the range"):
        prune.l1_unstructured(m, "weight", amount=1.5)
    with pytest.raises(ValueError, match="amount=13 should be smaller than the number of parameters to prune=12"):
        prune.l1_unstructured(m, "weight", amount=13)
    with pytest.raises(TypeError, match="Invalid type for amount"):
        prune.random_unstructured(m, "weight", amount="half")
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(m, "weight")
    with pytest.raises(ValueError, match="'gamma' .* does not exist"):
        prune.l1_unstructured(m, "gamma", amount=1)
    with pytest.raises(ValueError, match="Structured pruning can only be applied to multidimensional tensors"):
        prune.ln_structured(m, "bias", amount=1, n=2, dim=0)
    with pytest.raises(ValueError, match="importance_scores of shape"):
        prune.l1_unstructured(nn.Linear(4, 3), "weight", amount=1, importance_scores=dl.ones(4))
    with pytest.raises(ValueError, match="mask of shape"):
        prune.custom_from_mask(nn.Linear(4, 3), "weight", dl.ones(3))
