"""Runtime: config(), instruction-set dispatch (DLCORE_ISA), threads."""
import os
import subprocess
import sys

import numpy as np
import pytest

import dlcore as dl


def run_python(code, **env):
    e = dict(os.environ)
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=e, timeout=120)


def test_config_reports_the_build():
    c = dl.config()
    assert c["version"] == dl.__version__
    assert c["isa"] in c["available_isas"] and "generic" in c["available_isas"]
    assert set(c["available_isas"]) <= set(c["compiled_isas"])
    assert c["threads"] == dl.get_num_threads() >= 1
    assert c["openmp"] is True and c["cuda"] is False and c["compiler"]


def test_default_isa_is_the_best_available():
    r = run_python("import dlcore; c = dlcore.config(); print(c['isa'], c['available_isas'][-1])", DLCORE_ISA="")
    chosen, best = r.stdout.split()
    assert chosen == best


@pytest.mark.parametrize("isa", dl.config()["available_isas"])
def test_dlcore_isa_forces_a_level(isa):
    r = run_python("import dlcore; print(dlcore.config()['isa'])", DLCORE_ISA=isa)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == isa


def test_op_tests_pass_in_a_process_started_with_the_generic_isa():
    """The forward tests again in a fresh interpreter where DLCORE_ISA picked the kernels
    at import (the in-process `isa` fixture covers the switch after import)."""
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                        os.path.join(here, "test_ops.py"), "-k", "test_forward or noncontiguous"],
                       capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, DLCORE_ISA="generic"))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert " passed" in r.stdout and "failed" not in r.stdout


def test_unknown_isa_is_a_clear_import_error():
    r = run_python("import dlcore", DLCORE_ISA="sse9")
    assert r.returncode != 0
    assert "DLCORE_ISA: unknown instruction set 'sse9'" in r.stderr


def test_unsupported_isa_is_a_clear_error():
    missing = [i for i in dl.config()["compiled_isas"] if i not in dl.config()["available_isas"]]
    if not missing:
        pytest.skip("this CPU supports every compiled instruction set")
    r = run_python("import dlcore", DLCORE_ISA=missing[0])
    assert r.returncode != 0 and "does not support" in r.stderr


def test_set_num_threads(threads):
    dl.set_num_threads(1)
    assert dl.get_num_threads() == 1 and dl.config()["threads"] == 1
    x = dl.rand(1000, 1000)
    single = x.sum(1).numpy().copy()
    dl.set_num_threads(2)
    np.testing.assert_array_equal(x.sum(1).numpy(), single)


def test_errors_inside_parallel_regions_become_exceptions(threads):
    dl.set_num_threads(2)
    x = dl.rand(4096, 64)
    idx = dl.randint(0, 64, (4096, 64))
    idx[4000, 3] = 99
    with pytest.raises(IndexError, match="out of bounds"):
        x.gather(1, idx)


def test_rng_state_round_trip():
    dl.manual_seed(3)
    dl.randn(3)  # odd: a normal is kept for the next call, and in the state
    state = dl.get_rng_state()
    assert state.dtype == dl.int64 and state.ndim == 1
    a, b = dl.randn(5).numpy(), dl.rand(2).numpy()
    dl.set_rng_state(state)
    np.testing.assert_array_equal(dl.randn(5).numpy(), a)
    np.testing.assert_array_equal(dl.rand(2).numpy(), b)
    g = dl.Generator().manual_seed(11)
    st = g.get_state()
    x = dl.randn(4, generator=g).numpy()
    g.set_state(st)
    np.testing.assert_array_equal(dl.randn(4, generator=g).numpy(), x)
    with pytest.raises(ValueError, match="set_rng_state: not a state saved by get_rng_state"):
        dl.set_rng_state(dl.tensor([1, 2, 3]))
    with pytest.raises(TypeError, match="set_rng_state: expected the 1-D int64 tensor get_rng_state returns"):
        dl.set_rng_state(dl.zeros(3))


