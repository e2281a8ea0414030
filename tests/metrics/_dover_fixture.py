"""Deterministic frames and weights for the official-DOVER fixture (numpy PCG64 only).

Shared by ``tests/reference/dover/regenerate.py`` (which feeds them to the official code) and
``tests/metrics/test_dover.py`` (which feeds them to the port).
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

SEED = 20261128


def reference_weights(state_dict: dict[str, Any]) -> dict[str, np.ndarray]:
    """A value for every floating tensor, each from its own PCG64 stream (seed + crc32 of its name).

    Matrices/kernels: N(0, 1/fan_in); 1-D ``*weight`` (norms): 1 + 0.1 N(0, 1); other 1-D tensors
    (biases, layer scales): 0.1 N(0, 1).  Integer buffers (relative position indices) are left out.
    """
    out: dict[str, np.ndarray] = {}
    for key in sorted(state_dict):
        value = state_dict[key]
        if not str(value.dtype).startswith(("torch.float", "float")):
            continue
        shape = tuple(value.shape)
        rng = np.random.default_rng([SEED, zlib.crc32(key.encode())])
        if len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            w = rng.standard_normal(shape) / np.sqrt(fan_in)
        elif key.endswith("weight"):
            w = 1.0 + 0.1 * rng.standard_normal(shape)
        else:
            w = 0.1 * rng.standard_normal(shape)
        out[key] = w.astype(np.float32)
    return out


def reference_frames(n: int, h: int, w: int, seed: int) -> list[np.ndarray]:
    """``n`` uint8 RGB frames: a textured pattern drifting by (1, 2) px per frame, plus mild noise."""
    rng = np.random.default_rng([SEED, seed])
    base = rng.random((h + 2 * n + 8, w + 4 * n + 8, 3))
    k = np.ones(5) / 5  # soften the texture a little so resizing and fragments see structure
    base = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), 0, base)
    yy, xx = np.mgrid[0:base.shape[0], 0:base.shape[1]]
    base = 0.6 * base + 0.4 * (0.5 + 0.5 * np.sin(xx[..., None] / 9.0 + yy[..., None] / 13.0 + np.arange(3)))
    frames = []
    for t in range(n):
        f = base[t:t + h, 2 * t:2 * t + w] + 0.02 * rng.standard_normal((h, w, 3))
        frames.append(np.clip(np.round(f * 255.0), 0, 255).astype(np.uint8))
    return frames


#: The fixture's cases: frame count, size, frame seed, sampling options (``DoverSampling`` fields).
SMALL = {"grid": 3, "fragment": 32, "clip_len": 4, "clips": 2, "frame_interval": 2,
         "aesthetic_size": 96, "aesthetic_frames": 4, "aesthetic_clip_len": 4}
CASES: dict[str, dict[str, Any]] = {
    # small mosaic: random temporal and patch offsets, stage windows clipped below 7
    "small": {"frames": (20, 120, 150, 1), "sampling": SMALL},
    # frames smaller than the mosaic: the upsampling path
    "upsample": {"frames": (9, 72, 80, 2), "sampling": SMALL},
    # the official inference options (7x7 fragments, 3 x 32 frames, 224 px aesthetic view)
    "official": {"frames": (12, 240, 320, 3), "sampling": {}},
}
