"""MATLAB-style bicubic downsampling (``imresize(img, 1/s)``), the standard "BI" degradation.

Own implementation of the algorithm: Keys cubic kernel (a = -0.5) stretched by the scale factor
for antialiasing, sample positions ``(x - 0.5) / scale + 0.5`` (1-based), symmetric edge padding,
and weights normalised to sum 1 along each axis, applied separably (rows, then columns).
"""

from __future__ import annotations

import numpy as np


def _cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    ax2, ax3 = ax**2, ax**3
    return (1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1) + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2))


def _weights(in_len: int, out_len: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(indices, weights), each (out_len, taps): the input samples and weights for every output sample."""
    kernel_width = 4.0
    antialias = scale < 1
    if antialias:
        kernel_width /= scale
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    taps = int(np.ceil(kernel_width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]  # 1-based
    dist = u[:, None] - idx
    w = scale * _cubic(dist * scale) if antialias else _cubic(dist)
    w /= w.sum(axis=1, keepdims=True)
    # symmetric padding: mirror indices outside [1, in_len]
    aux = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    idx0 = aux[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    keep = np.any(w != 0, axis=0)
    return idx0[:, keep], w[:, keep]


def imresize(img: np.ndarray, scale: float) -> np.ndarray:
    """Resize a float H x W x C image by ``scale`` like MATLAB's ``imresize(img, scale, 'bicubic')``.

    Output size is ceil(H * scale) x ceil(W * scale); values are not clipped.
    """
    img = np.asarray(img, dtype=np.float64)
    h, w = img.shape[:2]
    oh, ow = int(np.ceil(h * scale)), int(np.ceil(w * scale))
    ri, rw = _weights(h, oh, scale)
    out = np.einsum("ot,otc...->oc...", rw, img[ri].reshape(oh, ri.shape[1], w, -1))
    ci, cw = _weights(w, ow, scale)
    out = np.einsum("ot,hotc->hoc", cw, out[:, ci])
    return out.reshape(oh, ow, *img.shape[2:]) if img.ndim == 3 else out.reshape(oh, ow)


def bicubic_downsample(frame: np.ndarray, factor: int = 4) -> np.ndarray:
    """MATLAB-bicubic downsampling of a float frame by an integer ``factor``."""
    return imresize(frame, 1.0 / factor).astype(np.float32)
