"""Read-only access to a run's ``results.sqlite`` (opened with ``mode=ro``: reports never write it).

The result store's own class (:class:`mgld_bench.store.results.ResultStore`) creates the file and
its schema when opened; reports must not, so they read through these small queries instead.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError


def _connect(path: Path) -> sqlite3.Connection:
    if not Path(path).is_file():
        raise BenchError(f"result store {path} does not exist")
    try:
        return sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BenchError(f"{path} is not a readable mgld-bench result store: {exc}") from exc


def query(path: Path, sql: str, args: tuple[Any, ...] = ()) -> Any:
    """Run a SELECT on the store and return a pandas DataFrame."""
    import pandas as pd

    db = _connect(path)
    try:
        return pd.read_sql_query(sql, db, params=args)
    except Exception as exc:
        raise BenchError(f"{path} is not a readable mgld-bench result store: {exc}") from exc
    finally:
        db.close()


def clip_scores(path: Path) -> Any:
    """All rows of ``clip_scores``."""
    return query(path, "SELECT * FROM clip_scores")


def frame_scores(path: Path, dataset: str | None = None, clip: str | None = None) -> Any:
    """Per-frame rows (optionally of one dataset / clip), ordered by frame; NULL values -> NaN."""
    where, args = [], []
    for col, val in (("dataset", dataset), ("clip", clip)):
        if val is not None:
            where.append(f"{col} = ?")
            args.append(val)
    sql = "SELECT dataset, method, clip, metric, protocol, frame, frame_id, value FROM frame_scores"
    if where:
        sql += " WHERE " + " AND ".join(where)
    df = query(path, sql + " ORDER BY dataset, clip, metric, protocol, method, frame", tuple(args))
    df["value"] = df["value"].astype(float)
    return df


def runs(path: Path) -> list[dict[str, Any]]:
    """The runs recorded in the store, oldest first, with argv and provenance decoded."""
    df = query(path, "SELECT run_id, started, finished, argv, provenance FROM runs ORDER BY started")
    out = []
    for row in df.to_dict("records"):
        row["argv"] = json.loads(row["argv"] or "[]")
        row["provenance"] = json.loads(row["provenance"] or "{}")
        out.append(row)
    return out


def unavailable(path: Path) -> Any:
    """Metrics the run could not compute, with the reason."""
    return query(path, "SELECT dataset, method, metric, reason FROM unavailable")
