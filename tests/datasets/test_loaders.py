"""Dataset loaders on fake layouts built in tmp_path: folder:, video:, reds4, videolq, udm10, spmcs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mgld_bench.errors import BenchError, FrameError
from mgld_bench.registry import DATASETS
from tests.fakes import make_reds4, make_videolq, shrink_manifest, smooth_frames, write_clip


def read_png(path: Path) -> np.ndarray:
    """Independent reader (PIL) for comparing against what the loaders return."""
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


# --- folder: -----------------------------------------------------------------------------------


def test_folder_single_clip_with_gt(tmp_path: Path) -> None:
    gt = smooth_frames(3, 16, 24, seed=1)
    lr = [f[::4, ::4].copy() for f in gt]
    write_clip(tmp_path / "lr" / "clipA", lr)
    write_clip(tmp_path / "gt" / "clipA", gt)
    ds = DATASETS.create("folder", path=str(tmp_path / "lr" / "clipA"), gt=str(tmp_path / "gt" / "clipA"))
    assert ds.clip_names() == ["clipA"] and ds.has_gt
    clip = ds.clip("clipA")
    assert len(clip.lr) == 3 and len(clip.gt) == 3
    np.testing.assert_array_equal(clip.lr[2], read_png(tmp_path / "lr/clipA/00000002.png"))
    np.testing.assert_array_equal(clip.gt[1], gt[1])


def test_folder_of_clips_lr_only(tmp_path: Path) -> None:
    for name in ("b", "a"):
        write_clip(tmp_path / name, smooth_frames(2, 8, 8, seed=3))
    ds = DATASETS.create("folder", path=str(tmp_path))
    assert ds.clip_names() == ["a", "b"] and not ds.has_gt
    assert ds.clip("b").gt is None and ds.clip("b").lr.size == (8, 8)


def test_folder_frames_in_natural_order(tmp_path: Path) -> None:
    frames = smooth_frames(11, 8, 8, seed=4)
    write_clip(tmp_path / "c", frames, pattern="Frame {:d}.png")  # Frame 0, Frame 1, ..., Frame 10
    clip = DATASETS.create("folder", path=str(tmp_path / "c")).clip("c")
    assert clip.lr.ids[:3] == ["Frame 0", "Frame 1", "Frame 2"] and clip.lr.ids[-1] == "Frame 10"
    np.testing.assert_array_equal(clip.lr[10], frames[10])


def test_folder_bad_inputs_name_the_path(tmp_path: Path) -> None:
    write_clip(tmp_path / "c", smooth_frames(2, 8, 8, seed=5))
    (tmp_path / "c" / "notes.txt").write_text("hello")
    with pytest.raises(FrameError, match=r"notes\.txt is not an image file"):
        DATASETS.create("folder", path=str(tmp_path / "c")).clip("c")
    (tmp_path / "c" / "notes.txt").unlink()
    from mgld_bench.frames import write_image

    write_image(tmp_path / "c" / "00000002.png", np.zeros((10, 8, 3), np.uint8))
    clip = DATASETS.create("folder", path=str(tmp_path / "c")).clip("c")
    clip.lr[0]
    with pytest.raises(FrameError, match=r"00000002\.png is 8x10 but the clip's frames are 8x8"):
        clip.lr[2]
    (tmp_path / "c" / "00000002.png").write_bytes(b"not a png")
    with pytest.raises(FrameError, match=r"cannot read frame .*00000002\.png"):
        DATASETS.create("folder", path=str(tmp_path / "c")).clip("c").lr[2]
    with pytest.raises(FrameError, match="does not exist"):
        DATASETS.create("folder", path=str(tmp_path / "missing")).clip_names()


def test_folder_gt_count_mismatch(tmp_path: Path) -> None:
    write_clip(tmp_path / "lr", smooth_frames(3, 8, 8, seed=6))
    write_clip(tmp_path / "gt", smooth_frames(2, 32, 32, seed=6))
    ds = DATASETS.create("folder", path=str(tmp_path / "lr"), gt=str(tmp_path / "gt"))
    with pytest.raises(FrameError, match=r"holds 2 frames but 3 were expected"):
        ds.clip("lr")


# --- video: ------------------------------------------------------------------------------------


def _write_video_cv2(path: Path, frames: list[np.ndarray], fps: float) -> None:
    """Write with OpenCV's VideoWriter (an independent writer) so reading back tests our PyAV reader."""
    import cv2

    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    assert writer.isOpened()
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()


def test_video_frame_count_fps_and_content(tmp_path: Path) -> None:
    import cv2

    frames = smooth_frames(7, 32, 48, seed=7)
    path = tmp_path / "clip.mp4"
    _write_video_cv2(path, frames, fps=12.5)
    ds = DATASETS.create("video", path=str(path))
    clip = ds.clip("clip")
    assert len(clip.lr) == 7
    assert clip.fps == pytest.approx(12.5)
    cap = cv2.VideoCapture(str(path))  # independent decoder for the content
    expected = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        expected.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    assert len(expected) == 7
    got = list(clip.lr)
    for a, b in zip(got, expected, strict=True):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 2.0  # same frames, decoder rounding aside
        assert np.abs(a.astype(int) - frames[0].astype(int)).mean() >= 0  # decoded, not empty
    np.testing.assert_array_equal(clip.lr[3], got[3])  # random access after sequential decode
    np.testing.assert_array_equal(clip.lr[1], got[1])  # seeking backwards reopens


