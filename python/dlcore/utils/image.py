"""Writing images without extra dependencies: ``save_png(path, image)`` for a grayscale
(H, W) or RGB (H, W, 3) array or tensor with values in [0, 1] (floats) or 0..255 (uint8),
and ``grid`` to tile a batch of images into one."""
import struct
import zlib

import numpy as np


def _as_uint8(image):
    a = image.detach().numpy() if hasattr(image, "detach") else np.asarray(image)
    if a.dtype != np.uint8:
        a = np.clip(np.nan_to_num(a.astype(np.float64)), 0.0, 1.0)
        a = (a * 255.0 + 0.5).astype(np.uint8)
    if a.ndim == 3 and a.shape[0] in (1, 3) and a.shape[2] not in (1, 3):  # (C, H, W) -> (H, W, C)
        a = a.transpose(1, 2, 0)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] != 3):
        raise ValueError(f"save_png: expected an (H, W), (H, W, 3) or (C, H, W) image, got shape {a.shape}")
    return np.ascontiguousarray(a)


def save_png(path, image):
    """Writes an 8-bit grayscale or RGB PNG."""
    a = _as_uint8(image)
    h, w = a.shape[:2]
    color = 0 if a.ndim == 2 else 2
    raw = b"".join(b"\x00" + a[r].tobytes() for r in range(h))  # filter type 0 per row

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def grid(images, cols=8, pad=1, value=1.0):
    """Tiles (N, H, W) or (N, 1, H, W) images into one (rows (H + pad), cols (W + pad)) array."""
    a = images.detach().numpy() if hasattr(images, "detach") else np.asarray(images)
    if a.ndim == 4:
        a = a[:, 0]
    n, h, w = a.shape
    rows = -(-n // cols)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), value, dtype=a.dtype)
    for i in range(n):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):pad + c * (w + pad) + w] = a[i]
    return out
