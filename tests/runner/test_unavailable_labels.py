"""Unavailable rows are filed under the metric's label (as its scores are), so a metric and the
same metric with other options never overwrite each other's unavailable mark."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from mgld_bench.cli import main


def test_unavailable_rows_keep_the_label(tmp_path: Path) -> None:
    def run(*extra: str) -> int:
        return main(["run", "--datasets", "synthetic", "--set", "synthetic.frames=2", "--set", "synthetic.size=32",
                     "--methods", "bicubic", "--metrics", "psnr,lpips", "--cache-dir", str(tmp_path / "cache"),
                     "--out", str(tmp_path / "out"), "--no-progress", *extra])

    assert run() == 0  # no weights in the test's weights folder: lpips is unavailable
    assert run("--set", "lpips.model=lpips-vgg") == 0
    with sqlite3.connect(tmp_path / "out" / "results.sqlite") as db:
        marks = {m for (m,) in db.execute("SELECT metric FROM unavailable")}
        reasons = {m: r for m, r in db.execute("SELECT metric, reason FROM unavailable")}
    assert marks == {"lpips", "lpips[model=lpips-vgg]"}
    assert "alex" in reasons["lpips"].lower() and "vgg" in reasons["lpips[model=lpips-vgg]"].lower()
