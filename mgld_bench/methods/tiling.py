"""Overlapping tiles over a frame and the weights that blend their outputs back together."""

from __future__ import annotations

import numpy as np


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size ``tile`` covering ``[0, length)`` with at least ``overlap``.

    One tile at 0 when ``tile <= 0`` or ``length <= tile``; otherwise equally strided tiles with
    the last one flush with the end.
    """
    if tile <= 0 or length <= tile:
        return [0]
    stride = max(tile - max(overlap, 0), 1)
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return sorted(set(starts))


def blend_weights(height: int, width: int, ramp: int) -> np.ndarray:
    """(height, width) float32 weights: 1 in the middle, falling linearly to ``1/(ramp+1)`` at
    the borders over ``ramp`` pixels, so overlapping tiles cross-fade without seams."""

    def ramp1d(n: int) -> np.ndarray:
        idx = np.arange(n, dtype=np.float32)
        dist = np.minimum(idx, n - 1 - idx) + 1.0
        return np.minimum(dist / (max(ramp, 0) + 1.0), 1.0)

    return np.outer(ramp1d(height), ramp1d(width)).astype(np.float32)
