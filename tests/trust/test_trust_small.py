"""Labels that never collide, data fetch 416 and archive digests, and the small items (issue 11, 4, 7, 10)."""

from __future__ import annotations

import hashlib
import http.server
import sqlite3
import threading
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from mgld_bench.cli import main
from mgld_bench.datasets.manifest import Archive
from mgld_bench.errors import BenchError
from tests.fakes import write_frames


# -- labels ----------------------------------------------------------------------------------------
def test_method_options_show_in_the_label() -> None:
    from baselines.bicubic import Bicubic

    assert Bicubic().label == "bicubic"
    assert Bicubic(kernel="pil").label == "bicubic"  # the default
    assert Bicubic(kernel="cv2").label == "bicubic[kernel=cv2]"


def test_two_folders_with_one_basename_never_share_a_label(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for side in ("a", "b"):
        write_frames(tmp_path / side / "clips" / "c0", [rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)])
    out, cache = str(tmp_path / "out"), str(tmp_path / "cache")
    for side in ("a", "b", "a"):
        assert main(["run", "--datasets", f"folder:{tmp_path / side / 'clips'}", "--metrics", "psnr",
                     "--no-progress", "--out", out, "--cache-dir", cache]) == 0
    db = sqlite3.connect(tmp_path / "out" / "results.sqlite")
    labels = {row[0] for row in db.execute("SELECT label FROM sources")}
    assert labels == {"folder:clips", "folder:clips~2"}  # the first keeps the short label, for good
    sources = dict(db.execute("SELECT label, source FROM sources"))
    assert str((tmp_path / "a" / "clips").resolve()) in sources["folder:clips"]


def test_results_csv_carries_the_method_identity(tmp_path: Path) -> None:
    import csv
    import json

    assert main(["run", "--set", "synthetic.frames=1", "--set", "synthetic.size=16", "--metrics", "psnr",
                 "--set", "bicubic.kernel=cv2", "--no-progress", "--out", str(tmp_path / "out"),
                 "--cache-dir", str(tmp_path / "c")]) == 0
    rows = list(csv.DictReader((tmp_path / "out" / "results.csv").open()))
    assert rows and all(r["method"] == "bicubic[kernel=cv2]" for r in rows)
    assert json.loads(rows[0]["method_identity"])["options"]["kernel"] == "cv2"


# -- data fetch ----------------------------------------------------------------------------------------
class _Server(http.server.BaseHTTPRequestHandler):
    payload = b""
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        rng = self.headers.get("Range")
        type(self).seen.append(rng or "")
        start = int(rng.split("=")[1].split("-")[0]) if rng else 0
        if start >= len(self.payload) and rng:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(self.payload)}")
            self.end_headers()
            return
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(self.payload) - start))
        self.end_headers()
        self.wfile.write(self.payload[start:])

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve():
    servers = []

    def start(payload: bytes) -> tuple[str, type]:
        handler = type("H", (_Server,), {"payload": payload, "seen": []})
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/a.zip", handler

    yield start
    for s in servers:
        s.shutdown()


def test_a_complete_part_file_answered_416_is_finished(tmp_path: Path, serve) -> None:
    from mgld_bench.datasets.fetch import download

    payload = b"archive bytes" * 100
    url, handler = serve(payload)
    dest = tmp_path / "downloads" / "a.zip"
    dest.parent.mkdir(parents=True)
    dest.with_name("a.zip.part").write_bytes(payload)
    archive = Archive("a.zip", sha256=hashlib.sha256(payload).hexdigest())
    assert download(url, dest, archive, progress=False).read_bytes() == payload
    assert handler.seen == [f"bytes={len(payload)}-"]


def test_archive_digests_are_recorded_on_first_fetch_then_enforced(tmp_path: Path, serve) -> None:
    from mgld_bench.datasets.fetch import _complete, download, recorded_digests

    payload = b"first" * 100
    url, _ = serve(payload)
    dest = tmp_path / "downloads" / "a.zip"
    archive = Archive("a.zip")  # no published sha256
    download(url, dest, archive, progress=False)
    assert recorded_digests(dest.parent) == {"a.zip": hashlib.sha256(payload).hexdigest()}
    assert _complete(dest, archive)
    dest.write_bytes(b"tampered" * 100)
    with pytest.raises(BenchError, match="recorded on first fetch"):
        _complete(dest, archive)
    dest.unlink()
    url2, _ = serve(b"another upstream file")
    with pytest.raises(BenchError, match="recorded on first fetch"):
        download(url2, dest, archive, progress=False)
    assert not dest.exists() and not dest.with_name("a.zip.part").exists()


# -- small items ------------------------------------------------------------------------------------------
def test_verify_names_the_missing_frame(tmp_path: Path) -> None:
    from mgld_bench.datasets.verify import VerifyReport, _scan_clip

    frames = [np.zeros((4, 4, 3), np.uint8)] * 5
    files = write_frames(tmp_path / "c", frames)
    files[3].unlink()
    report = VerifyReport()
    _scan_clip(tmp_path / "c", report, "clip c", 5, None)
    assert report.problems == [f"clip c: {tmp_path / 'c'} holds 4 frames, expected 5; missing 00000003.png"]


def test_compare_refuses_duplicated_keys() -> None:
    import pandas as pd

    from mgld_bench.report.compare import compare

    row = {"dataset": "d", "method": "m", "clip": "c", "metric": "psnr", "protocol": "default", "value": 30.0,
           "higher_is_better": True}
    ok = pd.DataFrame([row])
    dup = pd.DataFrame([row, {**row, "value": 20.0}])
    expected = r"reference holds 2 rows for 1 duplicated key.*d/m/c/psnr/default.*30\.0, 20\.0"
    with pytest.raises(BenchError, match=expected):
        compare(ok, dup)


def test_table_format_latex_is_tex(tmp_path: Path, capsys) -> None:
    assert main(["run", "--set", "synthetic.frames=1", "--set", "synthetic.size=16", "--metrics", "psnr",
                 "--no-progress", "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c")]) == 0
    capsys.readouterr()
    assert main(["table", str(tmp_path / "out"), "--format", "latex"]) == 0
    assert "\\toprule" in capsys.readouterr().out
