"""Atomic writes leave files with the mode the user's umask gives a plain ``open()``."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mgld_bench.fileio import atomic_copy, atomic_write_json, atomic_write_text


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_writes_follow_umask_022(tmp_path: Path, umask_022: None) -> None:
    assert _mode(atomic_write_text(tmp_path / "a.md", "x")) == 0o644
    assert _mode(atomic_write_json(tmp_path / "b.json", {"a": 1})) == 0o644
    src = tmp_path / "src.bin"
    src.write_bytes(b"123")
    assert _mode(atomic_copy(src, tmp_path / "c.bin")) == 0o644
    assert (tmp_path / "c.bin").read_bytes() == b"123"


def test_atomic_writes_follow_a_stricter_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        assert _mode(atomic_write_text(tmp_path / "a.md", "x")) == 0o600
    finally:
        os.umask(old)


def test_a_run_writes_readable_reports(tmp_path: Path, umask_022: None) -> None:
    from mgld_bench.cli import main

    out = tmp_path / "out"
    assert main(["run", "--out", str(out), "--no-progress", "--clips", "pan", "--no-html",
                 "--cache-dir", str(tmp_path / "cache")]) == 0
    for name in ("results.csv", "table.md"):
        assert _mode(out / name) == 0o644, name