def test_video_unreadable_and_missing(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(FrameError, match=r"cannot open video .*broken\.mp4"):
        DATASETS.create("video", path=str(bad)).clip("broken")
    with pytest.raises(FrameError, match="does not exist"):
        DATASETS.create("video", path=str(tmp_path / "none.mp4")).clip_names()


# --- standard datasets ---------------------------------------------------------------------------


def test_shipped_manifests_load() -> None:
    from mgld_bench.datasets.manifest import load_manifest, manifest_names

    assert set(manifest_names()) >= {"reds4", "videolq", "udm10", "spmcs"}
    reds = load_manifest("reds4")
    assert reds.clip_names() == ["000", "011", "015", "020"]
    assert all(c.frames == 100 and c.size == (720, 1280) for c in reds.clips)
    assert len(load_manifest("videolq").clips) == 50 and not load_manifest("videolq").has_gt
    assert len(load_manifest("udm10").clips) == 10
    assert load_manifest("spmcs").discover and load_manifest("spmcs").clip_count == 30


def test_reds4_bicubic_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shrink_manifest(monkeypatch, "reds4", frames=3, gt_size=[32, 48])
    monkeypatch.setitem(__import__("os").environ, "MGLD_BENCH_DATA", str(tmp_path))
    make_reds4(tmp_path)
    ds = DATASETS.create("reds4-bicubic")
    assert ds.availability() == (True, "")
    clip = ds.clip("011")
    assert clip.lr.size == (8, 12) and clip.gt.size == (32, 48) and len(clip.gt) == 3
    np.testing.assert_array_equal(clip.gt[0], read_png(tmp_path / "REDS/train/train_sharp/011/00000000.png"))


def test_reds4_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shrink_manifest(monkeypatch, "reds4", frames=3, gt_size=[32, 48])
    make_reds4(tmp_path)
    ds = DATASETS.create("reds4", root=str(tmp_path))
    with pytest.raises(BenchError, match=r"Run `mgld-bench data prepare reds4 --root .* --seed 0"):
        ds.clip("000")
    import shutil

    shutil.rmtree(tmp_path / "REDS/train/train_sharp/015")
    with pytest.raises(FrameError, match=r"clip folder .*train_sharp/015 does not exist"):
        DATASETS.create("reds4-bicubic", root=str(tmp_path)).clip("015")
    (tmp_path / "REDS/train/train_sharp/020/00000001.png").unlink()
    with pytest.raises(FrameError, match=r"train_sharp/020 holds 2 frames but 3 were expected"):
        DATASETS.create("reds4-bicubic", root=str(tmp_path)).clip("020")
    with pytest.raises(BenchError, match="--data-root"):
        DATASETS.create("reds4").clip("000")


def test_reds4_wrong_gt_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shrink_manifest(monkeypatch, "reds4", frames=3, gt_size=[64, 48])
    make_reds4(tmp_path)
    clip = DATASETS.create("reds4-bicubic", root=str(tmp_path)).clip("000")
    with pytest.raises(FrameError, match=r"is 48x32 but the clip's frames are 48x64"):
        clip.gt[0]


def test_videolq_layout(tmp_path: Path) -> None:
    make_videolq(tmp_path, clips=50, frames=2)
    ds = DATASETS.create("videolq", root=str(tmp_path))
    assert not ds.has_gt and ds.availability()[0]
    names = ds.clip_names()
    assert names[0] == "000" and names[-1] == "049" and len(names) == 50
    clip = ds.clip("049")
    assert clip.gt is None and len(clip.lr) == 2
    from mgld_bench.datasets.verify import verify

    assert verify(ds).ok
    (tmp_path / "VideoLQ" / "050").mkdir()
    import shutil

    shutil.rmtree(tmp_path / "VideoLQ" / "007")
    problems = verify(ds).problems
    assert any("extra clip folder" in p and p.endswith("050 (not in the manifest)") for p in problems)
    assert any("missing clip folder" in p and "VideoLQ/007" in p for p in problems)


def test_udm10_official_lr(tmp_path: Path) -> None:
    names = ["archpeople", "archwall", "auditorium", "band", "caffe", "camera", "clap", "lake", "photography",
             "polyflow"]
    for k, name in enumerate(names):
        gt = smooth_frames(2, 16, 16, seed=k)
        write_clip(tmp_path / "UDM10/GT" / name, gt, "{:04d}.png")
        write_clip(tmp_path / "UDM10/BDx4" / name, [f[::4, ::4].copy() for f in gt], "{:04d}.png")
    bd = DATASETS.create("udm10-bd", root=str(tmp_path))
    assert bd.clip("lake").lr.ids == ["0000", "0001"] and bd.clip("lake").gt.size == (16, 16)
    with pytest.raises(BenchError, match=r"the bi LR frames not found"):
        DATASETS.create("udm10-bi", root=str(tmp_path)).clip("lake")
    with pytest.raises(BenchError, match="lr='xx' is not one of bi, bd, prepared"):
        DATASETS.create("udm10", root=str(tmp_path), lr="xx")


def test_spmcs_discovers_clips(tmp_path: Path) -> None:
    for name in ("car05_001", "hk004_001"):
        write_clip(tmp_path / "SPMCS/GT" / name, smooth_frames(31, 8, 8, seed=1), "Frame {:03d}.png")
        write_clip(tmp_path / "SPMCS/BIx4" / name, smooth_frames(31, 2, 2, seed=1), "Frame {:03d}.png")
    ds = DATASETS.create("spmcs-bi", root=str(tmp_path))
    assert ds.clip_names() == ["car05_001", "hk004_001"]
    assert len(ds.clip("hk004_001").lr) == 31
    from mgld_bench.datasets.verify import verify

    report = verify(ds)
    assert any("holds 2 clip folders, expected 30" in p for p in report.problems)
