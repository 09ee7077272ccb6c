"""Bitwise ops of integer and bool tensors against NumPy: and, or, xor, not, the shifts
(with PyTorch's rule for shifts by a negative amount or by the width or more), broadcasting,
scalars, operators, in-place forms and the errors."""
import numpy as np
import pytest

import dlcore as dl


def shift_reference(x, y, left, bits):
    """x << y or x >> y elementwise, plainly: out-of-range shifts give 0 (left) or the
    sign fill (right); left shifts wrap in the dtype's width."""
    out = np.empty(np.broadcast(x, y).shape, dtype=x.dtype)
    for idx in np.ndindex(out.shape):
        a, s = int(np.broadcast_to(x, out.shape)[idx]), int(np.broadcast_to(y, out.shape)[idx])
        if s < 0 or s >= bits:
            v = 0 if left else (-1 if a < 0 else 0)
        elif left:
            v = (a << s) & ((1 << bits) - 1)
            v = v - (1 << bits) if v >= 1 << (bits - 1) else v
        else:
            v = a >> s
        out[idx] = v
    return out


@pytest.mark.parametrize("dtype,bits", [(np.int64, 64), (np.int32, 32)])
def test_bitwise_against_numpy(rng, dtype, bits):
    info = np.iinfo(dtype)
    x = np.concatenate([rng.integers(info.min, info.max, size=20, dtype=dtype),
                        np.array([info.min, info.max, 0, -1], dtype=dtype)])
    y = np.concatenate([rng.integers(info.min, info.max, size=20, dtype=dtype),
                        np.array([-1, 0, info.max, info.min], dtype=dtype)])
    assert x.dtype == y.dtype == dtype
    tx, ty = dl.tensor(x), dl.tensor(y)
    np.testing.assert_array_equal((tx & ty).numpy(), x & y)
    np.testing.assert_array_equal(dl.bitwise_or(tx, ty).numpy(), x | y)
    np.testing.assert_array_equal(tx.bitwise_xor(ty).numpy(), x ^ y)
    np.testing.assert_array_equal((~tx).numpy(), ~x)
    np.testing.assert_array_equal(dl.bitwise_not(tx).numpy(), ~x)
    assert (tx & ty).dtype == tx.dtype
    s = np.array([0, 1, 5, bits - 1, bits, bits + 7, -1, -bits] * 3, dtype=dtype)
    a = x[:24]
    np.testing.assert_array_equal((dl.tensor(a) << dl.tensor(s)).numpy(), shift_reference(a, s, True, bits))
    np.testing.assert_array_equal(dl.bitwise_right_shift(dl.tensor(a), dl.tensor(s)).numpy(),
                                  shift_reference(a, s, False, bits))


def test_bitwise_broadcasting_scalars_and_bools(rng):
    m = rng.integers(-100, 100, size=(3, 4))
    np.testing.assert_array_equal((dl.tensor(m) & 6).numpy(), m & 6)
    np.testing.assert_array_equal((6 | dl.tensor(m)).numpy(), 6 | m)
    np.testing.assert_array_equal((1 << dl.tensor([0, 3, 10])).numpy(), [1, 8, 1024])
    np.testing.assert_array_equal((dl.tensor(m) >> dl.tensor([1, 2, 3, 4])).numpy(), m >> np.array([1, 2, 3, 4]))
    p, q = rng.random((3, 4)) > 0.5, rng.random(4) > 0.5
    for got, want in (((dl.tensor(p) & dl.tensor(q)), p & q), ((dl.tensor(p) | dl.tensor(q)), p | q),
                      ((dl.tensor(p) ^ dl.tensor(q)), p ^ q), ((~dl.tensor(p)), ~p)):
        assert got.dtype == dl.bool
        np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal((dl.tensor(p) & True).numpy(), p)


def test_bitwise_in_place_and_errors():
    x = dl.tensor([12, 10])
    view = x[1:]
    assert x.bitwise_and_(dl.tensor([4, 6])) is x
    np.testing.assert_array_equal(x.numpy(), [4, 2])
    np.testing.assert_array_equal(view.numpy(), [2])
    x.bitwise_left_shift_(2)
    np.testing.assert_array_equal(x.numpy(), [16, 8])
    y = dl.tensor([1, 2])
    y |= 4
    np.testing.assert_array_equal(y.numpy(), [5, 6])
    with pytest.raises(TypeError, match="bitwise_and: only supported on integer and bool tensors, got float32 and "
                                        "int64"):
        dl.tensor([1.0]) & dl.tensor([1])
    with pytest.raises(TypeError, match="bitwise_left_shift: only supported on integer tensors, got bool and bool"):
        dl.tensor([True]) << dl.tensor([True])
    with pytest.raises(TypeError, match="bitwise_not: only supported on integer and bool tensors, got float64"):
        ~dl.tensor([1.0], dtype=dl.float64)
    with pytest.raises(TypeError, match="bitwise_or_: the result's dtype int64 cannot be written into a bool"):
        dl.tensor([True]).bitwise_or_(2)
