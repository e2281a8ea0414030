"""Fault injection: one line per error with its exit code, disk full, signals, stale folders,
hand-edited cache entries, concurrent runs (issue 11, points 6 and 8)."""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from mgld_bench.cli import main
from mgld_bench.errors import DiskFullError, FrameError, describe
from tests.fakes import write_frames

TINY = ["--set", "synthetic.frames=2", "--set", "synthetic.size=32", "--metrics", "psnr", "--no-progress"]


def _run(tmp_path: Path, *extra: str) -> int:
    return main(["run", *TINY, "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"), *extra])


def _one_error_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.startswith("mgld-bench: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# -- one boundary: one line, exit code per kind ------------------------------------------------
@pytest.mark.parametrize(
    ("exc", "code", "words"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/data/cache/x.tmp"), 4, "/data/cache"),
        (PermissionError(errno.EACCES, "Permission denied", "/root/x"), 4, "permission denied: /root/x"),
        (FileNotFoundError(errno.ENOENT, "No such file", "/nope"), 1, "/nope does not exist"),
        (MemoryError(), 4, "out of memory"),
        (ModuleNotFoundError("No module named 'pyiqa'", name="pyiqa"), 4, "pyiqa"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), 1, "UTF-8"),
        (sqlite3.OperationalError("database or disk is full"), 4, "disk full"),
        (KeyError("x"), 5, "internal error: KeyError"),
        (KeyboardInterrupt(), 130, "interrupted"),
    ],
)
def test_every_exception_has_one_line_and_a_code(exc: BaseException, code: int, words: str) -> None:
    message, got = describe(exc)
    assert got == code and words in message and "\n" not in message


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--set", "synthetic.frames=0"], "synthetic.frames must be at least 1"),
        (["--set", "synthetic.size=3"], "synthetic.size must be at least 16"),
        (["--set", "psnr.crop_border=40"], "synthetic/pan: crop border 40 leaves nothing of a 32x32 frame"),
    ],
)
def test_bad_options_give_one_line_and_exit_1(tmp_path: Path, capsys, args: list[str], words: str) -> None:
    assert _run(tmp_path, *args) == 1
    assert words in _one_error_line(capsys.readouterr().err)


