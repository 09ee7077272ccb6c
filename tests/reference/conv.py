"""Plain NumPy references for convolution and padding: a sum over kernel offsets of
strided windows of the zero-padded input, per group (float64)."""
import numpy as np


def conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    y = np.zeros((n, o, ho, wo))
    for g in range(groups):
        xs = xp[:, g * cg:(g + 1) * cg]
        ws = w[g * og:(g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                win = xs[:, :, i * dh: i * dh + sh * (ho - 1) + 1: sh, j * dw: j * dw + sw * (wo - 1) + 1: sw]
                y[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", win, ws[:, :, i, j])
    if b is not None:
        y += b[None, :, None, None]
    return y


def conv2d_grads(x, w, gy, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
    """(dx, dw) of sum(conv2d(x, w) * gy): each kernel offset's window of the padded input
    receives w^T gy (dx) and contributes gy x_window (dw)."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw_) = stride, padding, dilation
    ho, wo = gy.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    og = o // groups
    for g in range(groups):
        cs, os_ = slice(g * cg, (g + 1) * cg), slice(g * og, (g + 1) * og)
        for i in range(kh):
            for j in range(kw):
                rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
                cols = slice(j * dw_, j * dw_ + sw * (wo - 1) + 1, sw)
                dxp[:, cs, rows, cols] += np.einsum("nohw,oc->nchw", gy[:, os_], w[os_, :, i, j])
                dw[os_, :, i, j] = np.einsum("nohw,nchw->oc", gy[:, os_], xp[:, cs, rows, cols])
    return dxp[:, :, ph:ph + h, pw:pw + wd], dw


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return conv2d(x[:, :, None], w[:, :, None], b, (1, stride), (0, padding), (1, dilation), groups)[:, :, 0]


NUMPY_PAD_MODE = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(x, pads, mode="constant", value=0.0):
    """pads = (left, right, top, bottom, ...) from the last dim, non-negative."""
    widths = [(0, 0)] * x.ndim
    for k in range(len(pads) // 2):
        widths[x.ndim - 1 - k] = (pads[2 * k], pads[2 * k + 1])
    if mode == "constant":
        return np.pad(x, widths, constant_values=value)
    return np.pad(x, widths, mode=NUMPY_PAD_MODE[mode])


def _pool_out(n, k, s, p, d, ceil):
    span = n + 2 * p - d * (k - 1) - 1
    o = (span + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def max_pool2d(x, k, s, p=(0, 0), d=(1, 1), ceil=False):
    """Values and flat indices h W + w of the maxima, plain loops (first maximum on ties)."""
    n, c, h, w = x.shape
    ho, wo = _pool_out(h, k[0], s[0], p[0], d[0], ceil), _pool_out(w, k[1], s[1], p[1], d[1], ceil)
    y, idx = np.zeros((n, c, ho, wo)), np.zeros((n, c, ho, wo), dtype=np.int64)
    for a in range(n):
        for b in range(c):
            for i in range(ho):
                for j in range(wo):
                    best, at = -np.inf, -1
                    for u in range(k[0]):
                        for v in range(k[1]):
                            r, q = i * s[0] - p[0] + u * d[0], j * s[1] - p[1] + v * d[1]
                            if 0 <= r < h and 0 <= q < w and (at < 0 or x[a, b, r, q] > best):
                                best, at = x[a, b, r, q], r * w + q
                    y[a, b, i, j], idx[a, b, i, j] = best, at
    return y, idx


def avg_pool2d(x, k, s, p=(0, 0), ceil=False, count_include_pad=True, divisor_override=None):
    n, c, h, w = x.shape
    ho, wo = _pool_out(h, k[0], s[0], p[0], 1, ceil), _pool_out(w, k[1], s[1], p[1], 1, ceil)
    y = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
            h1, w1 = min(h0 + k[0], h + p[0]), min(w0 + k[1], w + p[1])
            padded_size = (h1 - h0) * (w1 - w0)
            r0, r1, q0, q1 = max(h0, 0), min(h1, h), max(w0, 0), min(w1, w)
            total = x[:, :, r0:r1, q0:q1].sum((2, 3))
            div = divisor_override or (padded_size if count_include_pad else (r1 - r0) * (q1 - q0))
            y[:, :, i, j] = total / div
    return y


def adaptive_windows(n, out):
    return [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]


def adaptive_pool2d(x, size, reduce):
    n, c, h, w = x.shape
    y = np.zeros((n, c) + tuple(size))
    for i, (h0, h1) in enumerate(adaptive_windows(h, size[0])):
        for j, (w0, w1) in enumerate(adaptive_windows(w, size[1])):
            y[:, :, i, j] = reduce(x[:, :, h0:h1, w0:w1], axis=(2, 3))
    return y


def conv_transpose2d(x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), groups=1, dilation=(1, 1)):
    """Scatters each input value times the kernel into the output, then crops the padding."""
    n, cin, h, wd = x.shape
    _, cog, kh, kw = w.shape
    (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, output_padding, dilation
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (wd - 1) * sw + dw * (kw - 1) + 1 + opw
    y = np.zeros((n, cog * groups, full_h, full_w))
    cig = cin // groups
    for g in range(groups):
        for c in range(g * cig, (g + 1) * cig):
            for u in range(kh):
                for v in range(kw):
                    for i in range(h):
                        for j in range(wd):
                            y[:, g * cog:(g + 1) * cog, i * sh + u * dh, j * sw + v * dw] += \
                                x[:, c, i, j][:, None] * w[c, :, u, v][None]
    y = y[:, :, ph:full_h - ph, pw:full_w - pw]
    if b is not None:
        y = y + b[None, :, None, None]
    return y


def source_point(i, n_in, n_out, align_corners, clamp):
    """Where output point i samples the input: the corners aligned, or the pixel centres
    (clamped at 0 for the linear modes, not for the cubic one)."""
    if align_corners:
        return i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    src = (i + 0.5) * n_in / n_out - 0.5
    return max(src, 0.0) if clamp else src


def interpolate_linear_1d(x, axis, n_out, align_corners):
    """PyTorch's linear resampling along one axis (no scale_factor)."""
    n_in = x.shape[axis]
    out = []
    for i in range(n_out):
        src = source_point(i, n_in, n_out, align_corners, clamp=True)
        lo = min(int(np.floor(src)), n_in - 1)
        hi = min(lo + 1, n_in - 1)
        f = src - lo
        out.append(np.take(x, lo, axis) * (1 - f) + np.take(x, hi, axis) * f)
    return np.stack(out, axis)


def interpolate_cubic_1d(x, axis, n_out, align_corners, a=-0.75):
    """PyTorch's bicubic resampling along one axis (no scale_factor): Keys' cubic
    convolution kernel with parameter a over taps floor(src) - 1 .. floor(src) + 2, the
    taps clamped to the input (no clamping of src itself)."""
    def kernel(d):
        d = abs(d)
        if d <= 1:
            return (a + 2) * d**3 - (a + 3) * d**2 + 1
        if d < 2:
            return a * d**3 - 5 * a * d**2 + 8 * a * d - 4 * a
        return 0.0

    n_in = x.shape[axis]
    out = []
    for i in range(n_out):
        src = source_point(i, n_in, n_out, align_corners, clamp=False)
        base = int(np.floor(src))
        acc = 0.0
        for k in range(base - 1, base + 3):
            acc = acc + np.take(x, min(max(k, 0), n_in - 1), axis) * kernel(src - k)
        out.append(acc)
    return np.stack(out, axis)


def window_view(x, size, mode):
    r = size // 2
    xp = np.pad(x, ((0, 0), (0, 0), (r, r), (r, r)), mode=NUMPY_PAD_MODE[mode])
    return np.lib.stride_tricks.sliding_window_view(xp, (size, size), axis=(2, 3))


def conv3d(x, w, b=None, stride=(1, 1, 1), padding=(0, 0, 0), dilation=(1, 1, 1), groups=1):
    """A sum over the kernel's offsets of strided windows of the zero-padded input, per group."""
    n, c, d, h, wd = x.shape
    o, cg, kd, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in padding))
    out = [(size + 2 * p - dl * (k - 1) - 1) // s + 1
           for size, k, s, p, dl in zip((d, h, wd), (kd, kh, kw), stride, padding, dilation)]
    og = o // groups
    y = np.zeros((n, o) + tuple(out))
    for g in range(groups):
        xs, ws = xp[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og]
        for a in range(kd):
            for i in range(kh):
                for j in range(kw):
                    win = xs[:, :,
                             a * dilation[0]: a * dilation[0] + stride[0] * (out[0] - 1) + 1: stride[0],
                             i * dilation[1]: i * dilation[1] + stride[1] * (out[1] - 1) + 1: stride[1],
                             j * dilation[2]: j * dilation[2] + stride[2] * (out[2] - 1) + 1: stride[2]]
                    y[:, g * og:(g + 1) * og] += np.einsum("ncdhw,oc->nodhw", win, ws[:, :, a, i, j])
    if b is not None:
        y += b[None, :, None, None, None]
    return y


def max_pool3d(x, k, s, p=(0, 0, 0), d=(1, 1, 1), ceil=False):
    """Values and flat indices (z H + y) W + x of the maxima over whole 3-D windows, plain
    loops (the first maximum in (depth, row, column) order on ties)."""
    n, c = x.shape[:2]
    size = x.shape[2:]
    out = [_pool_out(size[i], k[i], s[i], p[i], d[i], ceil) for i in range(3)]
    y = np.zeros((n, c) + tuple(out))
    idx = np.zeros((n, c) + tuple(out), dtype=np.int64)
    for pos in np.ndindex(*out):
        best = np.full((n, c), -np.inf)
        at = np.full((n, c), -1)
        for off in np.ndindex(*k):
            q = [pos[i] * s[i] - p[i] + off[i] * d[i] for i in range(3)]
            if all(0 <= q[i] < size[i] for i in range(3)):
                v = x[:, :, q[0], q[1], q[2]]
                take = (at < 0) | (v > best)
                best = np.where(take, v, best)
                at = np.where(take, (q[0] * size[1] + q[1]) * size[2] + q[2], at)
        y[(slice(None), slice(None)) + pos] = best
        idx[(slice(None), slice(None)) + pos] = at
    return y, idx


def avg_pool3d(x, k, s, p=(0, 0, 0), ceil=False, count_include_pad=True, divisor_override=None):
    size = x.shape[2:]
    out = [_pool_out(size[i], k[i], s[i], p[i], 1, ceil) for i in range(3)]
    y = np.zeros(x.shape[:2] + tuple(out))
    for pos in np.ndindex(*out):
        lo = [pos[i] * s[i] - p[i] for i in range(3)]
        hi = [min(lo[i] + k[i], size[i] + p[i]) for i in range(3)]
        padded = np.prod([hi[i] - lo[i] for i in range(3)])
        a = [max(lo[i], 0) for i in range(3)]
        b = [min(hi[i], size[i]) for i in range(3)]
        total = x[:, :, a[0]:b[0], a[1]:b[1], a[2]:b[2]].sum((2, 3, 4))
        div = divisor_override or (padded if count_include_pad else np.prod([b[i] - a[i] for i in range(3)]))
        y[(slice(None), slice(None)) + pos] = total / div
    return y


def adaptive_pool3d(x, size, reduce):
    y = np.zeros(x.shape[:2] + tuple(size))
    wins = [adaptive_windows(x.shape[2 + i], size[i]) for i in range(3)]
    for pos in np.ndindex(*size):
        (a0, a1), (b0, b1), (c0, c1) = (wins[i][pos[i]] for i in range(3))
        y[(slice(None), slice(None)) + pos] = reduce(x[:, :, a0:a1, b0:b1, c0:c1], axis=(2, 3, 4))
    return y


def conv_transpose3d(x, w, b=None, stride=(1, 1, 1), padding=(0, 0, 0), output_padding=(0, 0, 0), groups=1,
                     dilation=(1, 1, 1)):
    """Scatters each input value times the kernel into the output (per group), then crops
    the padding; output_padding adds zeros past the last input's reach."""
    n, cin = x.shape[:2]
    size = x.shape[2:]
    cog = w.shape[1]
    k = w.shape[2:]
    full = [(size[i] - 1) * stride[i] + dilation[i] * (k[i] - 1) + 1 + output_padding[i] for i in range(3)]
    y = np.zeros((n, cog * groups) + tuple(full))
    cig = cin // groups
    for pos in np.ndindex(*size):
        for off in np.ndindex(*k):
            q = tuple(pos[i] * stride[i] + off[i] * dilation[i] for i in range(3))
            for g in range(groups):
                contrib = np.einsum("nc,co->no", x[(slice(None), slice(g * cig, (g + 1) * cig)) + pos],
                                    w[(slice(g * cig, (g + 1) * cig), slice(None)) + off])
                y[(slice(None), slice(g * cog, (g + 1) * cog)) + q] += contrib
    out = [full[i] - 2 * padding[i] for i in range(3)]
    y = y[:, :, padding[0]:padding[0] + out[0], padding[1]:padding[1] + out[1], padding[2]:padding[2] + out[2]]
    if b is not None:
        y = y + b[None, :, None, None, None]
    return y
