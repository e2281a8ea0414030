"""MAWE (StreamingT2V) against a pixel-loop reference and hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mgld_bench.metrics.functional import mawe


def loop_reference(frame_t: np.ndarray, frame_t1: np.ndarray, flow: np.ndarray, coeff: float = 9.5):
    """Straight transcription of the published definition, one pixel at a time."""
    h, w = flow.shape[:2]
    splat = np.zeros((h, w, 3))
    known = np.zeros((h, w), dtype=bool)
    for y in range(h):  # row-major: a later source overwrites an earlier one
        for x in range(w):
            tx = int(np.round(np.float32(x) + np.float32(flow[y, x, 0])))
            ty = int(np.round(np.float32(y) + np.float32(flow[y, x, 1])))
            if 0 <= tx < w and 0 <= ty < h:
                splat[ty, tx] = frame_t[y, x]
                known[ty, tx] = True
    total, count = 0.0, 0
    for y in range(h):
        for x in range(w):
            if known[y, x]:
                total += float(np.sum((frame_t1[y, x].astype(float) - splat[y, x]) ** 2))
                count += 3
    err = total / (count if count else h * w * 3)
    motion = float(np.mean([math.hypot(float(flow[y, x, 0]), float(flow[y, x, 1]))
                            for y in range(h) for x in range(w)]))
    return err / (coeff * motion), err, motion


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pair_equals_the_pixel_loop_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    flow = (rng.normal(0, 2.5, (9, 11, 2))).astype(np.float32)
    flow[0, 0] = (0.5, 1.5)  # ties round half to even; several sources collide on some targets
    flow[2, 3] = (-4.0, 9.0)  # lands outside
    got = mawe.mawe_pair(a, b, flow)
    ref = loop_reference(a, b, flow)
    assert got == pytest.approx(ref, rel=1e-12)


def test_hand_computed_case() -> None:
    # 1x3 gray frames; flow moves pixel 0 -> 1 and pixel 1 -> 1 (collision: pixel 1 wins), pixel 2 out.
    a = np.array([[[10] * 3, [20] * 3, [30] * 3]], dtype=np.uint8)
    b = np.array([[[0] * 3, [26] * 3, [0] * 3]], dtype=np.uint8)
    flow = np.array([[[1.0, 0.0], [0.0, 0.0], [3.0, 0.0]]], dtype=np.float32)
    splat, known = mawe.forward_splat(a.astype(float), flow)
    assert known.tolist() == [[False, True, False]]
    assert splat[0, 1, 0] == 20
    value, err, motion = mawe.mawe_pair(a, b, flow)
    assert err == pytest.approx(36.0)  # (26 - 20)^2, over the one known pixel
    assert motion == pytest.approx(4.0 / 3.0)
    assert value == pytest.approx(36.0 / (9.5 * 4.0 / 3.0))


def test_an_exact_integer_translation_scores_zero() -> None:
    rng = np.random.default_rng(3)
    big = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    a, b = big[5:29, 5:29], big[3:27, 2:26]  # b(x + (3, 2)) = a(x)
    flow = np.zeros((24, 24, 2), np.float32)
    flow[..., 0], flow[..., 1] = 3.0, 2.0
    value, err, motion = mawe.mawe_pair(a, b, flow)
    assert err == 0.0 and value == 0.0 and motion == pytest.approx(math.hypot(3, 2))


def test_no_motion_gives_inf_unless_identical() -> None:
    a = np.zeros((4, 4, 3), np.uint8)
    flow = np.zeros((4, 4, 2), np.float32)
    assert mawe.mawe_pair(a, a, flow)[0] == 0.0
    assert mawe.mawe_pair(a, a + 1, flow)[0] == math.inf


def test_resize_is_torchvision_bilinear_without_antialias() -> None:
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(4)
    f = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)
    got = mawe.resize_square(f, 16)
    t = torch.from_numpy(f).permute(2, 0, 1)[None].float()
    ref = F.interpolate(t, size=(16, 16), mode="bilinear", align_corners=False).round().clamp(0, 255)
    assert np.array_equal(got, ref[0].permute(1, 2, 0).numpy().astype(np.uint8))


def test_metric_runs_the_clip_with_a_weightless_flow_and_needs_raft_by_default() -> None:
    from mgld_bench.flow import estimate_flow
    from mgld_bench.metrics.base import ScoreContext
    from mgld_bench.metrics.temporal import MAWE
    from tests.fakes import clip_of

    ok, why = MAWE().availability()
    assert not ok and "raft_large" in why
    rng = np.random.default_rng(5)
    big = rng.integers(0, 256, (60, 70, 3), dtype=np.uint8)
    frames = np.stack([big[t:t + 40, 2 * t:2 * t + 48] for t in range(3)])
    clip = clip_of(list(frames))
    m = MAWE(flow_backend="dis-medium", size=32)
    acc = m.start(ScoreContext(clip))
    for i in range(3):
        acc.update(i, frames[i], None)
    res = acc.result()
    small = [mawe.resize_square(f, 32) for f in frames]
    ref = [loop_reference(small[t], small[t + 1], estimate_flow(small[t], small[t + 1], "dis-medium"))[0]
           for t in range(2)]
    assert sorted(res.frames) == [0, 1]
    assert res.value == pytest.approx(float(np.mean(ref)), rel=1e-9)
