"""CLI entry: a closed pipe ends quietly; one spelling of the data-root flag; ``run --strict``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mgld_bench.cli import build_parser, main


def test_closed_pipe_prints_no_traceback() -> None:
    # `mgld-bench list metrics | head -0`: the reader is gone before anything is written
    proc = subprocess.Popen(
        [sys.executable, "-m", "mgld_bench.cli", "list", "metrics"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode == 141


@pytest.mark.parametrize("flag", ["--data-root", "--root"])
def test_data_root_has_one_spelling_and_an_alias(flag: str) -> None:
    parser = build_parser()
    assert parser.parse_args(["run", flag, "/d"]).data_root == "/d"
    assert parser.parse_args(["data", "verify", "reds4", flag, "/d"]).root == "/d"
    assert parser.parse_args(["export", "o", "--method", "m", "--to", "t", flag, "/d"]).data_root == "/d"


def test_strict_fails_before_work_on_an_unavailable_metric(tmp_path: Path, capsys) -> None:
    argv = ["run", "--metrics", "psnr,lpips", "--clips", "pan", "--set", "synthetic.frames=2",
            "--set", "synthetic.size=32", "--out", str(tmp_path / "o"), "--no-progress",
            "--cache-dir", str(tmp_path / "c")]
    assert main([*argv, "--strict"]) == 1
    err = capsys.readouterr().err
    assert "--strict" in err and "lpips" in err and "weights fetch" in err
    assert not (tmp_path / "o" / "results.sqlite").exists()
    assert main(argv) == 0  # without --strict the unavailable metric is recorded and the run succeeds


def test_strict_fails_on_an_unavailable_method(tmp_path: Path, capsys) -> None:
    argv = ["run", "--methods", "bicubic,realesrgan", "--clips", "pan", "--set", "synthetic.frames=2",
            "--out", str(tmp_path / "o"), "--keep-going", "--strict", "--no-progress"]
    assert main(argv) == 1
    assert "method realesrgan" in capsys.readouterr().err
