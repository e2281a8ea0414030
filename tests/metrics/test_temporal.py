"""Warping error, tOF: hand-computed values, an exactly warped synthetic sequence, flicker, occlusions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mgld_bench.datasets.synthetic import SyntheticDataset
from mgld_bench.flow import inside_mask, motion_boundary, occlusion_mask
from mgld_bench.frames import Clip
from mgld_bench.metrics.base import ScoreContext
from mgld_bench.metrics.functional.warping import (
    flow_difference,
    masked_warp_error,
    tecogan_crop_box,
    warp_error_pair,
)
from mgld_bench.metrics.temporal import TOF, WarpingError
from mgld_bench.registry import METRICS
from mgld_bench.store.cache import Cache
from tests.fakes import clip_from_gt

# -- hand-computed values --------------------------------------------------------------------


def test_masked_warp_error_hand_values() -> None:
    a = np.zeros((2, 2, 3), np.float32)
    b = np.zeros((2, 2, 3), np.float32)
    b[0, 0] = [0.1, 0.2, 0.3]  # excluded by the mask below
    b[1, 1] = [0.5, 0.0, 0.0]
    b[1, 0] = [0.1, 0.1, 0.1]
    mask = np.array([[False, True], [True, True]])
    zero = np.zeros((2, 2, 2), np.float32)
    # Lai: sum over kept pixels and channels / (3 * kept pixels)
    lai = (0.25 + 3 * 0.01) / (3 * 3)
    assert masked_warp_error(a, b, zero, mask, "mean") == pytest.approx(lai, rel=1e-6)
    # EvalCrafter: channel sum / kept pixels = 3x Lai
    assert masked_warp_error(a, b, zero, mask, "sum") == pytest.approx(3 * lai, rel=1e-6)
    # no valid pixel: Lai divides by C*H*W, giving 0
    assert masked_warp_error(a, b, zero, np.zeros((2, 2), bool)) == 0.0


def test_warp_error_pair_uses_the_warp_by_hand() -> None:
    # frame t+1 is frame t shifted right by one pixel: flow t->t+1 is +1 px, t+1->t is -1 px
    row = np.array([0, 40, 80, 120, 160, 200], np.uint8)
    f0 = np.repeat(np.repeat(row[None, :, None], 3, 0), 3, 2)
    f1 = np.roll(f0, 1, axis=1)
    fwd = np.zeros((3, 6, 2), np.float32)
    fwd[..., 0] = 1.0
    bwd = -fwd
    err, frac = warp_error_pair(f0, f1, fwd, bwd, exclude_outside=True)
    assert err == pytest.approx(0.0, abs=1e-12)
    assert frac == pytest.approx(5 / 6)  # the last column leaves the frame
    # without excluding it, Lai's clamped sample is f1[:, 5] = 160 against f0[:, 5] = 200
    err_all, _ = warp_error_pair(f0, f1, fwd, bwd, exclude_outside=False)
    assert err_all == pytest.approx(((40 / 255) ** 2) / 6, rel=1e-5)


def test_tof_and_crop_by_hand() -> None:
    a = np.zeros((4, 4, 2))
    b = np.zeros((4, 4, 2))
    b[..., 0], b[..., 1] = 3.0, 4.0
    assert flow_difference(a, b) == pytest.approx(5.0)
    assert tecogan_crop_box(100, 180) == (18, 10, 64, 160)  # multiples of 32, >= 8 px margin
    assert tecogan_crop_box(40, 40) == (0, 0, 40, 40)


# -- a sequence that is an exact warp of its first frame -------------------------------------
def _scene(frames: int = 5, size: int = 48, flicker: float = 0.0, seed: int = 0):
    """Background panning by v = (2, 1) px/frame, a square moving by u = (-3, 2) px/frame.

    Returns float frames in [0, 1], forward/backward true flows, and the pixels of frame t
    covered by the square in frame t+1 (disoccluded in reverse).
    """
    rng = np.random.default_rng(seed)
    canvas = rng.random((size + 4 * frames, size + 4 * frames, 3)).astype(np.float32) * 0.8 + 0.1
    sq = rng.random((10, 10, 3)).astype(np.float32)
    v, u, p0 = np.array([2, 1]), np.array([-3, 2]), np.array([25, 10])
    gains = 1.0 + flicker * np.where(np.arange(frames) % 2 == 0, 1.0, -1.0)
    imgs, masks = [], []
    for t in range(frames):
        ox, oy = v * t
        img = canvas[oy : oy + size, ox : ox + size].copy()
        px, py = p0 + u * t
        img[py : py + 10, px : px + 10] = sq
        m = np.zeros((size, size), bool)
        m[py : py + 10, px : px + 10] = True
        imgs.append(np.clip(img * gains[t], 0, 1))
        masks.append(m)
    fwds, bwds = [], []
    for t in range(frames - 1):
        f = np.zeros((size, size, 2), np.float32)
        f[...] = -v
        f[masks[t]] = u
        b = np.zeros((size, size, 2), np.float32)
        b[...] = v
        b[masks[t + 1]] = -u
        fwds.append(f)
        bwds.append(b)
    covered = [masks[t + 1] & ~masks[t] for t in range(frames - 1)]
    # 'covered' is in frame t+1 coordinates; frame t pixels hidden at t+1 are background pixels x with x - v covered
    hidden = []
    for t in range(frames - 1):
        h = np.zeros((size, size), bool)
        ys, xs = np.nonzero(covered[t])
        keep = (ys + v[1] < size) & (xs + v[0] < size)
        h[ys[keep] + v[1], xs[keep] + v[0]] = True
        hidden.append(h & ~masks[t])
    return imgs, fwds, bwds, hidden


def test_exact_warp_scores_zero_and_disocclusions_are_excluded() -> None:
    imgs, fwds, bwds, hidden = _scene()
    for t in range(len(fwds)):
        err, _ = warp_error_pair(imgs[t], imgs[t + 1], fwds[t], bwds[t], exclude_outside=True)
        assert err == pytest.approx(0.0, abs=1e-10)
        mask = occlusion_mask(fwds[t], bwds[t])
        assert hidden[t].any() and not mask[hidden[t]].any()  # every hidden pixel is excluded
        # ... and they matter: scoring them too gives a clearly positive error
        assert masked_warp_error(imgs[t], imgs[t + 1], fwds[t], inside_mask(fwds[t])) > 1e-3


def test_flicker_raises_warping_error_monotonically() -> None:
    values = []
    for s in (0.0, 0.02, 0.05, 0.1):
        imgs, fwds, bwds, _ = _scene(flicker=s)
        errs = [warp_error_pair(imgs[t], imgs[t + 1], fwds[t], bwds[t], exclude_outside=True)[0]
                for t in range(len(fwds))]
        values.append(float(np.mean(errs)))
    assert values[0] == pytest.approx(0.0, abs=1e-10)
    assert all(b > a for a, b in itertools.pairwise(values)), values


# -- the metric classes on a clip, with flows estimated and cached ---------------------------
def _synthetic_gt(frames: int = 5) -> list[np.ndarray]:
    clip = SyntheticDataset(frames=frames, size=128).load_clip("pan")
    return list(clip.gt)


def _flicker(frames: list[np.ndarray], s: float) -> list[np.ndarray]:
    gains = [1.0 + s * (1 if i % 2 == 0 else -1) for i in range(len(frames))]
    return [np.clip(np.round(f * g), 0, 255).astype(np.uint8) for f, g in zip(frames, gains, strict=True)]


def _score(metric, clip: Clip, srs: list[np.ndarray], cache=None):
    acc = metric.start(ScoreContext(clip=clip, cache=cache))
    for i, sr in enumerate(srs):
        acc.update(i, sr, clip.gt[i])
    return acc.result()


def test_metric_flicker_monotone_and_gt_flows_shared(tmp_path) -> None:
    gt = _synthetic_gt()
    clip = clip_from_gt(gt)
    cache = Cache(tmp_path / "cache")
    metric = WarpingError(flow_backend="dis-medium")
    values = []
    for s in (0.0, 0.03, 0.08):
        sr = _flicker(gt, s)
        res = _score(metric, clip, sr, cache)
        assert res.extras["flow_source"] == "gt"
        assert sorted(res.frames) == [0, 1, 2, 3]
        values.append(res.value)
        n_flows = len(list((cache.root / "flow").rglob("*.npy")))
        assert n_flows == 2 * 4  # forward + backward per GT pair, computed once for all three "methods"
    assert values[0] < 0.5 and values[0] < values[1] < values[2], values


def test_evalcrafter_variant_sums_channels_at_half_size(tmp_path) -> None:
    gt = _flicker(_synthetic_gt(), 0.05)
    clip = clip_from_gt(gt)
    cache = Cache(tmp_path / "cache")
    res = _score(METRICS.create("warping-error-evalcrafter"), clip, gt, cache)
    assert res.extras["flow_source"] == "sr"
    assert not list(cache.root.rglob("*.npy"))  # flows of an output are used once and not kept
    res_lai_half = _score(WarpingError(flow_source="sr"), clip, gt)
    assert res.value > 0 and res_lai_half.value > 0
    with pytest.raises(Exception, match="warp_definition"):
        WarpingError(warp_definition="nope")


def test_tof_zero_for_identical_and_positive_for_jitter() -> None:
    gt = _synthetic_gt()
    clip = clip_from_gt(gt)
    assert _score(TOF(), clip, gt).value == pytest.approx(0.0)
    jitter = [np.roll(f, (i % 2) * 2, axis=1) for i, f in enumerate(gt)]
    assert _score(TOF(), clip, jitter).value > 0.5


def test_exclude_outside_auto_follows_the_definition() -> None:
    gt = _synthetic_gt(4)
    clip = clip_from_gt(gt)
    auto = _score(WarpingError(), clip, gt).value  # lai: pixels leaving the frame are dropped
    kept = _score(WarpingError(exclude_outside="false"), clip, gt).value
    assert _score(WarpingError(exclude_outside="true"), clip, gt).value == auto
    assert kept > auto  # the panning camera moves border pixels out of the frame
    ec = METRICS.create("warping-error-evalcrafter")
    kept_ec = METRICS.create("warping-error-evalcrafter", exclude_outside="false")
    assert _score(ec, clip, gt).value == _score(kept_ec, clip, gt).value
    with pytest.raises(Exception, match="exclude_outside"):
        WarpingError(exclude_outside="maybe")


def _torch_lai_reference(v0, v1, fwd, bwd) -> float:
    """Lai's evaluation written independently with torch grid_sample (clamped bilinear, like Resample2d)."""
    import torch
    import torch.nn.functional as F

    h, w = fwd.shape[:2]

    def warp(img, flow):
        ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                                indexing="ij")
        gx = (xs + flow[..., 0]) / (w - 1) * 2 - 1
        gy = (ys + flow[..., 1]) / (h - 1) * 2 - 1
        grid = torch.stack([gx, gy], -1)[None]
        out = F.grid_sample(img.permute(2, 0, 1)[None], grid, align_corners=True, padding_mode="border")
        return out[0].permute(1, 2, 0)

    f = torch.from_numpy(fwd).double()
    b = torch.from_numpy(bwd).double()
    bw = warp(b, f)
    fb = ((f + bw) ** 2).sum(-1) > 0.01 * ((f**2).sum(-1) + (bw**2).sum(-1)) + 0.5
    gx = torch.zeros(h, w, dtype=torch.float64)
    gy = torch.zeros(h, w, dtype=torch.float64)
    gx[:, :-1] = ((f[:, :-1] - f[:, 1:]) ** 2).sum(-1)
    gy[:-1, :] = ((f[:-1, :] - f[1:, :]) ** 2).sum(-1)
    mb = gx + gy > 0.01 * (f**2).sum(-1) + 0.002
    keep = (~(fb | mb)).double()[..., None].expand(h, w, 3)
    a = torch.from_numpy(v0).double() / 255
    c = torch.from_numpy(v1).double() / 255
    err = ((warp(c, f) - a) ** 2 * keep).sum() / keep.sum()
    return float(err)


