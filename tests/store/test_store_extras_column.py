"""Stores written before ``clip_scores.extras`` existed stay readable, and gain it on the next write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mgld_bench.cli import main
from mgld_bench.store.results import ClipRecord, ResultStore

OLD_SCHEMA = """
CREATE TABLE runs (run_id TEXT PRIMARY KEY, started TEXT, finished TEXT, argv TEXT, provenance TEXT);
CREATE TABLE clip_scores (
    run_id TEXT, dataset TEXT, method TEXT, clip TEXT, metric TEXT, protocol TEXT,
    value REAL, n_frames INTEGER, higher_is_better INTEGER, kind TEXT, unit TEXT,
    params TEXT, protocol_fields TEXT, method_identity TEXT, infer_key TEXT, score_key TEXT,
    PRIMARY KEY (dataset, method, clip, metric, protocol));
CREATE TABLE frame_scores (dataset TEXT, method TEXT, clip TEXT, metric TEXT, protocol TEXT,
    frame INTEGER, frame_id TEXT, value REAL, PRIMARY KEY (dataset, method, clip, metric, protocol, frame));
CREATE TABLE unavailable (run_id TEXT, dataset TEXT, method TEXT, metric TEXT, reason TEXT);
"""


def _old_store(out: Path) -> Path:
    out.mkdir()
    path = out / "results.sqlite"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.execute("INSERT INTO runs VALUES ('r1', '2026-01-01', '2026-01-01', '[]', '{}')")
    db.execute(
        "INSERT INTO clip_scores VALUES ('r1', 'd', 'm', 'c', 'psnr', 'default', 31.5, 1, 1, 'full-reference', "
        "'dB', '{}', '{}', '{}', '', '')"
    )
    db.execute("INSERT INTO frame_scores VALUES ('d', 'm', 'c', 'psnr', 'default', 0, '0', 31.5)")
    db.commit()
    db.close()
    return path


def test_old_store_reads_and_gains_the_column_on_write(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _old_store(tmp_path / "out")
    assert main(["table", str(tmp_path / "out")]) == 0
    assert "31.50" in capsys.readouterr().out
    with ResultStore(path) as store:
        store.write("r2", ClipRecord("d", "m", "c2", "psnr", "default", float("inf"), {0: float("inf")},
                                     extras={"inf_frames": 1}))
        rows = {r["clip"]: r for r in store.clip_rows()}
    assert rows["c"]["extras"] is None and rows["c2"]["extras"] == '{"inf_frames": 1}'
    assert main(["table", str(tmp_path / "out"), "--per-clip"]) == 0
    assert "1 per-frame value(s) are inf (m on d/c2: 1)" in capsys.readouterr().out
