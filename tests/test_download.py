"""The one resumable download (``mgld_bench/download.py``) against a loopback server: a 206 is
appended, a server that ignores Range restarts the file, a 416 on a full ``.part`` is done, and
HTTP errors reach the caller as urllib raises them."""

from __future__ import annotations

import http.server
import threading
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from mgld_bench.download import download_part

PAYLOAD = bytes(range(256)) * 40


class _Handler(http.server.BaseHTTPRequestHandler):
    honour_range = True
    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        rng = self.headers.get("Range")
        type(self).seen.append(rng)
        if self.path == "/missing":
            self.send_error(404)
            return
        start = int(rng.split("=")[1].rstrip("-")) if rng and self.honour_range else 0
        if start >= len(PAYLOAD):
            self.send_response(416)
            self.end_headers()
            return
        body = PAYLOAD[start:]
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.seen, _Handler.honour_range = [], True
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_partial_file_is_resumed_with_range(tmp_path: Path, server: str) -> None:
    part = tmp_path / "sub" / "f.part"
    part.parent.mkdir()
    part.write_bytes(PAYLOAD[:1000])
    assert download_part(f"{server}/f", part, desc="f", timeout=5, progress=False) == len(PAYLOAD)
    assert part.read_bytes() == PAYLOAD and _Handler.seen == ["bytes=1000-"]


def test_a_server_ignoring_range_restarts_the_file(tmp_path: Path, server: str) -> None:
    _Handler.honour_range = False
    part = tmp_path / "f.part"
    part.write_bytes(b"x" * 10)
    download_part(f"{server}/f", part, desc="f", timeout=5, progress=False)
    assert part.read_bytes() == PAYLOAD


def test_a_complete_part_answered_416_is_kept(tmp_path: Path, server: str) -> None:
    part = tmp_path / "f.part"
    part.write_bytes(PAYLOAD)
    assert download_part(f"{server}/f", part, desc="f", timeout=5, progress=False) == len(PAYLOAD)
    assert part.read_bytes() == PAYLOAD and _Handler.seen == [f"bytes={len(PAYLOAD)}-"]


def test_http_errors_reach_the_caller(tmp_path: Path, server: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as exc:
        download_part(f"{server}/missing", tmp_path / "m.part", desc="m", timeout=5, progress=False)
    assert exc.value.code == 404
    assert not (tmp_path / "m.part").exists()
