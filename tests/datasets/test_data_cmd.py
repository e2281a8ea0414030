"""``data prepare``, ``data verify`` and ``data fetch`` on fake layouts, and ``run`` on prepared REDS4 + VideoLQ."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from mgld_bench.cli import main
from mgld_bench.errors import BenchError
from mgld_bench.registry import DATASETS
from tests.fakes import make_reds4, make_videolq, shrink_manifest, smooth_frames, write_clip

SMALL = {"frames": 3, "gt_size": [64, 96]}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def reds_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shrink_manifest(monkeypatch, "reds4", **SMALL)
    root = tmp_path / "data"
    make_reds4(root, frames=3, h=64, w=96, bicubic=False)
    return root


def _prepared(root: Path, seed: int = 0, deg: str = "realbasicvsr") -> Path:
    return root / "prepared" / "reds4" / f"{deg}-v1-seed{seed}"


def test_prepare_writes_seeded_set_and_loader_uses_it(reds_root: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "prepare", "reds4", "--root", str(reds_root), "--seed", "3"]) == 0
    folder = _prepared(reds_root, 3)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["degradation"]["name"] == "realbasicvsr"
    assert manifest["degradation"]["version"] == 1 and "av" in manifest["libraries"]
    for clip in ("000", "011", "015", "020"):
        rec = manifest["clips"][clip]
        assert len(rec["frames"]) == 3 and rec["lr_size"] == [16, 24]
        for f in rec["frames"]:  # recorded sha256 = sha256 of the file on disk
            assert _sha(folder / clip / f["file"]) == f["sha256"]
    assert not list(folder.parent.glob("*.partial"))

    clip = DATASETS.create("reds4", root=str(reds_root), seed=3).clip("011")
    assert clip.lr.size == (16, 24) and clip.gt.size == (64, 96) and len(clip.lr) == 3
    from PIL import Image

    np.testing.assert_array_equal(clip.lr[1], np.asarray(Image.open(folder / "011" / "00000001.png").convert("RGB")))

    # same (dataset, clip, seed, version) -> identical bytes; another seed -> different bytes
    first = {c: [f["sha256"] for f in r["frames"]] for c, r in manifest["clips"].items()}
    assert main(["data", "prepare", "reds4", "--root", str(reds_root), "--seed", "3", "--force"]) == 0
    again = json.loads((folder / "manifest.json").read_text())
    assert {c: [f["sha256"] for f in r["frames"]] for c, r in again["clips"].items()} == first
    assert main(["data", "prepare", "reds4", "--root", str(reds_root), "--seed", "4"]) == 0
    other = json.loads((_prepared(reds_root, 4) / "manifest.json").read_text())
    assert other["clips"]["000"]["frames"][0]["sha256"] != first["000"][0]

    # GT edited after prepare: the stale LR set is refused, naming the fix
    from mgld_bench.frames import write_image

    write_image(reds_root / "REDS/train/train_sharp/011/00000000.png", np.zeros((64, 96, 3), np.uint8))
    with pytest.raises(BenchError, match=r"GT frames of clip 011 changed .* --force"):
        DATASETS.create("reds4", root=str(reds_root), seed=3).clip("011")


def test_verify_catches_deleted_and_corrupted_frames(reds_root: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["data", "prepare", "reds4", "--root", str(reds_root), "--degradation", "bicubic"]) == 0
    assert main(["data", "verify", "reds4", "--root", str(reds_root), "--record"]) == 0
    capsys.readouterr()
    folder = _prepared(reds_root, 0, "bicubic")
    (folder / "015" / "00000002.png").unlink()
    data = bytearray((folder / "020" / "00000000.png").read_bytes())
    data[-20] ^= 0xFF
    (folder / "020" / "00000000.png").write_bytes(bytes(data))
    # the same pixels re-encoded (another zlib level) are not a problem; the pixel digest decides
    from PIL import Image

    reencoded = folder / "000" / "00000001.png"
    Image.open(reencoded).convert("RGB").save(reencoded, compress_level=9)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert _sha(reencoded) != manifest["clips"]["000"]["frames"][1]["sha256"]
    gt = reds_root / "REDS/train/train_sharp"
    (gt / "011" / "00000001.png").unlink()
    raw = bytearray((gt / "000" / "00000002.png").read_bytes())
    raw[-30] ^= 0x01
    (gt / "000" / "00000002.png").write_bytes(bytes(raw))
    (gt / "000" / "readme.txt").write_text("x")
    assert main(["data", "verify", "reds4", "--root", str(reds_root)]) == 1
    out = capsys.readouterr().out
    assert "015/00000002.png is missing" in out
    assert "020/00000000.png is corrupted" in out
    assert "train_sharp/011 holds 2 frames, expected 3" in out
    assert "011/00000001.png is missing (it was recorded)" in out
    assert "000/00000002.png has changed" in out
    assert "extra non-frame entry" in out and "readme.txt" in out
    assert "seed0/000/00000001.png" not in out  # re-encoded, same pixels


def test_prepare_is_atomic_and_resumes(reds_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mgld_bench.degrade.pipeline as pipeline

    real = pipeline.degrade_clip
    calls = {"n": 0}

    def failing(frames: Iterator[np.ndarray], *args: object, **kw: object) -> Iterator[np.ndarray]:
        calls["n"] += 1
        for i, f in enumerate(real(frames, *args, **kw)):
            if calls["n"] == 3 and i == 1:
                raise KeyboardInterrupt  # killed in the middle of the third clip
            yield f

    monkeypatch.setattr(pipeline, "degrade_clip", failing)
    assert main(["data", "prepare", "reds4", "--root", str(reds_root), "--degradation", "bicubic"]) == 130
    final = _prepared(reds_root, 0, "bicubic")
    assert not final.exists()  # nothing half-prepared looks complete
    partial = final.with_name(final.name + ".partial")
    assert sorted(p.name for p in partial.iterdir()) == ["000", "011"]  # finished clips only, no temp folders
    with pytest.raises(BenchError, match="not prepared"):
        DATASETS.create("reds4", root=str(reds_root), degradation="bicubic").clip("000")
    assert main(["data", "prepare", "reds4", "--root", str(reds_root), "--degradation", "bicubic"]) == 0
    assert calls["n"] == 5  # resumed: only 015 (again) and 020 were degraded
    assert (final / "manifest.json").is_file() and not partial.exists()


def test_prepare_bad_gt_leaves_nothing(reds_root: Path) -> None:
    from mgld_bench.frames import write_image

    write_image(reds_root / "REDS/train/train_sharp/015/00000001.png", np.zeros((32, 96, 3), np.uint8))
    with pytest.raises(BenchError, match=r"015/00000001\.png is 96x32 but the clip's frames are 96x64"):
        from mgld_bench.datasets.prepare import prepare

        prepare(DATASETS.create("reds4", root=str(reds_root)), degradation="bicubic", progress=False)
    partial = _prepared(reds_root, 0, "bicubic").with_name("bicubic-v1-seed0.partial")
    assert sorted(p.name for p in partial.iterdir()) == ["000", "011"]


def test_run_on_prepared_reds4_and_videolq(reds_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    make_videolq(reds_root, clips=50, frames=2)
    assert main(["data", "prepare", "reds4", "--root", str(reds_root)]) == 0
    out = tmp_path / "out"
    rc = main(["run", "--datasets", "reds4,videolq", "--data-root", str(reds_root), "--methods", "bicubic",
               "--metrics", "psnr", "--out", str(out), "--no-progress", "--cache-dir", str(tmp_path / "cache")])
    assert rc == 0
    import csv

    rows = list(csv.DictReader((out / "results.csv").open()))
    reds = [r for r in rows if r["dataset"] == "reds4"]
    assert sorted(r["clip"] for r in reds) == ["000", "011", "015", "020"]
    assert all(0 < float(r["value"]) < 60 for r in reds)


# --- fetch ------------------------------------------------------------------------------------------------


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves one file from memory and honours ``Range: bytes=N-`` (what fetch uses to resume)."""

    payload = b""
    ranges: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        data = self.payload
        rng = self.headers.get("Range")
        start = 0
        if rng:
            type(self).ranges.append(rng)
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def log_message(self, *args: object) -> None:
        pass


