"""The SQLite result store: every per-frame and per-clip value with its protocol and provenance.

One store per run folder (``OUT/results.sqlite``).  A clip's values are written in one
transaction, so a failure leaves either all of a clip's rows for a metric or none.  Rerunning
into the same folder replaces rows with the same (dataset, method, clip, metric, protocol).

Labels never collide in one store: a dataset read from a path files its rows under a short
label (``folder:clips``), and two different folders with the same base name would share it, so
the store keeps a ``sources`` table (kind, label, source): the first source keeps the short
label, another one gets ``~2``, ``~3`` ... appended, and the same source always gets its label
back.  The table is updated in one ``BEGIN IMMEDIATE`` transaction, so concurrent runs into one
folder agree.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, started TEXT, finished TEXT, argv TEXT, provenance TEXT
);
CREATE TABLE IF NOT EXISTS clip_scores (
    run_id TEXT, dataset TEXT, method TEXT, clip TEXT, metric TEXT, protocol TEXT,
    value REAL, n_frames INTEGER, higher_is_better INTEGER, kind TEXT, unit TEXT,
    params TEXT, protocol_fields TEXT, method_identity TEXT, infer_key TEXT, score_key TEXT, extras TEXT,
    PRIMARY KEY (dataset, method, clip, metric, protocol)
);
CREATE TABLE IF NOT EXISTS frame_scores (
    dataset TEXT, method TEXT, clip TEXT, metric TEXT, protocol TEXT,
    frame INTEGER, frame_id TEXT, value REAL,
    PRIMARY KEY (dataset, method, clip, metric, protocol, frame)
);
CREATE TABLE IF NOT EXISTS unavailable (
    run_id TEXT, dataset TEXT, method TEXT, metric TEXT, reason TEXT
);
CREATE TABLE IF NOT EXISTS sources (
    kind TEXT, label TEXT, source TEXT, PRIMARY KEY (kind, source)
);
"""

CLIP_COLUMNS = [
    "dataset",
    "method",
    "clip",
    "metric",
    "value",
    "protocol",
    "n_frames",
    "higher_is_better",
    "kind",
    "unit",
    "params",
    "protocol_fields",
    "method_identity",
    "infer_key",
    "score_key",
    "run_id",
]


_INSERT_COLUMNS = (
    "run_id", "dataset", "method", "clip", "metric", "protocol", "value", "n_frames", "higher_is_better", "kind",
    "unit", "params", "protocol_fields", "method_identity", "infer_key", "score_key", "extras",
)


def _real(value: float) -> float | None:
    """SQLite cannot hold NaN (it becomes NULL); inf is kept."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


@dataclass
class ClipRecord:
    """One metric's result on one clip, with everything that identifies how it was made."""

    dataset: str
    method: str
    clip: str
    metric: str
    protocol: str
    value: float
    frames: dict[int, float]
    frame_ids: dict[int, str] = field(default_factory=dict)
    higher_is_better: bool = True
    kind: str = ""
    unit: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    protocol_fields: dict[str, Any] = field(default_factory=dict)
    method_identity: dict[str, Any] = field(default_factory=dict)
    infer_key: str = ""
    score_key: str = ""
    #: What the metric reports beside the value (JSON): ``inf_frames`` (per-frame values that
    #: are infinite: identical SR and GT for PSNR), ``cut_pairs`` (pairs flagged as likely scene
    #: cuts), ``cuts_excluded``, and the metric's own extras.
    extras: dict[str, Any] = field(default_factory=dict)


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Stores written before a column existed get it (NULL in old rows); reads treat NULL as empty."""
    have = {r[1] for r in db.execute("PRAGMA table_info(clip_scores)")}
    if "extras" not in have:
        db.execute("ALTER TABLE clip_scores ADD COLUMN extras TEXT")
        db.commit()


def claim_label(db: sqlite3.Connection, kind: str, label: str, source: str) -> str:
    """The label ``source`` files under: its own if recorded, else ``label`` or the first free ``label~N``."""
    db.commit()
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute("SELECT label FROM sources WHERE kind = ? AND source = ?", (kind, source)).fetchone()
        if row is not None:
            db.execute("COMMIT")
            return str(row[0])
        taken = {r[0] for r in db.execute("SELECT label FROM sources WHERE kind = ?", (kind,))}
        chosen = _free_label(label, taken)
        db.execute("INSERT INTO sources VALUES (?, ?, ?)", (kind, chosen, source))
        db.execute("COMMIT")
        return chosen
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _free_label(label: str, taken: set[str]) -> str:
    chosen, n = label, 1
    while chosen in taken:
        n += 1
        chosen = f"{label}~{n}"
    return chosen


def dataset_source(options: Any) -> str | None:
    """What identifies a path dataset's data: its resolved ``path`` and ``gt`` (None: not a path dataset)."""
    if not options.get("path"):
        return None
    src = {k: str(Path(str(options[k])).expanduser().resolve()) for k in ("path", "gt") if options.get(k)}
    return json.dumps(src, sort_keys=True)


