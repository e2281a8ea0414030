"""The embedded synthetic dataset: determinism, sizes, and a true flow that really is the motion."""

from __future__ import annotations

import numpy as np
import pytest

from mgld_bench.datasets.synthetic import SyntheticDataset


def _warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Independent bilinear backward warp with scipy: out(x) = image(x + flow(x))."""
    from scipy.ndimage import map_coordinates

    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    coords = [ys + flow[..., 1], xs + flow[..., 0]]
    return np.stack(
        [map_coordinates(image[..., c].astype(np.float64), coords, order=1, mode="nearest") for c in range(3)], -1
    )


def test_clips_sizes_and_determinism() -> None:
    ds = SyntheticDataset()
    assert ds.clip_names() == ["pan", "zoom", "pan-fast"]
    clip = ds.clip("pan")
    assert len(clip.lr) == len(clip.gt) == 12
    assert clip.gt[0].shape == (256, 256, 3) and clip.lr[0].shape == (64, 64, 3)
    again = SyntheticDataset().clip("pan")
    assert np.array_equal(clip.lr[3], again.lr[3]) and clip.lr.digest() == again.lr.digest()
    other_seed = SyntheticDataset(seed=1).clip("pan")
    assert not np.array_equal(clip.lr[3], other_seed.lr[3])
    assert clip.lr.digest() != other_seed.lr.digest()


@pytest.mark.parametrize("name", ["pan", "zoom", "pan-fast"])
def test_true_flow_maps_each_frame_onto_the_next(name: str) -> None:
    clip = SyntheticDataset().clip(name)
    for t in (0, 5):
        flow = clip.extras["true_flow"](t)
        occluded = clip.extras["occluded"](t)
        warped = _warp(clip.gt[t + 1], flow)
        err = np.abs(warped - clip.gt[t].astype(np.float64)).mean(-1)
        # away from occlusions and the disc's rim (where bilinear sampling mixes both sides)
        rim = np.zeros_like(occluded)
        rim[2:-2, 2:-2] = True
        valid = ~occluded & rim
        assert np.median(err[valid]) < 2.0
        # a wrong flow (zero motion) is much worse
        still = np.abs(clip.gt[t + 1].astype(np.float64) - clip.gt[t]).mean(-1)
        assert np.median(still[valid]) > 4 * np.median(err[valid])
        assert 0 < occluded.mean() < 0.2


def test_gt_and_lr_differ_by_a_degradation() -> None:
    clip = SyntheticDataset().clip("zoom")
    import cv2

    down = cv2.resize(clip.gt[0], (64, 64), interpolation=cv2.INTER_AREA).astype(np.float64)
    diff = np.abs(down - clip.lr[0]).mean()
    assert 0.5 < diff < 20  # blurred, noisy, JPEG-compressed, but the same picture
