"""``mgld-bench export``: PNGs byte-identical to the cached frames; mp4 decodable at the clip's fps."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from mgld_bench.cli import main

FRAMES = 4
DS = f"synthetic[frames={FRAMES},size=64]"  # the name results of a dataset variant are filed under


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("export")
    out, cache = root / "out", root / "cache"
    argv = ["run", "--datasets", "synthetic", "--methods", "bicubic", "--metrics", "psnr", "--clips", "pan,zoom",
            "--set", f"synthetic.frames={FRAMES}", "--set", "synthetic.size=64", "--out", str(out),
            "--cache-dir", str(cache), "--no-progress"]
    assert main(argv) == 0
    return out, cache


def _cached_shas(out: Path, cache: Path, clip: str) -> list[str]:
    """The frame blobs the cache's inference manifest lists (read by hand: sqlite + JSON)."""
    with sqlite3.connect(out / "results.sqlite") as db:
        (key,) = db.execute("SELECT DISTINCT infer_key FROM clip_scores WHERE clip = ?", (clip,)).fetchone()
    manifest = json.loads((cache / "infer" / key[:2] / f"{key}.json").read_text())
    return manifest["frames"]


def test_png_export_is_byte_identical(run_dir: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    out, cache = run_dir
    assert main(["export", str(out), "--method", "bicubic", "--clips", "pan", "--to", str(tmp_path)]) == 0
    folder = tmp_path / "bicubic" / DS / "pan"
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == [f"{i:08d}.png" for i in range(FRAMES)]
    shas = _cached_shas(out, cache, "pan")
    for f, sha in zip(files, shas, strict=True):
        data = f.read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha
        assert data == (cache / "blobs" / sha[:2] / sha).read_bytes()
    assert not (tmp_path / "bicubic" / DS / "zoom").exists()  # --clips filters


def test_mp4_export_frame_count_fps_and_lossless_pixels(run_dir: tuple[Path, Path], tmp_path: Path) -> None:
    import av
    import cv2

    out, cache = run_dir
    assert main(["export", str(out), "--method", "bicubic", "--to", str(tmp_path), "--format", "mp4"]) == 0
    assert main(["export", str(out), "--method", "bicubic", "--to", str(tmp_path / "ll"), "--format", "mp4",
                 "--lossless", "--clips", "zoom"]) == 0
    for clip in ("pan", "zoom"):
        with av.open(str(tmp_path / "bicubic" / DS / f"{clip}.mp4")) as container:
            stream = container.streams.video[0]
            assert float(stream.average_rate) == pytest.approx(24.0)  # the synthetic clips' fps
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        assert len(frames) == FRAMES and frames[0].shape == (64, 64, 3)
    with av.open(str(tmp_path / "ll" / "bicubic" / DS / "zoom.mp4")) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    for got, sha in zip(decoded, _cached_shas(out, cache, "zoom"), strict=True):
        png = cv2.cvtColor(cv2.imread(str(cache / "blobs" / sha[:2] / sha)), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(got, png)


def test_export_errors_name_what_exists(run_dir: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    out, _ = run_dir
    assert main(["export", str(out), "--method", "nope", "--to", str(tmp_path)]) == 1
    assert "bicubic" in capsys.readouterr().err
    assert main(["export", str(out), "--method", "bicubic", "--clips", "x", "--to", str(tmp_path)]) == 1
    assert "pan" in capsys.readouterr().err
    # a copy of the results whose recorded cache folder is gone: one clear error, nothing written
    moved = tmp_path / "moved"
    moved.mkdir()
    (moved / "results.sqlite").write_bytes((out / "results.sqlite").read_bytes())
    with sqlite3.connect(moved / "results.sqlite") as db:
        for run_id, prov in db.execute("SELECT run_id, provenance FROM runs").fetchall():
            p = json.loads(prov)
            p["cache_dir"] = str(tmp_path / "gone")
            db.execute("UPDATE runs SET provenance = ? WHERE run_id = ?", (json.dumps(p), run_id))
    rc = main(["export", str(moved), "--method", "bicubic", "--to", str(tmp_path / "x"),
               "--cache-dir", str(tmp_path / "gone")])
    assert rc == 1
    err = capsys.readouterr().err
    assert "bicubic on " in err and "not in the cache" in err and "--cache-dir" in err
    assert not (tmp_path / "x").exists()