def test_lai_matches_an_independent_torch_implementation() -> None:
    import cv2

    rng = np.random.default_rng(7)
    v0, v1 = (rng.integers(0, 256, (40, 56, 3), dtype=np.uint8) for _ in range(2))
    smooth = [cv2.GaussianBlur(rng.normal(0, 1, (40, 56, 2)).astype(np.float32), (0, 0), 6) * 12 for _ in range(2)]
    fwd = smooth[0] + np.array([2.5, -1.5], np.float32)
    fwd[:, 30:, 0] += 1.5  # a motion discontinuity
    bwd = -fwd + smooth[1] * 1.2  # partly consistent: some pixels fail the forward-backward check
    ours, frac = warp_error_pair(v0, v1, fwd, bwd, exclude_outside=False)
    assert 0.2 < frac < 0.98 and motion_boundary(fwd).any()  # both occlusion rules are exercised
    assert ours == pytest.approx(_torch_lai_reference(v0, v1, fwd, bwd), rel=1e-5)


# -- the synthetic dataset with its true flow -------------------------------------------------
def test_synthetic_gt_with_true_flow_scores_near_zero_away_from_occlusions() -> None:
    ds = SyntheticDataset(frames=3, size=128)
    for name in ds.clip_names():
        clip = ds.load_clip(name)
        for t in range(2):
            flow, occ = clip.extras["true_flow"](t), clip.extras["occluded"](t)
            away = masked_warp_error(clip.gt[t], clip.gt[t + 1], flow, ~occ) * 1e3
            everywhere = masked_warp_error(clip.gt[t], clip.gt[t + 1], flow, np.ones_like(occ)) * 1e3
            assert away < 0.3, (name, t, away)  # only bilinear interpolation error of the texture remains
            assert everywhere > 2 * away


def test_disoccluded_pixels_of_the_synthetic_clips_are_excluded() -> None:
    from mgld_bench.flow import estimate_flow

    ds = SyntheticDataset(frames=2, size=128)
    for name in ds.clip_names():
        clip = ds.load_clip(name)
        true_fwd, occ = clip.extras["true_flow"](0), clip.extras["occluded"](0)
        bwd = estimate_flow(clip.gt[1], clip.gt[0], "dis-medium")
        keep = occlusion_mask(true_fwd, bwd, exclude_outside=True)
        assert not keep[occ].any()  # every pixel hidden in frame 1 is excluded
        assert keep[~occ].mean() > 0.8  # ... and most visible pixels are kept
        fwd = estimate_flow(clip.gt[0], clip.gt[1], "dis-medium")
        assert (~occlusion_mask(fwd, bwd, exclude_outside=True))[occ].mean() > 0.75  # estimated flows too
