"""Labels that never collide in one result store.

A dataset read from a path files its rows under a short label (``folder:clips``).  Two different
folders with the same base name would share it, so the store keeps a ``sources`` table
(kind, label, source; created with the rest of the schema by ``ResultStore``): the first
source keeps the short label, another one gets ``~2``, ``~3`` ... appended, and the same source
always gets its label back.  The table is updated in one ``BEGIN IMMEDIATE`` transaction, so
concurrent runs into one folder agree.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any


def claim(db: sqlite3.Connection, kind: str, label: str, source: str) -> str:
    """The label ``source`` files under: its own if recorded, else ``label`` or the first free ``label~N``."""
    db.commit()
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute("SELECT label FROM sources WHERE kind = ? AND source = ?", (kind, source)).fetchone()
        if row is not None:
            db.execute("COMMIT")
            return str(row[0])
        taken = {r[0] for r in db.execute("SELECT label FROM sources WHERE kind = ?", (kind,))}
        chosen, n = label, 1
        while chosen in taken:
            n += 1
            chosen = f"{label}~{n}"
        db.execute("INSERT INTO sources VALUES (?, ?, ?)", (kind, chosen, source))
        db.execute("COMMIT")
        return chosen
    except BaseException:
        db.execute("ROLLBACK")
        raise


def dataset_source(options: dict[str, Any]) -> str | None:
    """What identifies a path dataset's data: its resolved ``path`` and ``gt`` (None: not a path dataset)."""
    if not options.get("path"):
        return None
    src = {k: str(Path(str(options[k])).expanduser().resolve()) for k in ("path", "gt") if options.get(k)}
    return json.dumps(src, sort_keys=True)


def claim_dataset_labels(db: sqlite3.Connection, datasets: list[Any]) -> None:
    """Give every path dataset of ``datasets`` a label no other source uses in this store."""
    for ds in datasets:
        source = dataset_source(ds.options)
        if source is None:
            continue
        label = ds.label
        final = claim(db, "dataset", label, source)
        if final != label:
            ds.label_override = final


def planned_dataset_label(path: Path, ds: Any) -> str:
    """The label ``ds`` would get in the store at ``path`` (:func:`claim_dataset_labels`), read
    without writing anything."""
    source = dataset_source(ds.options)
    if source is None or not path.is_file():
        return ds.label
    db = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, timeout=30)
    try:
        rows = db.execute("SELECT label, source FROM sources WHERE kind = 'dataset'").fetchall()
    except sqlite3.OperationalError:  # no sources table yet
        return ds.label
    finally:
        db.close()
    mine = [label for label, src in rows if src == source]
    if mine:
        return str(mine[0])
    taken = {label for label, _ in rows}
    chosen, n = ds.label, 1
    while chosen in taken:
        n += 1
        chosen = f"{ds.label}~{n}"
    return chosen
