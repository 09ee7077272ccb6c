"""3-D convolution, transposed convolution and pooling over (N, C, D, H, W) inputs (or
unbatched (C, D, H, W)), composed of the 2-D kernels, with PyTorch's arguments and
defaults:

- conv3d: the kd depth offsets of the kernel are folded into the channels, so the whole
  product is one 2-D convolution over N Do images of kd C channels (Do the output depth):
  input slice a (depths a dd, a dd + sd, ...) meets weight[:, :, a]. Each group's channels
  stay together (group-major, then offset, then channel), so groups work unchanged.
- max, average and adaptive pooling take a box of depth x height x width, so they split:
  pooling over (H, W) for every depth, then over D for every output position. The maximum
  of maxima is the maximum; a box average is the average of averages, the divisor being a
  product of one count per axis in every PyTorch mode (padding counted or not, ceil_mode
  windows, adaptive windows). max_pool3d's indices (d H W + h W + w, the first maximum in
  that order on ties) come from the two stages' indices.
Gradients are those of the 2-D kernels and of the reshapes between them.
"""
from .. import _C
from ._args import _ntuple
from .pooling import _adaptive_size


def _batched5(input, op):
    if input.ndim == 4:
        return input.unsqueeze(0), True
    if input.ndim != 5:
        raise ValueError(f"{op}: expected a 4-D (C, D, H, W) or 5-D (N, C, D, H, W) input, got shape "
                         f"{tuple(input.shape)}")
    return input, False


