"""Paths typed relative to the working folder are recorded absolute, so reports work from elsewhere."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from mgld_bench.cli import main
from tests.fakes import smooth_frames, write_clip


@pytest.fixture
def in_dir(monkeypatch: pytest.MonkeyPatch):
    def go(path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        monkeypatch.chdir(path)

    return go


def test_run_with_relative_paths_then_plot_and_report_from_another_folder(tmp_path: Path, in_dir) -> None:
    a, b = tmp_path / "A", tmp_path / "B"
    gt = smooth_frames(4, 32, 48, seed=5)
    write_clip(a / "data" / "lr" / "c", [np.ascontiguousarray(f[::4, ::4]) for f in gt])
    write_clip(a / "data" / "gt" / "c", gt)
    write_clip(a / "outs" / "c", gt)  # precomputed outputs (the GT itself)
    in_dir(a)
    args = ["run", "--datasets", "folder:data/lr", "--set", "folder.gt=data/gt",
            "--methods", "bicubic,precomputed:outs", "--metrics", "psnr", "--out", "res",
            "--cache-dir", "cache", "--no-progress", "--no-html"]
    assert main(args) == 0
    db = sqlite3.connect(a / "res" / "results.sqlite")
    prov = json.loads(db.execute("SELECT provenance FROM runs").fetchone()[0])
    (spec,) = [d["spec"] for d in prov["datasets"].values()]
    (opts,) = [d["options"] for d in prov["datasets"].values()]
    real = a.resolve()  # the working folder as the OS reports it (symlinks resolved)
    assert spec == f"folder:{real / 'data' / 'lr'}" and opts["gt"] == str(real / "data" / "gt")
    assert prov["cache_dir"] == str(real / "cache")
    methods = {r[0]: json.loads(r[1]) for r in db.execute("SELECT method, method_identity FROM clip_scores")}
    assert methods["precomputed:outs"]["options"]["path"] == str(real / "outs")  # the label stays short
    assert set(r[0] for r in db.execute("SELECT dataset FROM clip_scores")) == {"folder:lr"}
    db.close()

    in_dir(b)
    assert main(["plot", "crops", str(a / "res"), "--out", "figs", "--format", "png"]) == 0
    assert any(p.suffix == ".png" for p in (b / "figs").rglob("*"))
    assert main(["report", str(a / "res")]) == 0
    assert (a / "res" / "report.html").is_file()
    assert main(["table", str(a / "res")]) == 0


def test_old_store_with_relative_paths_still_reads_from_its_folder(tmp_path: Path, in_dir) -> None:
    """A store written before paths were recorded absolute keeps working where it was made."""
    a = tmp_path / "A"
    gt = smooth_frames(3, 32, 48, seed=6)
    write_clip(a / "lr" / "c", [np.ascontiguousarray(f[::4, ::4]) for f in gt])
    write_clip(a / "gt" / "c", gt)
    in_dir(a)
    assert main(["run", "--datasets", "folder:lr", "--set", "folder.gt=gt", "--methods", "bicubic",
                 "--metrics", "psnr", "--out", "res", "--cache-dir", "cache", "--no-progress", "--no-html"]) == 0
    db = sqlite3.connect(a / "res" / "results.sqlite")
    (run_id, text) = db.execute("SELECT run_id, provenance FROM runs").fetchone()
    prov = json.loads(text)
    for d in prov["datasets"].values():  # as older versions stored them: typed, relative
        d["spec"], d["options"]["path"], d["options"]["gt"] = "folder:lr", "lr", "gt"
    db.execute("UPDATE runs SET provenance = ? WHERE run_id = ?", (json.dumps(prov), run_id))
    db.commit()
    db.close()
    assert os.getcwd() == str(a)
    assert main(["plot", "crops", "res", "--out", "figs", "--format", "png"]) == 0
