"""Reading clip scores from a result store and aggregating them to dataset values.

Aggregation rule (recorded with every table): a **clip value** is what the metric stored for
the clip (for per-frame metrics, the mean over the protocol's scored frames); a **dataset
value** is the unweighted mean of the clip values over the dataset's clips, so a 31-frame clip
counts as much as a 100-frame one (the convention of BasicSR's VSR test scripts, which average
per-clip means).  A dataset value is reported only when the method has a finite or infinite
value for every clip that any method has for that metric and protocol on that dataset;
otherwise it is missing and the table says how many clips were scored.  This keeps two methods
in one column averaged over the same clips.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError

#: Columns a clip-score frame must have (the rest of the store's columns are optional).
REQUIRED_COLUMNS = ["dataset", "method", "clip", "metric", "protocol", "value"]

#: Optional columns and the value used when a CSV does not carry them.
OPTIONAL_DEFAULTS: dict[str, Any] = {
    "n_frames": 0,
    "higher_is_better": True,
    "kind": "",
    "unit": "",
    "params": "{}",
    "protocol_fields": "{}",
    "method_identity": "{}",
    "infer_key": "",
    "score_key": "",
    "run_id": "",
    "extras": "{}",
}

#: Counts read from each clip row's ``extras`` (tables print them under the column): frames
#: whose value is infinite, pairs flagged as likely scene cuts, and whether those were excluded.
EXTRA_COUNTS = ("inf_frames", "cut_pairs", "cuts_excluded")

#: Statement of the aggregation, printed under tables and in reports.
AGGREGATION_NOTE = (
    "dataset value = unweighted mean over clips of the clip values "
    "(clip value = mean over the protocol's scored frames)"
)

#: The column that identifies how a number was made, beyond its metric and protocol name.
IDENTITY_COLUMNS = ("params", "protocol_fields")


def resolve_store(source: Path | str) -> Path:
    """The results file of ``source``: a run folder, a ``.sqlite`` file or a ``.csv`` file.

    A run folder is searched for ``results.sqlite`` first, then ``results.csv``.
    """
    path = Path(source)
    if path.is_dir():
        for name in ("results.sqlite", "results.csv"):
            if (path / name).is_file():
                return path / name
        raise BenchError(
            f"{path} holds neither results.sqlite nor results.csv; pass the OUT folder of a "
            "`mgld-bench run` or a results file"
        )
    if not path.is_file():
        raise BenchError(f"results {path} do not exist; pass a run folder, results.sqlite or results.csv")
    if path.suffix.lower() not in (".sqlite", ".db", ".csv"):
        raise BenchError(f"{path}: expected a results.sqlite or results.csv file (got {path.suffix!r})")
    return path


def load_clip_scores(source: Path | str) -> Any:
    """The clip scores of a run folder or results file as a pandas DataFrame.

    Columns: :data:`REQUIRED_COLUMNS` plus :data:`OPTIONAL_DEFAULTS` (filled when absent);
    ``higher_is_better`` is bool, ``value`` float (NaN when missing).
    """
    import pandas as pd

    path = resolve_store(source)
    if path.suffix.lower() == ".csv":
        try:
            df = pd.read_csv(path, dtype={"clip": str, "dataset": str, "method": str})
        except Exception as exc:
            raise BenchError(f"cannot read {path} as CSV: {exc}") from exc
    else:
        df = _read_sqlite(path)
    return normalise_clip_frame(df, str(path))


def load_many(sources: list[Path] | list[str]) -> Any:
    """Clip scores of several run folders / results files, concatenated.

    A (dataset, method, clip, metric, protocol) present in two sources is an error naming both:
    which one to show is the user's choice (drop a source, or filter with ``--methods``).
    """
    import pandas as pd

    frames = []
    for source in sources:
        df = load_clip_scores(source)
        df["source"] = str(source)
        frames.append(df)
    if len(frames) == 1:
        return frames[0]
    df = pd.concat(frames, ignore_index=True)
    key = ["dataset", "method", "clip", "metric", "protocol"]
    dup = df[df.duplicated(key, keep=False)]
    if not dup.empty:
        first = dup.iloc[0]
        where = sorted(set(dup[(dup[key] == first[key]).all(axis=1)]["source"]))
        raise BenchError(
            f"{'/'.join(str(first[k]) for k in key)} is in more than one source ({', '.join(where)}); "
            "keep one of them (select methods with --methods)"
        )
    return df


def load_unavailable(source: Path | str) -> Any:
    """The store's unavailable rows (dataset, method, metric, reason); empty for a CSV."""
    import pandas as pd

    path = resolve_store(source)
    if path.suffix.lower() == ".csv":
        return pd.DataFrame(columns=["dataset", "method", "metric", "reason"])
    from mgld_bench.report.metric_facts import canonical_metric
    from mgld_bench.report.store_read import unavailable

    df = unavailable(path).drop_duplicates()
    if not df.empty:
        df["metric"] = df["metric"].map(canonical_metric)
    return df