def conv3d_symmetric(x, weight, bias, stride, padding, dilation, groups, op="conv3d"):
    """conv3d of a 5-D x with symmetric zero padding (pd, ph, pw)."""
    if weight.ndim != 5:
        raise ValueError(f"{op}: weight must have 5 dims (O, C / groups, kd, kh, kw), got shape {tuple(weight.shape)}")
    n, c, d, h, w = x.shape
    o, cg, kd = weight.shape[0], weight.shape[1], weight.shape[2]
    if cg * groups != c:
        raise ValueError(f"{op}: the input has {c} channels, the weight {tuple(weight.shape)} expects "
                         f"{cg * groups} ({cg} per group x {groups} groups)")
    (sd, sh, sw), (pd, ph, pw), (dd, dh, dw) = stride, padding, dilation
    if pd:
        from .functional import pad

        x = pad(x, [0, 0, 0, 0, pd, pd])
    depth = x.shape[2]
    do = (depth - dd * (kd - 1) - 1) // sd + 1
    if do < 1:
        raise ValueError(f"{op}: the input's depth {d} (padded to {depth}) is smaller than the kernel's extent "
                         f"{dd * (kd - 1) + 1}")
    # (N, Dp, C, H, W), then for offset a the depths a dd + i sd, i < do: (N, do, C, H, W) each.
    xd = x.permute(0, 2, 1, 3, 4)
    slices = [xd[:, a * dd: a * dd + (do - 1) * sd + 1: sd] for a in range(kd)]
    stacked = _C.stack(slices, 2)  # (N, do, kd, C, H, W)
    stacked = stacked.reshape(n * do, kd, groups, cg, h, w).permute(0, 2, 1, 3, 4, 5)
    folded_x = stacked.reshape(n * do, groups * kd * cg, h, w)
    folded_w = weight.permute(0, 2, 1, 3, 4).reshape(o, kd * cg, weight.shape[3], weight.shape[4])
    y = _C._conv2d(folded_x, folded_w, bias, (sh, sw), (ph, pw), (dh, dw), groups)
    return y.reshape(n, do, o, y.shape[2], y.shape[3]).permute(0, 2, 1, 3, 4)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-D convolution (the adjoint of conv3d) of input (N, Cin, D, H, W) with
    weight (Cin, Cout / groups, kd, kh, kw). One transposed 2-D convolution over the N D
    input planes makes every depth offset's output planes at once (the offsets folded into
    the output channels); input depth i and offset a land at depth i sd + a dd - pd."""
    op = "conv_transpose3d"
    x, added = _batched5(input, op)
    if weight.ndim != 5:
        raise ValueError(f"{op}: weight must have 5 dims (Cin, Cout / groups, kd, kh, kw), got shape "
                         f"{tuple(weight.shape)}")
    n, cin, di, h, w = x.shape
    if weight.shape[0] != cin or cin % groups:
        raise ValueError(f"{op}: the input has {cin} channels, the weight {tuple(weight.shape)} expects "
                         f"{weight.shape[0]} (divisible by groups={groups})")
    s, p = _ntuple(stride, 3, "stride", op), _ntuple(padding, 3, "padding", op)
    op_, dil = _ntuple(output_padding, 3, "output_padding", op), _ntuple(dilation, 3, "dilation", op)
    for i in range(3):
        if not 0 <= op_[i] < max(s[i], dil[i]):
            raise ValueError(f"{op}: output_padding {op_} must be smaller than stride or dilation in each dim")
    cog, kd = weight.shape[1], weight.shape[2]
    full = (di - 1) * s[0] + dil[0] * (kd - 1) + 1
    depth = full - 2 * p[0] + op_[0]
    if depth < 1:
        raise ValueError(f"{op}: the output's depth {depth} would not be positive")
    # weight (Cin, Cog, kd, kh, kw) -> (Cin, kd Cog, kh, kw): output channels (group, offset, channel).
    folded_w = weight.permute(0, 2, 1, 3, 4).reshape(cin, kd * cog, weight.shape[3], weight.shape[4])
    planes = x.permute(0, 2, 1, 3, 4).reshape(n * di, cin, h, w)
    z = _C._conv_transpose2d(planes, folded_w, None, s[1:], p[1:], op_[1:], groups, dil[1:])
    ho, wo = z.shape[2], z.shape[3]
    z = z.reshape(n, di, groups, kd, cog, ho, wo)
    from ..creation import arange, zeros

    out = zeros((n, full + op_[0], groups * cog, ho, wo), dtype=x.dtype)
    for a in range(kd):
        out = out.index_add(1, arange(di) * s[0] + a * dil[0], z[:, :, :, a].reshape(n, di, groups * cog, ho, wo))
    y = out[:, p[0]:p[0] + depth].permute(0, 2, 1, 3, 4)
    if bias is not None:
        y = y + bias.reshape(-1, 1, 1, 1)
    return y.squeeze(0) if added else y


def _depth_rows(y):
    """y (N, C, D, Ho, Wo) as (N, C Ho Wo, 1, D), rows along depth for a 2-D kernel of
    height 1, and the function that turns such a result (..., 1, Do) back into
    (N, C, Do, Ho, Wo)."""
    n, c, d, ho, wo = y.shape

    def back(t):
        return t.reshape(n, c, ho, wo, t.shape[-1]).permute(0, 1, 4, 2, 3)

    return y.permute(0, 1, 3, 4, 2).reshape(n, c * ho * wo, 1, d), back


def _stage_over_depth(y, kernel, stride, padding, dilation, ceil_mode, kind, divisor=0, count_include_pad=True):
    """Pools y (N, C, D, Ho, Wo) over D: a 2-D pool of (1, kernel) over its depth rows."""
    flat, back = _depth_rows(y)
    if kind == "max":
        out, idx = _C._max_pool2d(flat, (1, kernel), (1, stride), (0, padding), (1, dilation), ceil_mode)
        return back(out), back(idx)
    out = _C._avg_pool2d(flat, (1, kernel), (1, stride), (0, padding), ceil_mode, count_include_pad, divisor)
    return back(out), None


def _planes(x):
    n, c, d, h, w = x.shape
    return x.reshape(n, c * d, h, w)


def _unplane(t, x):
    return t.reshape(x.shape[0], x.shape[1], x.shape[2], t.shape[2], t.shape[3])


def _check_pool_args(k, s, p, dil, op):
    for i in range(3):
        if k[i] < 1 or s[i] < 1 or dil[i] < 1:
            raise ValueError(f"{op}: kernel_size, stride and dilation must be positive, got {k}, {s}, {dil}")
        if p[i] < 0 or p[i] > (dil[i] * (k[i] - 1) + 1) // 2:
            raise ValueError(f"{op}: padding should be at most half of the (dilated) kernel size, got padding {p} "
                             f"for kernel_size {k}")


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    op = "max_pool3d"
    x, added = _batched5(input, op)
    k = _ntuple(kernel_size, 3, "kernel_size", op)
    s = k if stride is None else _ntuple(stride, 3, "stride", op)
    p, dil = _ntuple(padding, 3, "padding", op), _ntuple(dilation, 3, "dilation", op)
    _check_pool_args(k, s, p, dil, op)
    plane, plane_idx = _C._max_pool2d(_planes(x), k[1:], s[1:], p[1:], dil[1:], ceil_mode)
    y, d_idx = _stage_over_depth(_unplane(plane, x), k[0], s[0], p[0], dil[0], ceil_mode, "max")
    return _with_indices(y, d_idx, _unplane(plane_idx, x), x, added, return_indices)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    op = "avg_pool3d"
    x, added = _batched5(input, op)
    k = _ntuple(kernel_size, 3, "kernel_size", op)
    s = k if stride is None else _ntuple(stride, 3, "stride", op)
    p = _ntuple(padding, 3, "padding", op)
    _check_pool_args(k, s, p, (1, 1, 1), op)
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(f"{op}: divisor_override must be positive, got {divisor_override}")
    div = 1 if divisor_override else 0  # sums in both stages, then one division
    plane = _C._avg_pool2d(_planes(x), k[1:], s[1:], p[1:], ceil_mode, count_include_pad, div)
    y, _ = _stage_over_depth(_unplane(plane, x), k[0], s[0], p[0], 1, ceil_mode, "avg", div, count_include_pad)
    if divisor_override:
        y = y / divisor_override
    return y.squeeze(0) if added else y


def adaptive_avg_pool3d(input, output_size):
    op = "adaptive_avg_pool3d"
    x, added = _batched5(input, op)
    size = _adaptive_size(output_size, x, 3, op)
    flat, back = _depth_rows(_unplane(_C._adaptive_avg_pool2d(_planes(x), size[1:]), x))
    y = back(_C._adaptive_avg_pool2d(flat, (1, size[0])))
    return y.squeeze(0) if added else y


def adaptive_max_pool3d(input, output_size, return_indices=False):
    op = "adaptive_max_pool3d"
    x, added = _batched5(input, op)
    size = _adaptive_size(output_size, x, 3, op)
    plane, plane_idx = _C._adaptive_max_pool2d(_planes(x), size[1:])
    flat, back = _depth_rows(_unplane(plane, x))
    out, d_idx = _C._adaptive_max_pool2d(flat, (1, size[0]))
    return _with_indices(back(out), back(d_idx), _unplane(plane_idx, x), x, added, return_indices)


def _with_indices(y, d_idx, hw, x, added, return_indices):
    """y, and with return_indices the flat indices d H W + h W + w of its maxima: the depth
    stage's d and, at that depth, the plane stage's h W + w."""
    if added:
        y = y.squeeze(0)
    if not return_indices:
        return y
    idx = d_idx * (x.shape[3] * x.shape[4]) + hw.gather(2, d_idx)
    return y, (idx.squeeze(0) if added else idx)
