"""Spatial tiling: spans partition the frame; stitching is seamless for local operators."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.tiling import run_tiled, spans
from mgld_bench.errors import BenchError


@pytest.mark.parametrize("length,tile,overlap", [(100, 32, 8), (64, 64, 16), (65, 64, 0), (200, 70, 30), (10, 0, 0)])
def test_spans_cover_each_pixel_once(length: int, tile: int, overlap: int) -> None:
    ss = spans(length, tile, overlap)
    covered = np.zeros(length, dtype=int)
    for s in ss:
        assert 0 <= s.start <= s.core_start < s.core_end <= s.end <= length
        if tile and tile < length:
            assert s.end - s.start == tile
        covered[s.core_start : s.core_end] += 1
    assert (covered == 1).all()


def test_bad_overlap_is_refused() -> None:
    with pytest.raises(BenchError, match="overlap"):
        spans(100, 32, 32)


def test_stitching_a_local_operator_is_exact() -> None:
    """3x3 box filter then nearest x2: tiles with overlap >= 2*radius reproduce the whole frame."""
    from scipy.ndimage import uniform_filter

    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (2, 50, 70, 3), dtype=np.uint8)

    def op(x: np.ndarray) -> np.ndarray:
        blurred = uniform_filter(x.astype(np.float64), size=(1, 3, 3, 1), mode="nearest")
        return np.round(blurred).astype(np.uint8).repeat(2, axis=1).repeat(2, axis=2)

    out = run_tiled(frames, 2, tile=24, overlap=6, fn=op)
    whole = op(frames)
    assert out.shape == whole.shape == (2, 100, 140, 3)
    # inside the frame, every output pixel is at least 3 LR pixels from its tile's border
    np.testing.assert_array_equal(out, whole)
