"""The ``range`` option every dataset has: START:STOP[:STEP] with Python slice semantics."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio

from mgld_bench.cli import main
from mgld_bench.errors import BenchError
from mgld_bench.registry import DATASETS
from tests.fakes import smooth_frames, write_clip


def _folder_clip(tmp_path: Path, n: int = 8) -> tuple[Path, Path, list[np.ndarray], list[np.ndarray]]:
    gt = smooth_frames(n, 32, 48, seed=2)
    lr = [np.ascontiguousarray(f[::4, ::4]) for f in gt]
    write_clip(tmp_path / "lr" / "c", lr)
    write_clip(tmp_path / "gt" / "c", gt)
    return tmp_path / "lr" / "c", tmp_path / "gt" / "c", lr, gt


def test_every_registered_dataset_has_range() -> None:
    for entry in DATASETS.entries():
        assert "range" in entry.load().defaults, entry.name


def test_range_selects_lr_and_gt_alike_and_enters_the_label(tmp_path: Path) -> None:
    lr_dir, gt_dir, lr, gt = _folder_clip(tmp_path)
    full = DATASETS.create("folder", path=str(lr_dir), gt=str(gt_dir))
    part = DATASETS.create("folder", path=str(lr_dir), gt=str(gt_dir), range="1:7:2")
    assert full.label == "folder:c" and part.label == "folder:c[range=1:7:2]"
    clip = part.clip("c")
    expected = list(range(8))[1:7:2]  # [1, 3, 5]
    assert len(clip.lr) == len(clip.gt) == 3
    assert clip.lr.ids == clip.gt.ids == [f"{i:08d}" for i in expected]
    for k, i in enumerate(expected):
        np.testing.assert_array_equal(clip.lr[k], lr[i])
        np.testing.assert_array_equal(clip.gt[k], gt[i])
    assert clip.lr.digest() != full.clip("c").lr.digest()
    # START:STOP and negative bounds, as Python slices
    assert DATASETS.create("folder", path=str(lr_dir), range="-3:").clip("c").lr.ids == [
        f"{i:08d}" for i in (5, 6, 7)
    ]
    assert len(DATASETS.create("synthetic", frames=6, size=64, range=":4").clip("pan").gt) == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2:2", "selects no frames"),
        ("0:9", "reaches past"),
        ("8:", "starts at frame 8"),
        ("0:4:0", "STEP must be a positive integer"),
        ("1-4", "is not START:STOP"),
        ("a:b", "must be integers"),
    ],
)
def test_bad_ranges_are_one_line_errors_naming_dataset_and_clip(tmp_path: Path, text: str, message: str) -> None:
    lr_dir, _, _, _ = _folder_clip(tmp_path)
    with pytest.raises(BenchError) as exc:
        DATASETS.create("folder", path=str(lr_dir), range=text).clip("c")
    msg = str(exc.value)
    assert message in msg and "folder" in msg and "\n" not in msg
    if "STEP" not in message and "START:STOP" not in message and "integers" not in message:
        assert "clip c" in msg


def test_yaml_number_is_refused() -> None:
    with pytest.raises(BenchError, match="range"):
        DATASETS.create("synthetic", range=90)  # YAML 1.1 reads 1:30 as 90


def test_run_with_range_scores_only_the_selected_frames(tmp_path: Path) -> None:
    lr_dir, gt_dir, _, gt = _folder_clip(tmp_path)
    out = tmp_path / "out"
    args = ["run", "--datasets", f"folder:{lr_dir}", "--set", f"folder.gt={gt_dir}", "--set", "folder.range=1:7:2",
            "--methods", "bicubic", "--metrics", "psnr,warping-error", "--out", str(out), "--no-progress",
            "--cache-dir", str(tmp_path / "cache"), "--no-html"]
    assert main(args) == 0
    db = sqlite3.connect(out / "results.sqlite")
    rows = db.execute(
        "SELECT frame, frame_id, value FROM frame_scores WHERE metric='psnr' ORDER BY frame"
    ).fetchall()
    assert [r[1] for r in rows] == ["00000001", "00000003", "00000005"]
    # an independent PSNR: the bicubic output is read back from the store's cache through its key
    (label,) = db.execute("SELECT DISTINCT dataset FROM clip_scores").fetchone()
    assert label == "folder:c[range=1:7:2]"
    pairs = db.execute(
        "SELECT frame, frame_id FROM frame_scores WHERE metric='warping-error' ORDER BY frame"
    ).fetchall()
    assert pairs == [(0, "00000001"), (1, "00000003")]  # pairs between consecutive *selected* frames
    from mgld_bench.registry import METHODS

    method = METHODS.create("bicubic")
    clip = DATASETS.create("folder", path=str(lr_dir), gt=str(gt_dir), range="1:7:2").clip("c")
    sr = list(method.run(clip, None))  # type: ignore[arg-type]
    y = lambda f: 16.0 + (65.481 * f[..., 0] + 128.553 * f[..., 1] + 24.966 * f[..., 2]) / 255.0  # noqa: E731
    want = [peak_signal_noise_ratio(y(gt[i].astype(float)), y(s.astype(float)), data_range=255)
            for i, s in zip((1, 3, 5), sr, strict=True)]
    assert [r[2] for r in rows] == pytest.approx(want, abs=1e-4)
    prov = db.execute("SELECT provenance FROM runs").fetchone()[0]
    assert '"range": "1:7:2"' in prov


def test_precomputed_outputs_of_the_whole_clip_follow_the_range(tmp_path: Path) -> None:
    lr_dir, gt_dir, _, gt = _folder_clip(tmp_path)
    write_clip(tmp_path / "sr" / "c", gt)  # "outputs" identical to GT for all 8 frames
    clip = DATASETS.create("folder", path=str(lr_dir), gt=str(gt_dir), range="2:5").clip("c")
    from mgld_bench.registry import METHODS

    pre = METHODS.create("precomputed", path=str(tmp_path / "sr"))
    files = pre.frame_files(clip)
    assert [f.stem for f in files] == ["00000002", "00000003", "00000004"]
