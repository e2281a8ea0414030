"""``score`` prints the unit and counts pairs for temporal metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mgld_bench.cli import main
from tests.fakes import random_frames, write_frames


def test_score_prints_units_frames_and_pairs(tmp_path: Path, rng: np.random.Generator,
                                             capsys: pytest.CaptureFixture) -> None:
    write_frames(tmp_path / "sr", random_frames(rng, 4, 32, 32))
    write_frames(tmp_path / "gt", random_frames(rng, 4, 32, 32))
    assert main(["score", str(tmp_path / "sr"), str(tmp_path / "gt"), "--metrics", "psnr,ssim,tof",
                 "--no-cache"]) == 0
    lines = {ln.split()[0]: ln for ln in capsys.readouterr().out.splitlines()}
    assert lines["psnr"].endswith(" dB (mean of 4 frames)")
    assert lines["ssim"].endswith("(mean of 4 frames)") and " dB" not in lines["ssim"]
    assert lines["tof"].endswith(" px (mean of 3 pairs)")