LARGE_BLOCKS = r"""
import sys
import numpy as np
import dlcore as dl

huge = sys.argv[1] != "0"
sanitized = any("libasan" in line for line in open("/proc/self/maps"))
MiB = 1 << 20
flags = {}
for nbytes in (2 * MiB - 64, 2 * MiB, 2 * MiB + 4096 + 12, 6 * MiB + 8):
    n = nbytes // 4
    for _ in range(2):  # the second round allocates after the first one freed its blocks
        t = dl.arange(n, dtype=dl.float32) * 2.0
        a = t.data_ptr()
        assert a % 64 == 0, (nbytes, a)
        v = t.numpy()
        np.testing.assert_array_equal(v[[0, 1, n // 2, n - 1]], [0.0, 2.0, 2.0 * (n // 2), 2.0 * (n - 1)])
        assert float(t.double().sum()) == float(n) * (n - 1)
        if huge and not sanitized and nbytes >= 2 * MiB:
            assert a % (2 * MiB) == 0, (nbytes, a)
            for line in open("/proc/self/smaps"):
                parts = line.split()
                if "-" in parts[0] and ":" not in parts[0]:
                    lo, hi = (int(x, 16) for x in parts[0].split("-"))
                elif parts[0] == "VmFlags:" and lo <= a < hi:
                    flags[nbytes] = parts[1:]
        del t, v
print("ok", sorted(k for k, f in flags.items() if "hg" in f))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the large-block mapping is Linux's")
@pytest.mark.parametrize("huge", ["1", "0"])
def test_large_blocks_are_aligned_and_advised_for_huge_pages(huge):
    """Tensors of at least 2 MiB are mapped 2 MiB-aligned with their whole 2 MiB pages
    advised for transparent huge pages (VmFlags 'hg' in smaps); DLCORE_HUGE_PAGES=0 leaves
    them to malloc. Values, 64-byte alignment and the reuse of a freed block hold either way."""
    r = subprocess.run([sys.executable, "-c", LARGE_BLOCKS, huge], capture_output=True, text=True,
                       env=dict(os.environ, DLCORE_HUGE_PAGES=huge), timeout=120)
    assert r.returncode == 0, r.stderr
    sanitized = "libasan" in os.environ.get("LD_PRELOAD", "")
    thp = os.path.exists("/sys/kernel/mm/transparent_hugepage/enabled")  # else no 'hg' flag to set
    advised = [] if huge == "0" or sanitized or not thp else [2 << 20, (2 << 20) + 4108, (6 << 20) + 8]
    assert r.stdout.strip().split(None, 1) == ["ok", str(advised)]


CACHE_TURNOVER = r"""
import resource
import dlcore as dl

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

# A run whose sizes change: 300 sizes of 1.6 to 6.4 MiB, each freed at once (untouched,
# so they take no memory), more than the 1 GiB the cache keeps.
for rows in range(100, 400):
    dl.empty(rows, 4096)
counts = []
for _ in range(4):  # then a steady loop at a size not seen before
    f0 = faults()
    a = dl.ones(1000, 1024)
    b = a * 2.0
    c = b + 1.0
    assert float(c[999, 1023]) == 3.0
    del a, b, c
    counts.append(faults() - f0)
print(counts)
"""


@pytest.mark.parametrize("huge", ["1", "0"])
def test_block_cache_makes_room_for_new_sizes(huge):
    """When freed blocks of many sizes fill the cache, a block of a new size evicts the ones
    freed longest ago instead of going back to the system: a steady loop at the new size
    then reuses its blocks and faults in no pages after its first step (it faulted 490 to
    1,000 pages a step when the cache kept the stale sizes)."""
    r = subprocess.run([sys.executable, "-c", CACHE_TURNOVER], capture_output=True, text=True,
                       env=dict(os.environ, DLCORE_HUGE_PAGES=huge), timeout=120)
    assert r.returncode == 0, r.stderr
    counts = eval(r.stdout.strip())
    assert counts[0] > 400 and max(counts[1:]) < 100, counts
