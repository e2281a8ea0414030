"""PSNR/SSIM against scikit-image on the TID2013 pairs pyiqa ships and on random frames."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from mgld_bench.frames import read_image
from mgld_bench.metrics.functional.color import rgb_to_y
from mgld_bench.metrics.functional.psnr_ssim import psnr, ssim

TOL = 1e-4


def _calibration_pairs() -> list[tuple[str, Path, Path]]:
    import importlib.util

    spec = importlib.util.find_spec("pyiqa")
    assert spec is not None and spec.origin is not None
    root = Path(spec.origin).parent.parent / "ResultsCalibra"
    pairs = [(p.stem, p, root / "dist_dir" / p.name) for p in sorted((root / "ref_dir").glob("*.bmp"))]
    assert len(pairs) == 5, f"pyiqa's ResultsCalibra pairs not found under {root}"
    return pairs


PAIRS = _calibration_pairs()


def _sk_ssim(a: np.ndarray, b: np.ndarray, channel_axis: int | None = None) -> float:
    return structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255, channel_axis=channel_axis
    )


def _y_skimage(frame: np.ndarray) -> np.ndarray:
    # independent BT.601 computation (not our helper): 16 + (65.481 R + 128.553 G + 24.966 B) / 255
    f = frame.astype(np.float64)
    return 16.0 + (65.481 * f[..., 0] + 128.553 * f[..., 1] + 24.966 * f[..., 2]) / 255.0


@pytest.mark.parametrize("name,ref,dist", PAIRS, ids=[p[0] for p in PAIRS])
@pytest.mark.parametrize("crop", [0, 4])
def test_tid2013_pairs_match_skimage(name: str, ref: Path, dist: Path, crop: int) -> None:
    gt, sr = read_image(ref), read_image(dist)
    c = slice(crop, -crop) if crop else slice(None)
    y_sr, y_gt = _y_skimage(sr)[c, c], _y_skimage(gt)[c, c]
    assert psnr(sr, gt, "y", crop) == pytest.approx(peak_signal_noise_ratio(y_gt, y_sr, data_range=255), abs=TOL)
    assert ssim(sr, gt, "y", crop) == pytest.approx(_sk_ssim(y_sr, y_gt), abs=TOL)
    assert psnr(sr, gt, "rgb", crop) == pytest.approx(
        peak_signal_noise_ratio(gt[c, c], sr[c, c], data_range=255), abs=TOL
    )
    assert ssim(sr, gt, "rgb", crop) == pytest.approx(_sk_ssim(sr[c, c], gt[c, c], channel_axis=2), abs=TOL)


def test_colour_only_distortions_are_a_y_vs_rgb_trap() -> None:
    # I04 and I06 are chroma-only distortions: ~21/27 dB in RGB but ~57 dB on the Y channel.
    pairs = {name: (read_image(d), read_image(r)) for name, r, d in PAIRS}
    for name, rgb_db in (("I04", 20.99), ("I06", 27.01)):
        sr, gt = pairs[name]
        assert psnr(sr, gt, "rgb") == pytest.approx(rgb_db, abs=0.01)
        assert 57.0 < psnr(sr, gt, "y") < 58.0


def test_oracle_values_from_basicsr_style_reference() -> None:
    # Published float64 BasicSR-style PSNR-Y / SSIM-Y on I03 (crop 0): 23.5922 dB, 0.7353.
    sr, gt = next((read_image(d), read_image(r)) for name, r, d in PAIRS if name == "I03")
    assert psnr(sr, gt) == pytest.approx(23.5922, abs=1e-4)
    assert ssim(sr, gt) == pytest.approx(0.7353, abs=1e-4)


@pytest.mark.parametrize("shape", [(48, 64, 3), (97, 131, 3)])
def test_random_frames_match_skimage(rng: np.random.Generator, shape: tuple[int, int, int]) -> None:
    gt = rng.integers(0, 256, size=shape, dtype=np.uint8)
    noise = rng.normal(0, 12, size=shape)
    sr = np.clip(gt + noise, 0, 255).astype(np.uint8)
    y_sr, y_gt = _y_skimage(sr), _y_skimage(gt)
    assert psnr(sr, gt) == pytest.approx(peak_signal_noise_ratio(y_gt, y_sr, data_range=255), abs=TOL)
    assert ssim(sr, gt) == pytest.approx(_sk_ssim(y_sr, y_gt), abs=TOL)
    assert ssim(sr, gt, "rgb") == pytest.approx(_sk_ssim(sr, gt, channel_axis=2), abs=TOL)


@pytest.mark.parametrize("rows", [11, 74, 139, 140])
def test_ssim_in_row_strips_equals_skimage_at_every_strip_boundary(rows: int) -> None:
    """Frames whose valid rows end one strip short, exactly, and one row into the next strip
    (strips of SSIM_STRIP_ROWS = 64), with flat areas and hard edges (cancellation in the variance)."""
    from mgld_bench.metrics.functional.psnr_ssim import SSIM_STRIP_ROWS

    assert SSIM_STRIP_ROWS == 64  # the row counts above are chosen for it
    rng = np.random.default_rng(rows)
    gt = rng.integers(0, 256, size=(rows, 83, 3), dtype=np.uint8)
    gt[: rows // 2, :40] = 200  # flat block: zero variance on one side
    sr = np.clip(gt + rng.normal(0, 6, size=gt.shape), 0, 255).astype(np.uint8)
    sr[: rows // 2, :40] = 200  # identical flat block on both sides
    y_sr, y_gt = _y_skimage(sr), _y_skimage(gt)
    assert ssim(sr, gt) == pytest.approx(_sk_ssim(y_sr, y_gt), abs=1e-6)
    assert ssim(sr, gt, "rgb") == pytest.approx(_sk_ssim(sr, gt, channel_axis=2), abs=1e-6)


def test_ssim_value_does_not_depend_on_the_thread_count() -> None:
    import cv2

    rng = np.random.default_rng(9)
    gt = rng.integers(0, 256, size=(300, 120, 3), dtype=np.uint8)
    sr = np.clip(gt + rng.normal(0, 9, size=gt.shape), 0, 255).astype(np.uint8)
    before = cv2.getNumThreads()
    try:
        values = []
        for n in (1, 2, 3):
            cv2.setNumThreads(n)
            values.append((ssim(sr, gt), ssim(sr, gt, "rgb")))
    finally:
        cv2.setNumThreads(before)
    assert values[0] == values[1] == values[2]
    assert values[0][0] == pytest.approx(_sk_ssim(_y_skimage(sr), _y_skimage(gt)), abs=1e-6)


def test_y_helper_is_bt601_limited_range() -> None:
    frame = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0]]], dtype=np.uint8)
    assert rgb_to_y(frame)[0].tolist() == pytest.approx([16.0, 235.0, 16 + 65.481])


def test_identical_frames_give_inf_psnr_and_unit_ssim(rng: np.random.Generator) -> None:
    f = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    assert math.isinf(psnr(f, f))
    assert ssim(f, f) == pytest.approx(1.0)


def test_size_mismatch_and_oversized_crop_raise(rng: np.random.Generator) -> None:
    a = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="differ in size"):
        psnr(a, a[:16])
    with pytest.raises(ValueError, match="crop border"):
        psnr(a, a, crop_border=16)


def test_rgb_psnr_and_ssim_equal_piq() -> None:
    """piq (Apache-2.0) as a second independent reference: Gaussian 11x11, sigma 1.5, valid region."""
    import piq
    import torch

    rng = np.random.default_rng(5)
    for shape in ((64, 80, 3), (33, 47, 3)):
        a = rng.integers(0, 256, shape, dtype=np.uint8)
        b = np.clip(a.astype(int) + rng.integers(-25, 26, shape), 0, 255).astype(np.uint8)

        def t(x: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(x.astype(np.float64)).permute(2, 0, 1)[None]

        ref_ssim = float(piq.ssim(t(a), t(b), data_range=255.0, downsample=False))
        ref_psnr = float(piq.psnr(t(a), t(b), data_range=255.0))
        # float32 maths (issue #15): ~1e-9 from piq's float64 here, far inside SSIM's 1e-4 tolerance
        assert ssim(a, b, "rgb") == pytest.approx(ref_ssim, abs=1e-7)
        assert psnr(a, b, "rgb") == pytest.approx(ref_psnr, abs=1e-4)
