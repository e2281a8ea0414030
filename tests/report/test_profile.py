"""Temporal profiles, crops and curves: pixel values checked against hand-computed patterns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mgld_bench.errors import BenchError
from mgld_bench.report.crops import default_box, write_crops
from mgld_bench.report.curves import write_clip_curves
from mgld_bench.report.profile import temporal_profile, write_profiles

H, W, T, K, STRIPE = 12, 40, 6, 3, 4


def stripes(t: int, k: int = K) -> np.ndarray:
    """Vertical stripes, STRIPE px wide, translated right by k px per frame."""
    x = np.arange(W)
    line = np.where(((x - k * t) // STRIPE) % 2 == 0, 255, 0).astype(np.uint8)
    frame = np.repeat(np.repeat(line[None, :, None], H, axis=0), 3, axis=2)
    frame[..., 1] = (x * 5 % 256).astype(np.uint8)[None, :]  # a second channel that does not move
    return frame


def expected_row_profile(k: int) -> np.ndarray:
    """Independent formula: profile[t, x] = stripe value at x - k t."""
    t = np.arange(T)[:, None]
    x = np.arange(W)[None, :]
    return np.where(((x - k * t) // STRIPE) % 2 == 0, 255, 0).astype(np.uint8)


def test_translation_gives_diagonal_stripes():
    frames = [stripes(t) for t in range(T)]
    prof = temporal_profile(frames, row=5)
    assert prof.shape == (T, W, 3)
    np.testing.assert_array_equal(prof[..., 0], expected_row_profile(K))
    # each time step shifts the stripe pattern right by exactly K px: a diagonal of slope K
    for t in range(1, T):
        np.testing.assert_array_equal(prof[t, K:, 0], prof[t - 1, :-K, 0])
    # the static channel gives vertical (time-constant) streaks
    assert (prof[..., 1] == prof[0:1, :, 1]).all()


def test_column_profile_puts_time_on_x():
    frames = [np.full((H, W), 10 * t, np.uint8) + np.arange(H, dtype=np.uint8)[:, None] for t in range(T)]
    prof = temporal_profile(frames, col=7)
    assert prof.shape == (H, T)
    expected = np.arange(H)[:, None] + 10 * np.arange(T)[None, :]
    np.testing.assert_array_equal(prof, expected)


def test_profile_errors():
    with pytest.raises(BenchError, match="outside"):
        temporal_profile([np.zeros((4, 4, 3), np.uint8)], row=4)
    with pytest.raises(BenchError, match="one size"):
        temporal_profile([np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5, 3), np.uint8)])
    with pytest.raises(BenchError, match="not both"):
        temporal_profile([np.zeros((4, 4), np.uint8)], row=1, col=1)


def test_written_profile_png_has_the_stripes(tmp_path):
    gt = [stripes(t) for t in range(T)]
    flicker = [np.clip(f.astype(int) + (40 if t % 2 else -40), 0, 255).astype(np.uint8) for t, f in enumerate(gt)]
    files = write_profiles([("GT", gt), ("flicker", flicker)], tmp_path, "profile_x", row=5)
    assert {p.name for p in files} == {"profile_x_GT.png", "profile_x_flicker.png", "profile_x.png", "profile_x.pdf"}
    raw = np.asarray(Image.open(tmp_path / "profile_x_GT.png").convert("RGB"))
    np.testing.assert_array_equal(raw[..., 0], expected_row_profile(K))
    fig = np.asarray(Image.open(tmp_path / "profile_x.png").convert("RGB"))
    assert fig.shape[0] > 50 and fig.std() > 10  # a real, non-blank figure
    assert (tmp_path / "profile_x.pdf").read_bytes().startswith(b"%PDF")


def test_crops_are_pixel_exact(tmp_path):
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)
    sr = 255 - gt
    box = default_box((32, 48))
    assert box == (20, 12, 8, 8)  # centred, a quarter of the shorter side
    write_crops([("GT", gt), ("m", sr)], tmp_path, "crop", box=box)
    got = np.asarray(Image.open(tmp_path / "crop_m.png").convert("RGB"))
    np.testing.assert_array_equal(got, sr[12:20, 20:28])
    with pytest.raises(BenchError, match="does not fit"):
        write_crops([("GT", gt)], tmp_path, "bad", box=(40, 0, 16, 16))


def test_curves_one_figure_per_clip(tmp_path):
    rows = [
        ("syn", m, c, "psnr", "default", f, 30 + f + (m == "b")) for m in "ab" for c in ("c1", "c2") for f in range(5)
    ]
    df = pd.DataFrame(rows, columns=["dataset", "method", "clip", "metric", "protocol", "frame", "value"])
    files = write_clip_curves(df, tmp_path, formats=("png",))
    assert sorted(p.name for p in files) == ["curves_syn_c1.png", "curves_syn_c2.png"]
    img = np.asarray(Image.open(files[0]).convert("RGB"))
    assert img.std() > 5


def test_span_keeps_the_chosen_pixels(tmp_path):
    gt = [stripes(t) for t in range(T)]
    write_profiles([("GT", gt)], tmp_path, "p", row=2, span=(8, 20), formats=("png",))
    raw = np.asarray(Image.open(tmp_path / "p_GT.png").convert("RGB"))
    np.testing.assert_array_equal(raw[..., 0], expected_row_profile(K)[:, 8:20])
    with pytest.raises(BenchError, match="outside"):
        write_profiles([("GT", gt)], tmp_path, "q", row=2, span=(30, 50), formats=("png",))
