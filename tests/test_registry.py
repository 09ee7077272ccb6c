"""The op list (cpp/src/ops/op_list.h) and the test table agree: every
differentiable op has a gradient check, and every op is reachable from Python."""
import dlcore as dl
from op_specs import COMPARISONS, SPECS

REGISTRY = dl._C._op_registry()


def covered(name):
    return any(s.grad and (s.name == name or s.name.startswith(name + "_")) for s in SPECS)


def test_registry_is_not_empty_and_names_are_unique():
    names = [n for n, _, _ in REGISTRY]
    assert len(names) > 50 and len(names) == len(set(names))


def test_every_differentiable_op_has_a_gradcheck_spec():
    missing = [n for n, _, diff in REGISTRY if diff and not covered(n)]
    assert not missing, f"differentiable ops without a gradcheck row in op_specs.py: {missing}"


def test_every_op_is_reachable_from_python():
    t = dl.ones(2, 2)
    missing = [n for n, _, _ in REGISTRY
               if not (hasattr(dl, n) or hasattr(t, n) or hasattr(dl.nn.functional, n) or n == "getitem")]
    assert not missing, missing


def test_non_differentiable_ops_are_tested():
    # Comparisons are rows of COMPARISONS; the rest have their own tests (test_ops.py,
    # test_sort.py, test_tensor.py).
    own_tests = {"logical_not", "argmax", "argmin", "nonzero", "argsort", "multinomial"}
    compared = {c[0] for c in COMPARISONS}
    untested = [n for n, _, diff in REGISTRY if not diff and n not in compared | own_tests]
    assert not untested, untested
