"""``data verify`` counts the clip folders that are there, not the manifest's list."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mgld_bench.cli import main
from tests.fakes import make_reds4, shrink_manifest


def test_a_missing_clip_folder_is_not_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture) -> None:
    shrink_manifest(monkeypatch, "reds4", frames=3, gt_size=[64, 96])
    root = tmp_path / "data"
    make_reds4(root, frames=3, h=64, w=96, bicubic=False)
    assert main(["data", "verify", "reds4", "--root", str(root)]) == 0
    assert "gt: 4 clips, 12 frames" in capsys.readouterr().out
    shutil.rmtree(root / "REDS/train/train_sharp/011")
    assert main(["data", "verify", "reds4", "--root", str(root)]) == 1
    cap = capsys.readouterr()
    assert "gt: 3 of 4 clips, 9 frames" in cap.out + cap.err
    assert "011" in cap.out + cap.err
