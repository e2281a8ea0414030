"""FrameSequence.size: from the file header for image folders (no decoding), else decoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mgld_bench.errors import FrameError
from mgld_bench.frames import FolderFrames, SelectFrames, SliceFrames


def _write(path: Path, h: int, w: int) -> Path:
    Image.fromarray(np.zeros((h, w, 3), np.uint8)).save(path)
    return path


def _no_decode(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_a, **_k):
        raise AssertionError("a frame was decoded")

    monkeypatch.setattr("mgld_bench.frames.read_image", fail)


def test_folder_size_comes_from_the_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = [_write(tmp_path / "a.png", 12, 20), _write(tmp_path / "b.jpg", 8, 6)]
    _no_decode(monkeypatch)
    assert FolderFrames(files).size == (12, 20)
    assert SliceFrames(FolderFrames(files), 1, 2).size == (8, 6)
    assert SelectFrames(FolderFrames(files), [1]).size == (8, 6)


def test_unreadable_header_falls_back_to_decoding(tmp_path: Path) -> None:
    bad = tmp_path / "x.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(FrameError, match=r"x\.png"):
        _ = FolderFrames([bad]).size
    with pytest.raises(FrameError, match="does not exist"):
        _ = FolderFrames([tmp_path / "gone.png"]).size
