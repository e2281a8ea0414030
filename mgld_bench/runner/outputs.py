"""Writing a run's flat outputs (CSV, markdown) atomically."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from mgld_bench.store.cache import atomic_write_bytes

CSV_COLUMNS = [
    "dataset", "method", "clip", "metric", "value", "protocol", "n_frames", "higher_is_better", "unit",
    "params", "protocol_fields", "method_identity",
]


def write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """One row per dataset, method, clip and metric, with the protocol that produced it."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in sorted(rows, key=lambda r: (r["dataset"], r["method"], r["clip"], r["metric"], r["protocol"])):
        out = dict(row)
        out["value"] = repr(float(row["value"]))
        out["higher_is_better"] = int(bool(row["higher_is_better"]))
        for key in ("params", "protocol_fields", "method_identity"):
            if not isinstance(out.get(key), str):
                out[key] = json.dumps(out.get(key), sort_keys=True)
        writer.writerow(out)
    atomic_write_bytes(path, buf.getvalue().encode())