def test_a_png_header_claiming_1e10_pixels_is_refused_before_decoding(tmp_path: Path, capsys) -> None:
    from mgld_bench.frames import read_image

    bomb = tmp_path / "clip" / "00000000.png"
    bomb.parent.mkdir()
    bomb.write_bytes(_png_claiming(100_000, 100_000))
    with pytest.raises(FrameError, match=r"claims 100000x100000 = 10,000,000,000 pixels"):
        read_image(bomb)
    assert main(["run", "--datasets", f"folder:{bomb.parent}", "--metrics", "psnr", "--no-progress",
                 "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]) == 1
    assert "00000000.png claims 100000x100000" in _one_error_line(capsys.readouterr().err)


def test_max_pixels_option(tmp_path: Path) -> None:
    from mgld_bench.frames import read_image
    from mgld_bench.imagecheck import set_max_pixels

    path = tmp_path / "a.png"
    write_frames(tmp_path, [np.zeros((10, 10, 3), np.uint8)])
    (tmp_path / "00000000.png").rename(path)
    try:
        set_max_pixels(99)
        with pytest.raises(FrameError, match="above the limit of 99"):
            read_image(path)
    finally:
        set_max_pixels(None)
    assert read_image(path).shape == (10, 10, 3)


def test_decompression_bomb_from_an_external_command_is_one_error(tmp_path: Path) -> None:
    from mgld_bench.methods.external import validate_outputs

    out = tmp_path / "out"
    out.mkdir()
    (out / "00000000.png").write_bytes(_png_claiming(20_000, 20_000))
    with pytest.raises(FrameError, match="output of tool on clip x/y"):
        validate_outputs(out, 1, (40, 40), "tool on clip x/y")


def test_non_utf8_file_names_are_printed_escaped(tmp_path: Path, capfd) -> None:
    folder = tmp_path / "clip"
    folder.mkdir()
    name = os.fsdecode(b"\xff\xfe.png")
    (folder / name).write_bytes(b"not an image")
    code = subprocess.run(
        [sys.executable, "-c", "import sys; from mgld_bench.cli import main; sys.exit(main())", "run",
         "--datasets", f"folder:{folder}", "--metrics", "psnr", "--no-progress", "--out", str(tmp_path / "out"),
         "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8"}, timeout=120,
    )
    err = code.stderr.decode("utf-8")
    assert code.returncode == 1, err
    assert "cannot read frame" in _one_error_line(err) and "\\udcff" in err


def test_hand_edited_cache_entries_count_as_absent(tmp_path: Path) -> None:
    assert _run(tmp_path) == 0
    cache = tmp_path / "cache"
    for path in (cache / "infer").rglob("*.json"):
        path.write_text(json.dumps({"format": 1, "frames": "nonsense", "digest": 3}))
    for path in (cache / "score").rglob("*.json"):
        path.write_text(json.dumps({"format": 1, "value": "x", "frames": [1]}))
    assert _run(tmp_path) == 0
    rows = sqlite3.connect(tmp_path / "out" / "results.sqlite").execute("SELECT value FROM clip_scores").fetchall()
    assert rows and all(v is not None and v > 10 for (v,) in rows)


# -- keep-going and disk full ----------------------------------------------------------------------
def test_keep_going_continues_past_any_exception(tmp_path: Path, monkeypatch, capsys) -> None:
    from baselines.bicubic import Bicubic

    original = Bicubic.run

    def flaky(self, clip, ctx):  # type: ignore[no-untyped-def]
        if clip.name == "pan":
            raise ZeroDivisionError("boom")
        return original(self, clip, ctx)

    monkeypatch.setattr(Bicubic, "run", flaky)
    assert _run(tmp_path) == 5  # without --keep-going: an internal error stops the run
    assert "bicubic on clip synthetic/pan: internal error: ZeroDivisionError: boom" in capsys.readouterr().err
    assert _run(tmp_path, "--keep-going") == 1
    err = capsys.readouterr().err
    assert "bicubic on clip synthetic/pan: internal error: ZeroDivisionError" in err and "Traceback" not in err
    clips = {c for (c,) in sqlite3.connect(tmp_path / "out" / "results.sqlite").execute("SELECT clip FROM clip_scores")}
    assert "pan" not in clips and len(clips) >= 2


def test_disk_full_in_the_cache_names_the_folder_and_leaves_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    real = Path.write_bytes

    def full(self, data):  # type: ignore[no-untyped-def]
        if "cache" in str(self):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    assert _run(tmp_path, "--keep-going") == 4  # a full disk stops even --keep-going
    line = _one_error_line(capsys.readouterr().err)
    assert f"disk full: no space left in {tmp_path / 'cache'}" in line
    assert not list((tmp_path / "cache").rglob("infer/*/*.json"))
    assert not any((tmp_path / "cache" / "tmp").iterdir())
    monkeypatch.setattr(Path, "write_bytes", real)
    assert _run(tmp_path) == 0


def test_disk_full_at_the_atomic_write(tmp_path: Path, monkeypatch) -> None:
    from mgld_bench.store.cache import Cache

    cache = Cache(tmp_path / "c")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DiskFullError, match=str(tmp_path / "c" / "score")):
        cache.put_json("score", "ab" * 32, {"x": 1})
    assert not [p for p in (tmp_path / "c").rglob("*") if p.is_file()]  # no temp file left


def test_zip_extraction_into_a_full_disk(tmp_path: Path, monkeypatch) -> None:
    from mgld_bench.datasets.fetch import extract

    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("clip/0.png", b"1" * 100)
        zf.writestr("clip/1.png", b"2" * 100)
    calls = []
    real = zipfile.ZipFile.extract

    def full(self, member, path=None, pwd=None):  # type: ignore[no-untyped-def]
        calls.append(member)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, member, path, pwd)

    monkeypatch.setattr(zipfile.ZipFile, "extract", full)
    dest = tmp_path / "data"
    with pytest.raises(DiskFullError, match=f"no space left in {dest} while extracting a.zip"):
        extract(archive, dest, ())
    assert not [p for p in dest.rglob("*") if p.is_file()]  # nothing half-extracted at its final path


