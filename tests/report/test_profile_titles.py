"""``run`` and ``plot profile`` give a clip's temporal profile the same title."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mgld_bench.cli import main
from mgld_bench.report import profile


def test_run_and_plot_titles_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    titles: list[str] = []

    def spy(real: Any) -> Any:
        def call(*args: Any, **kw: Any) -> Any:
            titles.append(kw["title"])
            return real(*args, **kw)
        return call

    # run draws its figure with write_profile_image, plot with write_profiles (matplotlib)
    monkeypatch.setattr(profile, "write_profiles", spy(profile.write_profiles))
    monkeypatch.setattr(profile, "write_profile_image", spy(profile.write_profile_image))
    out = tmp_path / "o"
    assert main(["run", "--out", str(out), "--cache-dir", str(tmp_path / "c"), "--set", "synthetic.frames=2",
                 "--set", "synthetic.size=32", "--clips", "pan", "--no-html", "--no-progress"]) == 0
    assert main(["plot", "profile", str(out), "--clip", "pan", "--out", str(tmp_path / "fig")]) == 0
    assert main(["plot", "profile", str(out), "--clip", "pan", "--row", "3", "--out", str(tmp_path / "fig")]) == 0
    assert len(titles) == 3
    assert titles[0] == titles[1] == "synthetic[frames=2,size=32] / pan: temporal profile (middle row)"
    assert titles[2].endswith("temporal profile (row 3)")