def _create_with_schema(path: Path) -> None:
    """Make ``path`` a store holding the schema, in one step: the schema is written to a file
    beside it, which is then linked into place only if nothing is there yet.  A concurrent run or
    reader never sees a store file without its tables (``sqlite3.connect`` alone creates an empty
    file first)."""
    from mgld_bench.fileio import temp_beside

    fd, tmp = temp_beside(path)
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        try:
            db.executescript(SCHEMA)
            db.commit()
        finally:
            db.close()
        try:
            os.link(tmp, path)
        except FileExistsError:  # another run created it meanwhile: use theirs
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


class ResultStore:
    """Read and write ``results.sqlite`` -- the one owner of its schema.

    ``readonly=True`` opens an existing store without creating or changing anything (reports
    use it); a missing file is then an error.
    """

    def __init__(self, path: Path | str, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if readonly and not self.path.is_file():
            raise BenchError(f"result store {self.path} does not exist")
        try:
            if readonly:
                self._db = sqlite3.connect(f"file:{self.path.resolve()}?mode=ro", uri=True, timeout=30)
                self._db.execute("SELECT 1 FROM clip_scores LIMIT 1")
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if not self.path.exists():
                    _create_with_schema(self.path)
                self._db = sqlite3.connect(self.path, timeout=30)
                self._db.executescript(SCHEMA)
                _add_missing_columns(self._db)
        except sqlite3.DatabaseError as exc:
            raise BenchError(f"{self.path} is not a readable mgld-bench result store: {exc}") from exc

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        """Run a SELECT and return a pandas DataFrame."""
        import pandas as pd

        try:
            return pd.read_sql_query(sql, self._db, params=args)
        except Exception as exc:
            raise BenchError(f"{self.path} is not a readable mgld-bench result store: {exc}") from exc

    @contextmanager
    def snapshot(self) -> Iterator[ResultStore]:
        """Every read inside sees one consistent state of the store (one read transaction)."""
        self._db.execute("BEGIN")
        try:
            yield self
        finally:
            self._db.execute("COMMIT")

    def claim_dataset_labels(self, datasets: list[Any]) -> None:
        """Give every path dataset of ``datasets`` a label no other source uses in this store
        (relabelled through its ``label_override``)."""
        for ds in datasets:
            source = dataset_source(ds.options)
            if source is None:
                continue
            final = claim_label(self._db, "dataset", ds.label, source)
            if final != ds.label:
                ds.label_override = final

    def planned_dataset_label(self, ds: Any) -> str:
        """The label ``ds`` would get here (:meth:`claim_dataset_labels`), read without writing anything."""
        source = dataset_source(ds.options)
        if source is None:
            return ds.label
        try:
            rows = self._db.execute("SELECT label, source FROM sources WHERE kind = 'dataset'").fetchall()
        except sqlite3.OperationalError:  # no sources table yet
            return ds.label
        mine = [label for label, src in rows if src == source]
        return str(mine[0]) if mine else _free_label(ds.label, {label for label, _ in rows})

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db:
                yield self._db
        except sqlite3.OperationalError as exc:
            if "disk is full" in str(exc):
                from mgld_bench.errors import DiskFullError

                raise DiskFullError(self.path.parent, f"writing {self.path.name}") from exc
            raise

    # -- writing -----------------------------------------------------------------------------
    def start_run(self, argv: list[str], provenance: dict[str, Any]) -> str:
        run_id = uuid.uuid4().hex[:12]
        with self._tx() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, NULL, ?, ?)",
                (run_id, _now(), json.dumps(argv), json.dumps(provenance, sort_keys=True)),
            )
        return run_id

    def finish_run(self, run_id: str, provenance: dict[str, Any] | None = None) -> None:
        """Mark the run finished, merging ``provenance`` into what was recorded at its start."""
        with self._tx() as db:
            row = db.execute("SELECT provenance FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            merged = {**json.loads(row[0] or "{}"), **(provenance or {})} if row else (provenance or {})
            db.execute(
                "UPDATE runs SET finished = ?, provenance = ? WHERE run_id = ?",
                (_now(), json.dumps(merged, sort_keys=True), run_id),
            )

    def write(self, run_id: str, rec: ClipRecord) -> None:
        """Write one clip's value and all its per-frame values in one transaction."""
        key = (rec.dataset, rec.method, rec.clip, rec.metric, rec.protocol)
        with self._tx() as db:
            db.execute(
                "DELETE FROM frame_scores WHERE dataset=? AND method=? AND clip=? AND metric=? AND protocol=?",
                key,
            )
            db.execute(
                f"INSERT OR REPLACE INTO clip_scores ({', '.join(_INSERT_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(_INSERT_COLUMNS))})",
                (
                    run_id,
                    *key,
                    _real(rec.value),
                    len(rec.frames),
                    int(rec.higher_is_better),
                    rec.kind,
                    rec.unit,
                    json.dumps(rec.params, sort_keys=True),
                    json.dumps(rec.protocol_fields, sort_keys=True),
                    json.dumps(rec.method_identity, sort_keys=True),
                    rec.infer_key,
                    rec.score_key,
                    json.dumps(rec.extras, sort_keys=True, default=str),
                ),
            )
            db.executemany(
                "INSERT INTO frame_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(*key, int(i), rec.frame_ids.get(i, str(i)), _real(v)) for i, v in sorted(rec.frames.items())],
            )

    def mark_unavailable(self, run_id: str, dataset: str, method: str, metric: str, reason: str) -> None:
        with self._tx() as db:  # one row per (dataset, method, metric): the latest reason
            db.execute(
                "DELETE FROM unavailable WHERE dataset = ? AND method = ? AND metric = ?", (dataset, method, metric)
            )
            db.execute("INSERT INTO unavailable VALUES (?, ?, ?, ?, ?)", (run_id, dataset, method, metric, reason))

    def forget(self, run_id: str | None = None, **where: str | None) -> int:
        """Delete the clip rows (and their frame rows and unavailable marks) of ``run_id`` and/or
        matching ``dataset``, ``method``, ``metric``, ``protocol``; return how many clip rows went.
        At least one condition is required."""
        conds = {k: v for k, v in {"run_id": run_id, **where}.items() if v is not None}
        bad = set(conds) - {"run_id", "dataset", "method", "metric", "protocol"}
        if bad or not conds:
            got = ", ".join(sorted(bad)) or "none"
            raise BenchError(f"forget: give a run or a dataset, method, metric or protocol (got {got})")
        sql = " AND ".join(f"{k} = ?" for k in conds)
        args = tuple(conds.values())
        keys = "dataset, method, clip, metric, protocol"
        with self._tx() as db:
            gone = db.execute(f"SELECT {keys} FROM clip_scores WHERE {sql}", args).fetchall()
            db.executemany(
                "DELETE FROM frame_scores WHERE dataset=? AND method=? AND clip=? AND metric=? AND protocol=?", gone
            )
            db.execute(f"DELETE FROM clip_scores WHERE {sql}", args)
            na = {k: v for k, v in conds.items() if k != "protocol"}
            if na:
                db.execute(f"DELETE FROM unavailable WHERE {' AND '.join(f'{k} = ?' for k in na)}", tuple(na.values()))
        return len(gone)

    # -- reading -----------------------------------------------------------------------------
    def clip_rows(self) -> list[dict[str, Any]]:
        """Every clip-level row as a dict with the columns of ``CLIP_COLUMNS`` (and ``extras``,
        in stores that have it)."""
        have = {r[1] for r in self._db.execute("PRAGMA table_info(clip_scores)")}
        cols = [*CLIP_COLUMNS, *(["extras"] if "extras" in have else [])]
        cur = self._db.execute(f"SELECT {', '.join(cols)} FROM clip_scores")
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        for row in rows:
            if row["value"] is None:
                row["value"] = float("nan")
            row["higher_is_better"] = bool(row["higher_is_better"])
        return rows

    def frame_rows(
        self,
        dataset: str | None = None,
        method: str | None = None,
        clip: str | None = None,
        metric: str | None = None,
    ) -> list[dict[str, Any]]:
        """Per-frame rows, optionally filtered."""
        cols = ["dataset", "method", "clip", "metric", "protocol", "frame", "frame_id", "value"]
        where, args = [], []
        for col, val in (("dataset", dataset), ("method", method), ("clip", clip), ("metric", metric)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        sql = f"SELECT {', '.join(cols)} FROM frame_scores"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY dataset, method, clip, metric, protocol, frame"
        rows = [dict(zip(cols, r, strict=True)) for r in self._db.execute(sql, args).fetchall()]
        for row in rows:
            if row["value"] is None:
                row["value"] = float("nan")
        return rows

    def unavailable_rows(self) -> list[dict[str, Any]]:
        cols = ["run_id", "dataset", "method", "metric", "reason"]
        return [dict(zip(cols, r, strict=True)) for r in self._db.execute(f"SELECT {', '.join(cols)} FROM unavailable")]

    def runs(self) -> list[dict[str, Any]]:
        cols = ["run_id", "started", "finished", "argv", "provenance"]
        out = []
        for r in self._db.execute(f"SELECT {', '.join(cols)} FROM runs ORDER BY started"):
            row = dict(zip(cols, r, strict=True))
            row["argv"] = json.loads(row["argv"] or "[]")
            row["provenance"] = json.loads(row["provenance"] or "{}")
            out.append(row)
        return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
