"""Read-only access to a run's ``results.sqlite`` through the store's own read-only mode.

Reports never create or change a store; every function here opens it with
``ResultStore(path, readonly=True)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mgld_bench.store.results import ResultStore


def query(path: Path, sql: str, args: tuple[Any, ...] = ()) -> Any:
    """Run a SELECT on the store and return a pandas DataFrame."""
    with ResultStore(path, readonly=True) as store:
        return store.query(sql, args)


def clip_scores(path: Path) -> Any:
    """All rows of ``clip_scores``."""
    return query(path, "SELECT * FROM clip_scores")


def frame_scores(path: Path, dataset: str | None = None, clip: str | None = None) -> Any:
    """Per-frame rows (optionally of one dataset / clip), ordered by frame; NULL values -> NaN."""
    with ResultStore(path, readonly=True) as store:
        return frame_frame(store, dataset, clip)


def frame_frame(store: ResultStore, dataset: str | None = None, clip: str | None = None) -> Any:
    """:func:`frame_scores` from an open store."""
    where, args = [], []
    for col, val in (("dataset", dataset), ("clip", clip)):
        if val is not None:
            where.append(f"{col} = ?")
            args.append(val)
    sql = "SELECT dataset, method, clip, metric, protocol, frame, frame_id, value FROM frame_scores"
    if where:
        sql += " WHERE " + " AND ".join(where)
    df = store.query(sql + " ORDER BY dataset, clip, metric, protocol, method, frame", tuple(args))
    df["value"] = df["value"].astype(float)
    return df


def runs(path: Path) -> list[dict[str, Any]]:
    """The runs recorded in the store, oldest first, with argv and provenance decoded."""
    with ResultStore(path, readonly=True) as store:
        return store.runs()


def unavailable(path: Path) -> Any:
    """Metrics the run could not compute, with the reason."""
    return query(path, "SELECT dataset, method, metric, reason FROM unavailable")
