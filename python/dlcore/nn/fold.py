"""``unfold`` / ``Unfold`` (sliding blocks of an image as columns, im2col) and ``fold`` /
``Fold`` (the adjoint: columns summed back into an image), with PyTorch's arguments and
layouts: column index c * kh * kw + i * kw + j, one column per block position, row-major.
Both are an index_select or an index_add over the padded image's flattened positions, so
each is the other's gradient."""
import numpy as np

from ..creation import tensor, zeros
from ._args import _ntuple
from .module import Module


def _geometry(size, kernel_size, dilation, padding, stride, op):
    k, d, p, s = (_ntuple(v, 2, name, op) for v, name in
                  [(kernel_size, "kernel_size"), (dilation, "dilation"), (padding, "padding"), (stride, "stride")])
    if min(k) <= 0 or min(d) <= 0 or min(s) <= 0 or min(p) < 0:
        raise ValueError(f"{op}: kernel_size, dilation and stride must be positive and padding non-negative, got "
                         f"kernel_size={k}, dilation={d}, padding={p}, stride={s}")
    padded = (size[0] + 2 * p[0], size[1] + 2 * p[1])
    blocks = tuple((padded[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2))
    if min(blocks) <= 0:
        raise ValueError(f"{op}: a {k[0]}x{k[1]} kernel (dilation {d}, padding {p}) does not fit a "
                         f"{size[0]}x{size[1]} image")
    # index[i * kw + j, block] = position of kernel tap (i, j) of that block in the padded image
    ki, kj = np.meshgrid(np.arange(k[0]), np.arange(k[1]), indexing="ij")
    oh, ow = np.meshgrid(np.arange(blocks[0]), np.arange(blocks[1]), indexing="ij")
    rows = oh.reshape(1, -1) * s[0] + ki.reshape(-1, 1) * d[0]
    cols = ow.reshape(1, -1) * s[1] + kj.reshape(-1, 1) * d[1]
    return k, p, padded, blocks, tensor((rows * padded[1] + cols).reshape(-1).astype(np.int64))


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C, H, W) -> (N, C kh kw, L): each column one block of the (zero-padded) image,
    L blocks in row-major order; (C, H, W) -> (C kh kw, L)."""
    if input.ndim not in (3, 4):
        raise ValueError(f"unfold: expected a 3-D or 4-D input, got shape {tuple(input.shape)}")
    x = input if input.ndim == 4 else input.unsqueeze(0)
    n, c, h, w = x.shape
    k, p, padded, blocks, index = _geometry((h, w), kernel_size, dilation, padding, stride, "unfold")
    if p != (0, 0):
        from .functional import pad
        x = pad(x, (p[1], p[1], p[0], p[0]))
    cols = x.reshape(n, c, padded[0] * padded[1]).index_select(2, index)
    out = cols.reshape(n, c * k[0] * k[1], blocks[0] * blocks[1])
    return out if input.ndim == 4 else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """(N, C kh kw, L) -> (N, C, H, W), the adjoint of unfold: each column added into its
    block of the image (overlaps sum), the padding cut off; (C kh kw, L) -> (C, H, W)."""
    if input.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 2-D or 3-D input, got shape {tuple(input.shape)}")
    x = input if input.ndim == 3 else input.unsqueeze(0)
    size = _ntuple(output_size, 2, "output_size", "fold")
    k, p, padded, blocks, index = _geometry(size, kernel_size, dilation, padding, stride, "fold")
    n, ck, length = x.shape
    if ck % (k[0] * k[1]):
        raise ValueError(f"fold: input has {ck} rows, not a multiple of the kernel's {k[0] * k[1]} taps")
    if length != blocks[0] * blocks[1]:
        raise ValueError(f"fold: input has {length} blocks but output_size {size} with these arguments gives "
                         f"{blocks[0]} x {blocks[1]} = {blocks[0] * blocks[1]}")
    c = ck // (k[0] * k[1])
    image = zeros(n, c, padded[0] * padded[1], dtype=input.dtype).index_add(2, index, x.reshape(n, c, -1))
    image = image.reshape(n, c, padded[0], padded[1])
    image = image.narrow(2, p[0], size[0]).narrow(3, p[1], size[1])
    return image if input.ndim == 3 else image.squeeze(0)


class Unfold(Module):
    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Unfold):
    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__(kernel_size, dilation, padding, stride)
        self.output_size = output_size

    def forward(self, input):
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return f"output_size={self.output_size}, " + super().extra_repr()