def _reds_zip(path: Path, tmp: Path) -> None:
    src = tmp / "zipsrc"
    for k, clip in enumerate(["000", "001", "011", "015", "020"]):
        write_clip(src / "train" / "train_sharp" / clip, smooth_frames(3, 16, 24, seed=k))
    with zipfile.ZipFile(path, "w") as zf:
        for f in sorted(src.rglob("*.png")):
            zf.write(f, f.relative_to(src).as_posix())


def test_fetch_resumes_checks_and_extracts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "train_sharp.zip"
    _reds_zip(archive, tmp_path)
    payload = archive.read_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    shrink_manifest(monkeypatch, "reds4", frames=3, gt_size=[16, 24], archives=[{
        "file": "train_sharp.zip", "urls": [], "size": len(payload), "sha256": digest, "extract_to": "REDS",
        "members": ["*train_sharp/000/*", "*train_sharp/011/*", "*train_sharp/015/*", "*train_sharp/020/*"],
    }])
    handler = type("H", (_RangeHandler,), {"payload": payload, "ranges": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        root = tmp_path / "data"
        (root / "downloads").mkdir(parents=True)
        (root / "downloads" / "train_sharp.zip.part").write_bytes(payload[:1000])  # an interrupted download
        mirror = f"http://127.0.0.1:{server.server_address[1]}"
        assert main(["data", "fetch", "reds4", "--root", str(root), "--mirror", mirror]) == 0
    finally:
        server.shutdown()
    assert handler.ranges == ["bytes=1000-"]
    assert _sha(root / "downloads" / "train_sharp.zip") == digest
    assert not (root / "downloads" / "train_sharp.zip.part").exists()
    sharp = root / "REDS" / "train" / "train_sharp"
    assert sorted(p.name for p in sharp.iterdir()) == ["000", "011", "015", "020"]  # 001 not extracted
    clip = DATASETS.create("reds4", root=str(root), lr="prepared").manifest  # manifest still the patched one
    assert clip.archives[0].sha256 == digest
    gt = DATASETS.create("reds4-bicubic", root=str(root))
    assert len(list((gt.gt_dir() / "020").iterdir())) == 3


def test_fetch_bad_checksum_is_removed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    payload = b"not the archive"
    shrink_manifest(monkeypatch, "reds4", archives=[{"file": "train_sharp.zip", "urls": [], "sha256": "0" * 64}])
    handler = type("H", (_RangeHandler,), {"payload": payload, "ranges": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        mirror = f"http://127.0.0.1:{server.server_address[1]}"
        with pytest.raises(BenchError, match="expected 0000"):
            from mgld_bench.datasets.fetch import fetch

            fetch(DATASETS.create("reds4").manifest, tmp_path, mirror=mirror, progress=False)
    finally:
        server.shutdown()
    assert not (tmp_path / "downloads" / "train_sharp.zip").exists()
    assert not (tmp_path / "downloads" / "train_sharp.zip.part").exists()


def test_fetch_offline_fails_fast_with_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    t0 = time.perf_counter()
    rc = main(["data", "fetch", "videolq", "--root", str(tmp_path), "--mirror", "http://127.0.0.1:9", "--timeout", "2"])
    assert rc == 1 and time.perf_counter() - t0 < 5
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Put the file at" in err and str(tmp_path / "downloads" / "VideoLQ.zip") in err
    rc = main(["data", "fetch", "udm10", "--root", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1 and "no direct download link" in err and "1G4V4KZZhhfzUlqHiSBBuWyqLyIOvOs0W" in err


def test_fetch_uses_a_file_put_there_by_hand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    names = ["archpeople", "archwall", "auditorium", "band", "caffe", "camera", "clap", "lake", "photography",
             "polyflow"]
    for k, n in enumerate(names):
        write_clip(src / "UDM10" / "GT" / n, smooth_frames(2, 16, 16, seed=k), "{:04d}.png")
    root = tmp_path / "data"
    (root / "downloads").mkdir(parents=True)
    with zipfile.ZipFile(root / "downloads" / "udm10.zip", "w") as zf:
        for f in sorted(src.rglob("*.png")):
            zf.write(f, f.relative_to(src).as_posix())
    assert main(["data", "fetch", "udm10", "--root", str(root)]) == 0
    assert DATASETS.create("udm10", root=str(root)).gt_dir() == root / "UDM10" / "GT"
