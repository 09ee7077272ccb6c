"""Bad inputs raise the documented exception type with a message that names the op
and the shapes, dtypes or indices involved; never a crash."""
import pytest

import dlcore as dl
from dlcore.nn import functional as F

A = dl.ones(2, 3)
B = dl.ones(4, 5)

CASES = [
    (lambda: A + B, ValueError, r"add: shapes \(2, 3\) and \(4, 5\) cannot be broadcast"),
    (lambda: dl.mul(A, dl.ones(3, 2)), ValueError, r"mul: shapes \(2, 3\) and \(3, 2\)"),
    (lambda: dl.where(A > 0, A, B), ValueError, r"where: shapes"),
    (lambda: A @ B, ValueError, r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied \(3 != 4\)"),
    (lambda: dl.matmul(dl.tensor(1.0), A), ValueError, r"matmul: both arguments need to be at least 1-D"),
    (lambda: dl.cat([A, B], 0), ValueError, r"cat: sizes of tensors must match except in dimension 0"),
    (lambda: dl.cat([], 0), ValueError, r"cat: expected a non-empty list"),
    (lambda: dl.stack([A, B]), ValueError, r"stack: expects each tensor to be equal size"),
    (lambda: A.reshape(4, 2), ValueError, r"reshape: shape \(4, 2\) is invalid for input of size 6"),
    (lambda: A.reshape(-1, -1), ValueError, r"only one dimension can be inferred"),
    (lambda: A.expand(4, 3), ValueError, r"expand: the expanded size of the tensor \(4\) must match"),
    (lambda: A.permute(0, 0), ValueError, r"permute: repeated dim 0"),
    (lambda: A.permute(0), ValueError, r"permute: number of dims 1 doesn't match"),
    (lambda: A.sum(2), IndexError, r"sum: dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"),
    (lambda: A.softmax(5), IndexError, r"softmax: dimension out of range"),
    (lambda: A.transpose(0, 3), IndexError, r"transpose: dimension out of range"),
    (lambda: A.sum((0, 0)), ValueError, r"sum: dim 0 appears multiple times"),
    (lambda: A[5], IndexError, r"index 5 is out of bounds for dimension 0 with size 2"),
    (lambda: A.narrow(1, 2, 3), IndexError, r"narrow: start \(2\) \+ length \(3\) exceeds dimension size \(3\)"),
    (lambda: A.gather(1, dl.tensor([[0, 7, 1]])), IndexError, r"gather: index 7 is out of bounds for dimension 1 with size 3"),
    (lambda: A.gather(1, dl.tensor([0.0])), TypeError, r"gather: expected an int64 or int32 index tensor, got float32"),
    (lambda: A.gather(1, dl.tensor([0])), ValueError, r"gather: index tensor must have the same number of dimensions"),
    (lambda: A.scatter_add(0, dl.tensor([[3, 0, 0]]), A), IndexError, r"scatter_add: index 3 is out of bounds"),
    (lambda: A.index_select(0, dl.tensor([0, 2])), IndexError, r"index: index 2 is out of bounds for dimension 0 with size 2"),
    (lambda: A.index_add(0, dl.tensor([0]), B), ValueError, r"index_add: source of shape \(4, 5\) does not match the expected shape \(1, 3\)"),
    (lambda: A.masked_fill(A, 1.0), TypeError, r"masked_fill: expected a bool mask, got float32"),
    (lambda: dl.where(A, A, A), TypeError, r"where: expected condition to be a bool tensor, got float32"),
    (lambda: dl.tensor([True]) - dl.tensor([False]), TypeError, r"sub: subtraction of two bool tensors"),
    (lambda: -dl.tensor([True]), TypeError, r"neg: negation of a bool tensor"),
    (lambda: dl.tensor([1, 2]).mean(), TypeError, r"mean: could not infer output dtype"),
    (lambda: dl.tensor([1, 2]).add_(0.5), TypeError, r"add_: result type float32 can't be cast to the desired output type int64"),
    (lambda: dl.zeros(2, 3).add_(dl.ones(4, 2, 3)), ValueError, r"add_: output with shape \(2, 3\) doesn't match the broadcast shape \(4, 2, 3\)"),
    (lambda: dl.tensor([2]) ** dl.tensor([-1]), ValueError, r"pow: integers to negative integer powers"),
    (lambda: dl.zeros(0).amax(), ValueError, r"amax: cannot reduce an empty dimension"),
    (lambda: dl.zeros(2, 0).argmax(1), ValueError, r"argmax: cannot reduce an empty dimension"),
    (lambda: dl.zeros(0, 3).amax(0), ValueError, r"amax: cannot reduce an empty dimension"),
    # 128 PiB: beyond any address space, whatever the system's overcommit policy.
    (lambda: dl.empty(1 << 55), MemoryError, r"cannot allocate 144115188075855872 bytes"),
    (lambda: dl.zeros(0, 3).argmin(), ValueError, r"argmin: cannot reduce an empty dimension"),
    (lambda: dl.arange(0, 5, 0), ValueError, r"arange: step must be nonzero"),
    (lambda: dl.randint(5, 5, (2,)), ValueError, r"randint: expected low < high"),
    (lambda: dl.rand(2, dtype=dl.int64), TypeError, r"rand: expected a floating dtype, got int64"),
    (lambda: A.split(0), ValueError, r"split: split_size must be positive"),
    (lambda: A.split([1, 1], 1), ValueError, r"split: split sizes sum to 2 but dimension 1 has size 3"),
    (lambda: A.chunk(0), ValueError, r"chunk: number of chunks must be positive"),
    (lambda: A.clamp(), ValueError, r"clamp: at least one of min or max"),
    (lambda: A + "x", TypeError, r"add: expected a Tensor or a number, got str"),
    (lambda: dl.zeros(2, device="cuda"), TypeError, r"only the 'cpu' device"),
    (lambda: dl.set_num_threads(0), ValueError, r"set_num_threads: expected a positive count"),
    (lambda: A[dl.tensor([True, False, True])], IndexError, r"the shape of the mask \(3,\) at index 0 does not match"),
    (lambda: A.view(-1, 4), ValueError, r"view: shape \(-1, 4\) is invalid for input of size 6"),
    (lambda: dl.tensor([1.0]).backward(), RuntimeError, r"does not require grad"),
    (lambda: (dl.ones(2, 4, requires_grad=True) * 1).chunk(2, 1)[1].add_(1), RuntimeError,
     r"add_: in-place operations on a view of a tensor that requires grad"),
    (lambda: dl.zeros(2, 3).copy_(dl.ones(4, 2, 3)), ValueError, r"copy_: source of shape \(4, 2, 3\) cannot be broadcast to the destination's shape \(2, 3\)"),
    (lambda: dl.zeros(3, 1).copy_(dl.ones(1, 3)), ValueError, r"copy_: source of shape \(1, 3\) cannot be broadcast"),
    (lambda: dl.zeros(2**40, 2**40), ValueError, r"has more elements than memory can hold"),
    (lambda: dl.ones(1).expand(2**40, 2**40) + 1, ValueError, r"has more elements than memory can hold"),
    (lambda: dl._C._set_isa("sse9"), ValueError, r"DLCORE_ISA: unknown instruction set 'sse9'"),
    # Layers that run on another op name themselves and their own shapes.
    (lambda: F.conv1d(dl.zeros(2, 3, 3), dl.zeros(4, 3, 5)), ValueError,
     r"conv1d: the \(padded\) input of length 3 is shorter than the \(dilated\) kernel of length 5"),
    (lambda: F.conv1d(dl.zeros(2, 2, 8), dl.zeros(4, 3, 3)), ValueError,
     r"conv1d: weight of shape \(4, 3, 3\) expects 3 input channels \(groups=1\), but the input of shape \(2, 2, 8\)"),
    (lambda: F.conv1d(dl.zeros(2, 3, 8), dl.zeros(4, 3, 3), stride=0), ValueError, r"conv1d: stride and dilation must be positive"),
    (lambda: F.conv1d(dl.zeros(2, 3, 8), dl.zeros(4, 3, 3), dl.zeros(3)), ValueError, r"conv1d: bias must have shape \(4\)"),
    (lambda: dl.nn.GroupNorm(2, 4)(dl.zeros(2, 6, 3, 3)), ValueError,
     r"group_norm: weight of shape \(4,\) does not match the 6 channels of input of shape \(2, 6, 3, 3\)"),
    (lambda: dl.nn.InstanceNorm2d(3, affine=True)(dl.zeros(2, 4, 3, 3)), ValueError,
     r"instance_norm: weight of shape \(3,\) does not match the 4 channels"),
    (lambda: F.one_hot(dl.tensor([0.0, 2.0]), 3), TypeError, r"one_hot: expected an int64 or int32 tensor of class indices"),
    (lambda: F.smooth_l1_loss(dl.zeros(3), dl.zeros(3), beta=-1.0), ValueError, r"smooth_l1_loss: beta must be non-negative"),
    (lambda: dl.vision.gaussian_blur(dl.zeros(1, 1, 8, 8), 3.0), ValueError,
     r"gaussian_blur: a 19 x 19 window needs images larger than 9 x 9 for padding_mode='reflect', got 8 x 8"),
    (lambda: dl.vision.median_filter(dl.zeros(1, 1, 4, 6), 9), ValueError, r"median_filter: a 9 x 9 window"),
    (lambda: dl.utils.data.random_split(list(range(5)), [6, -1]), ValueError,
     r"random_split: lengths must be non-negative ints \(or fractions summing to 1\), got \[6, -1\]"),
    (lambda: dl.utils.data.default_collate([]), ValueError, r"default_collate: the batch is empty"),
    (lambda: dl.datasets.train_test_split(5, 1.5), ValueError, r"train_test_split: test_fraction must be in \[0, 1\]"),
]


@pytest.mark.parametrize("fn,exc,pattern", CASES, ids=[str(i) for i in range(len(CASES))])
def test_bad_input_raises(fn, exc, pattern):
    with pytest.raises(exc, match=pattern):
        fn()