def _read_sqlite(path: Path) -> Any:
    from mgld_bench.report.store_read import clip_scores

    return clip_scores(path)


def normalise_clip_frame(df: Any, label: str = "results") -> Any:
    """Check the required columns, fill optional ones, fix dtypes; raise naming ``label``."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise BenchError(
            f"{label} lacks the column(s) {', '.join(missing)}; expected a clip-score table with "
            f"{', '.join(REQUIRED_COLUMNS)}"
        )
    df = df.copy()
    for col, default in OPTIONAL_DEFAULTS.items():
        if col not in df.columns:
            df[col] = default
    df["value"] = df["value"].astype(float)
    df["higher_is_better"] = df["higher_is_better"].map(_as_bool)
    for col in ("dataset", "method", "clip", "metric", "protocol", "kind", "unit", *IDENTITY_COLUMNS):
        df[col] = df[col].fillna("").astype(str)
    counts = df["extras"].map(_extra_counts)
    for i, name in enumerate(EXTRA_COUNTS):
        df[name] = counts.map(lambda c, i=i: c[i]).astype(int)
    return with_declared_facts(df)


def _extra_counts(text: Any) -> tuple[int, int, int]:
    """(inf_frames, number of flagged cut pairs, cuts_excluded) from a row's ``extras`` JSON."""
    try:
        obj = json.loads(text) if isinstance(text, str) and text else {}
    except ValueError:
        obj = {}
    if not isinstance(obj, dict):
        obj = {}
    cuts = obj.get("cut_pairs") or []
    try:
        n_cuts = len(cuts) if isinstance(cuts, list) else 0
        return int(obj.get("inf_frames") or 0), n_cuts, int(bool(obj.get("cuts_excluded")))
    except (TypeError, ValueError):
        return 0, 0, 0


def with_declared_facts(df: Any) -> Any:
    """Metric names in today's spelling; an empty ``kind`` filled from the metric's facts."""
    from mgld_bench.report.metric_facts import canonical_metric, metric_facts

    if df.empty:
        return df
    df["metric"] = df["metric"].map(canonical_metric)
    missing = df["kind"] == ""
    if missing.any():
        df.loc[missing, "kind"] = df.loc[missing, "metric"].map(lambda m: metric_facts(m).kind)
    return df


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return bool(value)


#: Identity keys that describe the software, not the computation: a package upgrade changes
#: them without changing what is measured, so they never split a column or fail a comparison
#: (a real numerical change from an upgrade is caught by the values themselves).
SOFTWARE_KEYS = ("backend",)


