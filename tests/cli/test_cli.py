"""The command line: score, list, the demo table, and one clear error for each bad input."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from mgld_bench.cli import main
from tests.fakes import write_frames


def _pair(rng: np.random.Generator, n: int = 3, size: tuple[int, int] = (40, 48)) -> tuple[list, list]:
    gt = [rng.integers(0, 256, size=(*size, 3), dtype=np.uint8) for _ in range(n)]
    sr = [np.clip(g + rng.normal(0, 10, g.shape), 0, 255).astype(np.uint8) for g in gt]
    return sr, gt


def _y(f: np.ndarray) -> np.ndarray:
    f = f.astype(np.float64)
    return 16.0 + (65.481 * f[..., 0] + 128.553 * f[..., 1] + 24.966 * f[..., 2]) / 255.0


def test_score_json_matches_skimage(tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture) -> None:
    sr, gt = _pair(rng)
    write_frames(tmp_path / "sr", sr)
    write_frames(tmp_path / "gt", gt)
    assert (
        main(["score", str(tmp_path / "sr"), str(tmp_path / "gt"), "--json", "--crop-border", "2", "--no-cache"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    c = slice(2, -2)
    psnrs = [peak_signal_noise_ratio(_y(g)[c, c], _y(s)[c, c], data_range=255) for s, g in zip(sr, gt, strict=True)]
    ssims = [
        structural_similarity(
            _y(s)[c, c], _y(g)[c, c], gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
        )
        for s, g in zip(sr, gt, strict=True)
    ]
    assert out["metrics"]["psnr"]["frames"] == pytest.approx(psnrs, abs=1e-4)
    assert out["metrics"]["psnr"]["mean"] == pytest.approx(np.mean(psnrs), abs=1e-4)
    assert out["metrics"]["ssim"]["frames"] == pytest.approx(ssims, abs=1e-4)
    assert out["protocol"]["crop_border"] == 2


def test_score_identical_frames_reports_inf(tmp_path: Path, rng: np.random.Generator, capsys) -> None:
    sr, _ = _pair(rng, n=2)
    write_frames(tmp_path / "a", sr)
    write_frames(tmp_path / "b", sr)
    assert main(["score", str(tmp_path / "a"), str(tmp_path / "b"), "--json", "--metrics", "psnr"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"]["psnr"]["mean"] == "inf" and out["metrics"]["psnr"]["frames"] == ["inf", "inf"]


def test_demo_run_prints_a_table_and_writes_outputs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "| bicubic" in printed and "PSNR↑" in printed and "SSIM↑" in printed
    for name in ("results.sqlite", "results.csv", "table.md"):
        assert (tmp_path / "out" / name).is_file()
    header = (tmp_path / "out" / "results.csv").read_text().splitlines()[0].split(",")
    assert header[:6] == ["dataset", "method", "clip", "metric", "value", "protocol"]


def test_list_commands(capsys: pytest.CaptureFixture) -> None:
    for what in ("datasets", "methods", "metrics", "protocols"):
        assert main(["list", what]) == 0
    out = capsys.readouterr().out
    assert "synthetic" in out and "bicubic" in out and "psnr" in out and "default" in out


# -- bad input --------------------------------------------------------------------------------
def _error(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("mgld-bench: error:"), err
    return err[-1]


def test_unknown_names_list_the_valid_ones(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["run", "--methods", "bicubik", "--out", str(tmp_path)]) == 2
    assert "unknown method 'bicubik'" in _error(capsys)
    assert main(["run", "--metrics", "psnr,ssimm", "--out", str(tmp_path)]) == 2
    msg = _error(capsys)
    assert "unknown metric 'ssimm'" in msg and "ssim" in msg
    assert main(["run", "--datasets", "nope", "--out", str(tmp_path)]) == 2
    assert "Valid datasets: " in _error(capsys)
    assert main(["run", "--set", "bicubic.kernal=cv2", "--out", str(tmp_path)]) == 1
    assert "unknown option(s) kernal" in _error(capsys)


def _precomputed(tmp_path: Path, clip: str, frames: list[np.ndarray]) -> str:
    write_frames(tmp_path / "outputs" / clip, frames)
    return f"precomputed:{tmp_path / 'outputs'}"


def test_frame_count_mismatch_names_clip_and_counts(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    frames = [np.zeros((256, 256, 3), np.uint8)] * 11
    spec = _precomputed(tmp_path, "pan", frames)
    rc = main(
        [
            "run",
            "--methods",
            spec,
            "--clips",
            "pan",
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
            "--cache-dir",
            str(tmp_path / "c"),
        ]
    )
    assert rc == 1
    msg = _error(capsys)
    assert "synthetic/pan" in msg and "11 frames" in msg and "12 LR frames" in msg
    assert not list((tmp_path / "c").glob("infer/*/*.json")) and not list((tmp_path / "c").glob("blobs/*/*"))
    db = sqlite3.connect(tmp_path / "o" / "results.sqlite")
    assert db.execute("SELECT COUNT(*) FROM clip_scores").fetchone() == (0,)


def test_frame_size_mismatch_names_both_sizes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec = _precomputed(tmp_path, "pan", [np.zeros((250, 256, 3), np.uint8)] * 12)
    assert main(["run", "--methods", spec, "--clips", "pan", "--out", str(tmp_path / "o"), "--no-progress"]) == 1
    msg = _error(capsys)
    assert "synthetic/pan" in msg and "256x250" in msg and "256x256" in msg


def test_corrupt_frame_names_the_file(tmp_path: Path, rng: np.random.Generator, capsys) -> None:
    sr, gt = _pair(rng)
    write_frames(tmp_path / "sr", sr)
    write_frames(tmp_path / "gt", gt)
    bad = tmp_path / "sr" / "00000001.png"
    bad.write_bytes(b"not a png")
    assert main(["score", str(tmp_path / "sr"), str(tmp_path / "gt")]) == 1
    assert str(bad) in _error(capsys)


def test_empty_folder_and_count_mismatch_in_score(tmp_path: Path, rng: np.random.Generator, capsys) -> None:
    (tmp_path / "empty").mkdir()
    sr, gt = _pair(rng)
    write_frames(tmp_path / "gt", gt)
    assert main(["score", str(tmp_path / "empty"), str(tmp_path / "gt")]) == 1
    assert "holds no image files" in _error(capsys)
    write_frames(tmp_path / "sr", sr[:2])
    assert main(["score", str(tmp_path / "sr"), str(tmp_path / "gt")]) == 1
    msg = _error(capsys)
    assert "2 frames" in msg and "3" in msg and str(tmp_path / "gt") in msg


def test_missing_precomputed_clip_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "outputs").mkdir()
    rc = main(
        [
            "run",
            "--methods",
            f"precomputed:{tmp_path / 'outputs'}",
            "--clips",
            "zoom",
            "--out",
            str(tmp_path / "o"),
            "--no-progress",
        ]
    )
    assert rc == 1
    assert "synthetic/zoom not found" in _error(capsys)


def test_score_reads_video_files(tmp_path: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture) -> None:
    import cv2

    frames = [np.full((48, 64, 3), 40 * i + 20, np.uint8) for i in range(4)]
    writer = cv2.VideoWriter(str(tmp_path / "v.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    write_frames(tmp_path / "gt", frames)
    assert (
        main(["score", str(tmp_path / "v.avi"), str(tmp_path / "gt"), "--json", "--metrics", "psnr", "--no-cache"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    values = out["metrics"]["psnr"]["frames"]
    assert len(values) == 4 and all(isinstance(v, str) or v > 30 for v in values)  # flat frames survive MJPG