# -- signals, stale folders, concurrency (subprocesses) --------------------------------------------
SLEEPER = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(120)"


def _cli(tmp_path: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "MGLD_BENCH_CACHE": str(tmp_path / "cache")}
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; from mgld_bench.cli import main; sys.exit(main())", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _sleeping_run(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    pidfile = tmp_path / "child.pid"
    (tmp_path / "sleeper.py").write_text(SLEEPER)
    proc = _cli(
        tmp_path, "run", *TINY, "--methods", "external", "--set",
        f"external.command={sys.executable} {tmp_path / 'sleeper.py'} {pidfile} {{input}} {{output}}",
        "--out", str(tmp_path / "out"),
    )
    deadline = time.monotonic() + 60
    while not (pidfile.is_file() and pidfile.read_text()):
        assert proc.poll() is None, proc.communicate()[1].decode()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return proc, int(pidfile.read_text())


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "State:\tZ" in state  # a zombie waiting for init counts as gone


def _wait_gone(pid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return False


def test_sigterm_stops_the_child_and_leaves_the_cache_consistent(tmp_path: Path) -> None:
    proc, child = _sleeping_run(tmp_path)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err.decode()
    assert "terminated; completed jobs are cached" in err.decode()
    assert _wait_gone(child)
    cache = tmp_path / "cache"
    assert not list(cache.rglob("infer/*/*.json"))
    assert not any((cache / "tmp").iterdir()) and not list((tmp_path / "tmp").glob("mgld-bench-*"))


@pytest.mark.slow
def test_sigkill_leaves_a_consistent_cache_and_stale_folders_are_collected(tmp_path: Path) -> None:
    proc, child = _sleeping_run(tmp_path)
    proc.kill()
    proc.communicate(timeout=30)
    try:
        assert _wait_gone(child)  # PR_SET_PDEATHSIG: the command dies with the runner
    finally:
        if not _gone(child):
            os.kill(child, signal.SIGKILL)
    cache = tmp_path / "cache"
    left = list((cache / "tmp").iterdir()) + list((tmp_path / "tmp").glob("mgld-bench-job-*"))
    assert left and not list(cache.rglob("infer/*/*.json"))
    old = time.time() - 60
    for p in left:
        os.utime(p, (old, old))
    again = _cli(tmp_path, "run", *TINY, "--out", str(tmp_path / "out"))
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err.decode()
    assert not [p.name for p in left if p.exists()]


def test_live_folders_are_never_collected(tmp_path: Path) -> None:
    from mgld_bench.store.sweep import collect_stale

    tmp = tmp_path / "cache" / "tmp"
    mine = tmp / f"{'a' * 64}-{os.getpid()}-deadbeef"
    dead = tmp / f"{'b' * 64}-999999999-deadbeef"
    young_unknown = tmp / "something"
    for p in (mine, dead, young_unknown):
        p.mkdir(parents=True)
        os.utime(p, (time.time() - 60, time.time() - 60))
    assert collect_stale(tmp_path / "cache", tmp_path / "t") == [dead]
    assert mine.exists() and young_unknown.exists()


@pytest.mark.slow
def test_concurrent_runs_into_one_out(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    procs = [
        _cli(tmp_path, "run", *TINY, "--out", out, "--set", f"bicubic.kernel={k}") for k in ("pil", "cv2", "torch")
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    db = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    methods = {m for (m,) in db.execute("SELECT DISTINCT method FROM clip_scores")}
    assert methods == {"bicubic", "bicubic[kernel=cv2]", "bicubic[kernel=torch]"}
    (n,) = db.execute("SELECT COUNT(*) FROM clip_scores").fetchone()
    assert n == 3 * 3  # three methods x three synthetic clips, one metric