@functools.lru_cache(maxsize=4096)
def canonical_json(text: str) -> str:
    """A JSON string re-serialised with sorted keys, without :data:`SOFTWARE_KEYS` (nor, in a
    metric's ``options``, the execution-only options its class declares).

    "" and invalid JSON are kept as-is.
    """
    try:
        obj = json.loads(text)
    except (TypeError, ValueError):
        return text
    if isinstance(obj, dict):
        obj = {k: v for k, v in obj.items() if k not in SOFTWARE_KEYS}
        if isinstance(obj.get("name"), str):  # an older spelling (warping_error) is the same metric
            from mgld_bench.report.metric_facts import canonical_metric

            obj["name"] = canonical_metric(obj["name"])
            if isinstance(obj.get("options"), dict):  # older rows kept execution-only options
                from mgld_bench.report.metric_facts import execution_options

                skip = execution_options(obj["name"])
                obj["options"] = {k: v for k, v in obj["options"].items() if k not in skip}
    return json.dumps(obj, sort_keys=True)


def describe_difference(a: str, b: str) -> str:
    """Name the keys whose values differ between two JSON objects (for error messages)."""
    try:
        da, db = json.loads(a or "{}"), json.loads(b or "{}")
    except ValueError:
        return f"{a!r} vs {b!r}"
    if not isinstance(da, dict) or not isinstance(db, dict):
        return f"{a!r} vs {b!r}"
    keys = sorted(k for k in set(da) | set(db) if da.get(k) != db.get(k))
    return ", ".join(f"{k}: {da.get(k)!r} vs {db.get(k)!r}" for k in keys)


def check_one_identity(df: Any, keys: list[str], what: str) -> None:
    """Refuse rows that share ``keys`` but differ in how the number was made.

    Two values in one table cell group (same metric and protocol) must have the same resolved
    metric options and protocol fields; otherwise they are not comparable and the error names
    the field that differs.
    """
    for col in IDENTITY_COLUMNS:
        if col not in df.columns or df.empty:
            continue
        canon = df[col].map({t: canonical_json(t) for t in set(df[col])})
        counts = canon.groupby([df[k] for k in keys]).nunique()
        bad = counts[counts > 1]
        if bad.empty:
            continue
        group = bad.index[0]
        group = group if isinstance(group, tuple) else (group,)
        mask = (df[keys] == list(group)).all(axis=1)
        variants = sorted(set(canon[mask]))
        raise BenchError(
            f"{what}: values for {', '.join(f'{k}={v}' for k, v in zip(keys, group, strict=True))} "
            f"were made with different {col} ({describe_difference(variants[0], variants[1])}); "
            + (
                "they cannot share a column -- keep one: `mgld-bench forget OUT --run RUN_ID` drops a run's rows "
                f"(runs here: {', '.join(sorted(set(df.loc[mask, 'run_id'])))})"
                if "run_id" in df.columns
                else "they cannot share a column -- score them under different protocol names or select one of them"
            )
        )


def planned_conflicts(source: Path | str, planned: list[dict[str, Any]]) -> list[str]:
    """What a run would add to ``source`` (a results.sqlite) that :func:`check_one_identity`
    would later refuse: one line per (dataset, metric, protocol) whose rows in the store were
    made with other metric options or protocol fields, and are not all rewritten by the run.

    ``planned``: dicts with ``dataset``, ``metric`` (its label), ``protocol``, ``params`` and
    ``protocol_fields`` (JSON, as the store writes them) and ``rewrites`` (the (method, clip)
    pairs the run writes).  The store is only read."""
    from mgld_bench.report.metric_facts import canonical_metric

    path = Path(source)
    if not path.is_file():
        return []
    df = _read_sqlite(path)
    if df.empty:
        return []
    df["metric"] = df["metric"].map(canonical_metric)
    lines = []
    for plan in planned:
        same = df[(df["dataset"] == plan["dataset"]) & (df["metric"] == canonical_metric(plan["metric"]))
                  & (df["protocol"] == plan["protocol"])]
        for col in IDENTITY_COLUMNS:
            want = canonical_json(plan[col])
            for row in same.itertuples():
                if (row.method, row.clip) in plan["rewrites"] or canonical_json(getattr(row, col)) == want:
                    continue
                lines.append(
                    f"metric {plan['metric']} on {plan['dataset']} under protocol {plan['protocol']}: {path.parent} "
                    f"holds rows of run {row.run_id} (e.g. {row.method} on {row.clip}) made with other {col} "
                    f"({describe_difference(canonical_json(getattr(row, col)), want)}), which cannot share a column "
                    f"with this run's -- use another --out, or drop those rows first: "
                    f"mgld-bench forget {path.parent} --run {row.run_id}"
                )
                break
            else:
                continue
            break
    return lines


