"""Flows are cached as float16: the rounding is bounded, halves the bytes, and moves warping error
far less than its comparison tolerance (1 % relative, ``report/tolerances.py``)."""

from __future__ import annotations

import numpy as np

from mgld_bench.datasets.synthetic import SyntheticDataset
from mgld_bench.flow.backends import estimate_flow
from mgld_bench.flow.cached import cached_flow
from mgld_bench.frames import Clip
from mgld_bench.metrics.base import ScoreContext
from mgld_bench.metrics.functional.warping import warp_error_pair
from mgld_bench.metrics.temporal import WarpingError
from mgld_bench.store.cache import Cache
from tests.fakes import clip_from_gt

#: warping error's comparison tolerance (relative): the precision loss must stay well inside it.
WARP_REL_TOLERANCE = 0.01


def _clip(frames: int = 6, size: int = 192) -> tuple[Clip, list[np.ndarray]]:
    clip = SyntheticDataset(frames=frames, size=size).load_clip("pan-fast")
    gt = list(clip.gt)
    rng = np.random.default_rng(0)
    # an "output": GT with frame-varying noise, so the warping error is well above zero
    sr = [np.clip(f + rng.normal(0, 6, f.shape), 0, 255).astype(np.uint8) for f in gt]
    return clip_from_gt(gt), sr


def test_cached_flow_is_float16_rounding_and_half_the_bytes(tmp_path) -> None:
    clip, _ = _clip(frames=2)
    a, b = clip.gt[0], clip.gt[1]
    exact = estimate_flow(a, b, "dis-medium")
    cache = Cache(tmp_path / "cache")
    first = cached_flow(cache, a, b, "dis-medium")
    again = cached_flow(cache, a, b, "dis-medium")  # read back from the cache
    assert first.dtype == np.float32 and np.array_equal(first, again)  # fresh == cached
    # float16 keeps 11 significant bits: error <= half an ulp = 2^-11 of the magnitude (+ subnormals)
    bound = np.maximum(np.abs(exact) * 2.0**-11, 2.0**-25)
    assert np.all(np.abs(first - exact) <= bound)
    stored = sorted((tmp_path / "cache" / "flow").rglob("*.npy"))
    assert len(stored) == 1
    assert stored[0].stat().st_size <= exact.nbytes // 2 + 256


def test_warping_error_with_float16_flows_is_within_tolerance(tmp_path) -> None:
    clip, sr = _clip()
    metric = WarpingError(flow_backend="dis-medium", flow_source="gt")
    # independent reference: the same definition with float32 flows computed directly
    ref_values = []
    for t in range(len(sr) - 1):
        fwd = estimate_flow(clip.gt[t], clip.gt[t + 1], "dis-medium")
        bwd = estimate_flow(clip.gt[t + 1], clip.gt[t], "dis-medium")
        ref_values.append(warp_error_pair(sr[t], sr[t + 1], fwd, bwd, "mean", exclude_outside=True)[0] * 1e3)
    reference = float(np.mean(ref_values))

    acc = metric.start(ScoreContext(clip=clip, cache=Cache(tmp_path / "cache")))
    for i, frame in enumerate(sr):
        acc.update(i, frame, clip.gt[i])
    value = acc.result().value
    assert reference > 0.1
    rel = abs(value - reference) / reference
    assert rel < WARP_REL_TOLERANCE / 10, (value, reference, rel)
