"""Weight files: fetch from a loopback HTTP server (resume, checksum), import, list; offline messages."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from mgld_bench.cli import main
from mgld_bench.errors import BenchError
from mgld_bench.weights import WeightFile
from mgld_bench.weights_fetch import fetch, import_folder

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at any path, honouring a 'Range: bytes=N-' header (records what it saw)."""

    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        rng = self.headers.get("Range")
        type(self).seen.append(rng)
        start = int(rng.split("=")[1].rstrip("-")) if rng else 0
        body = PAYLOAD[start:]
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def server():
    _RangeHandler.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_resumes_and_checks_sha256(tmp_path: Path, server: str) -> None:
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    wf = WeightFile("model.pth", f"{server}/model.pth", "mgld_bench", sha, len(PAYLOAD))
    part = wf.path(tmp_path).with_name("model.pth.part")
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD[:1000])  # an interrupted earlier download
    path = fetch(wf, root=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD and not part.exists()
    assert _RangeHandler.seen == ["bytes=1000-"]
    fetch(wf, root=tmp_path, progress=False)  # present and valid: no new request
    assert len(_RangeHandler.seen) == 1


def test_fetch_rejects_a_wrong_checksum_and_leaves_nothing(tmp_path: Path, server: str) -> None:
    wf = WeightFile("bad-0123abcd.pth", f"{server}/bad.pth", "mgld_bench")  # hash prefix in the name
    with pytest.raises(BenchError, match="corrupt"):
        fetch(wf, root=tmp_path, progress=False)
    assert not any(tmp_path.rglob("bad-0123abcd.pth*"))


def test_fetch_offline_names_file_and_url(tmp_path: Path) -> None:
    wf = WeightFile("x.pth", "http://127.0.0.1:9/x.pth", "mgld_bench")  # port 9: nothing listens
    with pytest.raises(BenchError, match=r"x\.pth from http://127\.0\.0\.1:9/x\.pth"):
        fetch(wf, root=tmp_path, progress=False, timeout=5)


def test_import_by_name_and_by_content(tmp_path: Path) -> None:
    data = b"lpips head bytes"
    wf = WeightFile("LPIPS_fake.pth", None, "pyiqa", hashlib.sha256(data).hexdigest(), len(data))
    src = tmp_path / "carry" / "sub"
    src.mkdir(parents=True)
    (src / "alex.pth").write_bytes(data)  # other name, same content
    (src / "unrelated.bin").write_bytes(b"x")
    report = import_folder(tmp_path / "carry", root=tmp_path / "w", files=[wf])
    assert report == [("LPIPS_fake.pth", f"imported from {src / 'alex.pth'}")]
    assert (tmp_path / "w" / "hub" / "pyiqa" / "LPIPS_fake.pth").read_bytes() == data
    (src / "alex.pth").write_bytes(b"tampered bytes!!")  # same size, other content: not recognised
    (src / "LPIPS_fake.pth").write_bytes(b"wrong")  # right name, wrong content: reported, not copied
    report = import_folder(tmp_path / "carry", root=tmp_path / "w2", files=[wf])
    assert len(report) == 1 and report[0][1].startswith("skipped")
    assert not (tmp_path / "w2").exists()


def test_cli_list_import_and_offline_fetch(tmp_path: Path, monkeypatch, capsys) -> None:
    import lpips

    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path / "w"))
    assert main(["weights", "list"]) == 0
    out = capsys.readouterr().out
    assert "alexnet-owt-7be5be79.pth" in out and "lpips, tlp" in out and "missing" in out
    wheel = Path(lpips.__file__).parent / "weights" / "v0.1"
    assert main(["weights", "import", str(wheel)]) == 0
    assert (tmp_path / "w" / "hub" / "pyiqa" / "LPIPS_v0.1_alex-df73285e.pth").is_file()
    capsys.readouterr()
    main(["weights", "list", "--verify"])
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.startswith("| LPIPS_v0.1_alex"))
    assert "| ok " in line
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: an offline machine
    assert main(["weights", "fetch", "niqe"]) != 0
    out = capsys.readouterr()
    assert "niqe_modelparameters.mat" in out.out + out.err
    assert main(["weights", "fetch", "no-such-thing"]) == 2