def held_settings(source: Path | str) -> dict[str, set[str]]:
    """The datasets, metrics and protocols the rows of ``source`` (a results.sqlite) hold (empty
    sets for a missing or empty store).  Read only."""
    from mgld_bench.report.metric_facts import canonical_metric

    path = Path(source)
    df = _read_sqlite(path) if path.is_file() else None
    if df is None or df.empty:
        return {"datasets": set(), "metrics": set(), "protocols": set()}
    return {"datasets": set(df["dataset"]), "metrics": {canonical_metric(m) for m in df["metric"]},
            "protocols": set(df["protocol"])}


def dataset_means(df: Any) -> Any:
    """Aggregate clip scores to one value per (dataset, method, metric, protocol).

    Returns a DataFrame with the columns ``dataset, method, metric, protocol, value, n_clips,
    n_expected, higher_is_better, kind, unit, params, protocol_fields``; ``value`` is NaN when
    the method misses a clip (or has a NaN clip value) that another method has (see the module
    docstring).
    """
    import numpy as np
    import pandas as pd

    cols = [
        "dataset",
        "method",
        "metric",
        "protocol",
        "value",
        "n_clips",
        "n_expected",
        "higher_is_better",
        "kind",
        "unit",
        "params",
        "protocol_fields",
        *EXTRA_COUNTS,
    ]
    if df.empty:
        return pd.DataFrame(columns=cols)
    check_one_identity(df, ["dataset", "metric", "protocol"], "results")
    expected = df.groupby(["dataset", "metric", "protocol"])["clip"].nunique()
    rows = []
    for (dataset, method, metric, protocol), grp in df.groupby(["dataset", "method", "metric", "protocol"], sort=False):
        vals = grp["value"].to_numpy(dtype=float)
        n_exp = int(expected[(dataset, metric, protocol)])
        complete = len(grp["clip"].unique()) == n_exp and not np.isnan(vals).any()
        rows.append(
            {
                "dataset": dataset,
                "method": method,
                "metric": metric,
                "protocol": protocol,
                "value": _mean(vals) if complete else float("nan"),
                "n_clips": int((~np.isnan(vals)).sum()),
                "n_expected": n_exp,
                "higher_is_better": bool(grp["higher_is_better"].iloc[0]),
                "kind": grp["kind"].iloc[0],
                "unit": grp["unit"].iloc[0],
                "params": grp["params"].iloc[0],
                "protocol_fields": grp["protocol_fields"].iloc[0],
                **{name: int(grp[name].sum()) if name in grp else 0 for name in EXTRA_COUNTS},
            }
        )
    return pd.DataFrame(rows, columns=cols)


def _mean(values: Any) -> float:
    """Mean that keeps +inf (identical frames give infinite PSNR) and NaN for mixed infinities."""
    import numpy as np

    if len(values) == 0:
        return float("nan")
    inf = np.isinf(values)
    if inf.any():
        signs = set(np.sign(values[inf]).tolist())
        return float("nan") if len(signs) > 1 else float(np.sign(values[inf][0]) * np.inf)
    return float(np.mean(values.astype(np.float64)))


def clip_values(df: Any) -> Any:
    """Clip scores in the same shape as :func:`dataset_means` (each clip a one-clip set)."""
    check_one_identity(df, ["dataset", "metric", "protocol"], "results")
    out = df.copy()
    out["n_clips"] = (~out["value"].isna()).astype(int)
    out["n_expected"] = 1
    return out
