"""Spatial tiling: run a model on overlapping tiles and stitch the outputs without seams.

Each tile contributes only its *core*: the overlap between two neighbouring tiles is split at
its middle, so every output pixel comes from exactly one tile, computed with at least half the
overlap of context on each side.  For video models the tiles span the whole sequence (the
recurrence runs inside each tile), so memory scales with the tile, not the frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mgld_bench.errors import BenchError


@dataclass(frozen=True)
class Span:
    """One tile along one axis: input [start, end) of which [core_start, core_end) is kept."""

    start: int
    end: int
    core_start: int
    core_end: int


def spans(length: int, tile: int, overlap: int) -> list[Span]:
    """Tiles covering ``[0, length)``; one span when ``tile`` is 0 or at least ``length``."""
    if tile <= 0 or tile >= length:
        return [Span(0, length, 0, length)]
    if not 0 <= overlap < tile:
        raise BenchError(f"tiling: the overlap ({overlap}) must be at least 0 and smaller than the tile ({tile})")
    stride = tile - overlap
    starts = [*range(0, length - tile, stride), length - tile]
    cuts = [(starts[i + 1] + starts[i] + tile) // 2 for i in range(len(starts) - 1)]
    bounds = [0, *cuts, length]
    return [Span(s, s + tile, bounds[i], bounds[i + 1]) for i, s in enumerate(starts)]


def run_tiled(
    frames: np.ndarray, scale: int, tile: int, overlap: int, fn: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Apply ``fn`` to overlapping tiles of ``frames`` (t, h, w, 3) and stitch the results.

    ``fn`` maps a (t, th, tw, 3) uint8 tile to its (t, th*scale, tw*scale, 3) uint8 output.
    """
    t, h, w, c = frames.shape
    out = np.empty((t, h * scale, w * scale, c), dtype=np.uint8)
    for ys in spans(h, tile, overlap):
        for xs in spans(w, tile, overlap):
            res = fn(np.ascontiguousarray(frames[:, ys.start : ys.end, xs.start : xs.end]))
            expected = (t, (ys.end - ys.start) * scale, (xs.end - xs.start) * scale, c)
            if res.shape != expected:
                raise BenchError(f"tiling: a tile produced {res.shape}, expected {expected}")
            oy, ox = (ys.core_start - ys.start) * scale, (xs.core_start - xs.start) * scale
            hh, ww = (ys.core_end - ys.core_start) * scale, (xs.core_end - xs.core_start) * scale
            out[:, ys.core_start * scale : ys.core_end * scale, xs.core_start * scale : xs.core_end * scale] = res[
                :, oy : oy + hh, ox : ox + ww
            ]
    return out
