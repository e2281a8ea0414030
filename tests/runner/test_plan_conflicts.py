"""Rows that could not share a column are refused when the plan is built, before anything is written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mgld_bench.cli import main

SMALL = ["--set", "synthetic.frames=3", "--set", "synthetic.size=32", "--clips", "pan", "--no-html", "--no-progress"]


def _run(tmp_path: Path, out: Path, *args: str) -> int:
    return main(["run", "--out", str(out), "--cache-dir", str(tmp_path / "c"), *SMALL, *args])


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _age_rows(out: Path, method: str, metric: str) -> str:
    """Make ``method``'s ``metric`` rows look as an older metric version made them; return their run id."""
    with sqlite3.connect(out / "results.sqlite") as db:
        db.execute("UPDATE clip_scores SET params = replace(params, '\"version\": 1', '\"version\": 0') "
                   "WHERE method = ? AND metric = ?", (method, metric))
        return db.execute("SELECT run_id FROM clip_scores WHERE method = ?", (method,)).fetchone()[0]


def test_a_conflicting_run_is_refused_before_anything_changes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert _run(tmp_path, out, "--methods", "nearest", "--metrics", "psnr") == 0
    run_id = _age_rows(out, "nearest", "psnr")
    before = _files(out)
    capsys.readouterr()
    assert _run(tmp_path, out, "--methods", "bicubic", "--metrics", "psnr") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mgld-bench: error: metric psnr on synthetic")
    assert "version: 0 vs 1" in err[0] and f"mgld-bench forget {out} --run {run_id}" in err[0]
    assert "another --out" in err[0]
    assert _files(out) == before  # the store and every report byte for byte
    # the fix it names works, and the run then goes through
    assert main(["forget", str(out), "--run", run_id]) == 0
    assert _run(tmp_path, out, "--methods", "bicubic", "--metrics", "psnr") == 0


def test_a_broken_folder_is_fixed_by_forget(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert _run(tmp_path, out, "--methods", "nearest", "--metrics", "psnr") == 0
    assert _run(tmp_path, out, "--methods", "bicubic", "--metrics", "psnr") == 0
    old = _age_rows(out, "nearest", "psnr")  # as an older mgld-bench left it: two versions in one column
    capsys.readouterr()
    assert main(["table", str(out)]) != 0
    err = capsys.readouterr().err
    assert "cannot share a column" in err and "mgld-bench forget OUT --run RUN_ID" in err and old in err
    assert main(["forget", str(out)]) == 0  # lists the runs
    assert old in capsys.readouterr().out
    assert main(["forget", str(out), "--run", old]) == 0
    assert main(["table", str(out)]) == 0
    table = capsys.readouterr().out
    assert "bicubic" in table and "nearest" not in table.split("dropped")[-1]


def test_other_metric_options_get_their_own_column(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert _run(tmp_path, out, "--metrics", "psnr,tof") == 0
    assert _run(tmp_path, out, "--metrics", "psnr,tof", "--set", "tof.tecogan_crop=false",
                "--set", "psnr.crop_border=2") == 0
    capsys.readouterr()
    assert main(["table", str(out)]) == 0
    table = capsys.readouterr().out
    assert "tOF[tecogan_crop=False]" in table and "tOF↓" in table
    assert "default[crop_border=2]" in table
    with sqlite3.connect(out / "results.sqlite") as db:
        metrics = {r[0] for r in db.execute("SELECT DISTINCT metric FROM clip_scores")}
    assert metrics == {"psnr", "tof", "tof[tecogan_crop=False]"}


def _notes(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if "already holds results of other" in ln]


def test_adding_to_an_out_with_other_settings_says_so_once(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert _run(tmp_path, out, "--metrics", "psnr") == 0
    assert not _notes(capsys.readouterr().err)  # a new folder: quiet
    assert _run(tmp_path, out, "--metrics", "psnr", "--methods", "nearest") == 0
    assert not _notes(capsys.readouterr().err)  # adding a method to the comparison: quiet
    assert _run(tmp_path, out, "--metrics", "ssim") == 0
    notes = _notes(capsys.readouterr().err)
    assert len(notes) == 1 and "other metrics (psnr; this run adds ssim)" in notes[0]
    assert f"--out {tmp_path / 'NAME'}" in notes[0]
    assert _run(tmp_path, out, "--metrics", "psnr", "--methods", "bicubic") == 0
    assert not _notes(capsys.readouterr().err)  # fewer metrics than OUT holds: nothing new, quiet
