"""Named table layouts, including MGLD's Table 1 and Table 2.

* ``generic``: one block per dataset, methods down, every metric across.
* ``mgld-table1``: MGLD's Table 1 -- methods across, one row per dataset and metric, image
  quality metrics only (full-reference and no-reference); synthetic sets with GT list their
  full-reference (and any no-reference) metrics, VideoLQ-style sets without GT their
  no-reference metrics, because a metric a dataset cannot have simply has no row there.
* ``mgld-table2``: MGLD's Table 2 -- temporal consistency (warping error), methods across, one
  row per dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mgld_bench.errors import BenchError
from mgld_bench.report.aggregate import AGGREGATION_NOTE, clip_values, dataset_means
from mgld_bench.report.table import Table, build_table


@dataclass(frozen=True)
class Layout:
    name: str
    title: str
    orientation: str
    kinds: tuple[str, ...] | None = None


LAYOUTS: dict[str, Layout] = {
    "generic": Layout("generic", "Results", "methods-rows"),
    "mgld-table1": Layout(
        "mgld-table1",
        "Quantitative comparison (best in bold, second underlined)",
        "methods-columns",
        ("full-reference", "no-reference"),
    ),
    "mgld-table2": Layout(
        "mgld-table2",
        "Temporal consistency: warping error (best in bold, second underlined)",
        "methods-columns",
        ("temporal",),
    ),
}


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise BenchError(f"unknown table layout {name!r}; choose one of {', '.join(LAYOUTS)}") from None


def fill_kinds(df: Any) -> Any:
    """Fill an empty ``kind`` from the metric's declared facts."""
    from mgld_bench.report.metric_facts import metric_kind

    missing = df["kind"].fillna("") == ""
    if not missing.any():
        return df
    df = df.copy()
    df.loc[missing, "kind"] = df.loc[missing, "metric"].map(metric_kind)
    return df


def layout_table(
    clip_df: Any,
    layout: str = "generic",
    *,
    per_clip: bool = False,
    metrics: list[str] | None = None,
    methods: list[str] | None = None,
    datasets: list[str] | None = None,
    decimals: dict[str, int] | None = None,
    title: str | None = None,
    unavailable: Any = None,
    reference: str | None = None,
) -> Table:
    """The table of ``layout`` from clip scores (per dataset, or per clip with ``per_clip``).

    ``unavailable``: the store's unavailable rows (dataset, method, metric, reason); those that
    concern this table become notes, so a metric missing for lack of weights is explained.
    """
    spec = get_layout(layout)
    df = fill_kinds(clip_df)
    if datasets:
        unknown = sorted(set(datasets) - set(df["dataset"]))
        if unknown:
            raise BenchError(
                f"unknown dataset(s) {', '.join(unknown)} in the results; available: "
                f"{', '.join(sorted(set(df['dataset'])))}"
            )
        df = df[df["dataset"].isin(datasets)]
    if spec.kinds:
        kept = df[df["kind"].isin(spec.kinds)]
        if kept.empty:
            raise BenchError(
                f"layout {layout!r} shows {' and '.join(spec.kinds)} metrics, but the results hold "
                f"only {', '.join(sorted(set(df['metric'])))}"
            )
        df = kept
    if per_clip:
        agg = clip_values(df)
        agg["group"] = agg["dataset"] + "/" + agg["clip"]
        note = "per-clip values (clip value = mean over the protocol's scored frames)"
        order = None
        if datasets:
            order = [g for d in datasets for g in sorted(set(agg.loc[agg["dataset"] == d, "group"]))]
    else:
        agg = dataset_means(df)
        agg["group"] = agg["dataset"]
        note = AGGREGATION_NOTE
        order = list(dict.fromkeys(datasets)) if datasets else None
    notes = [note, *unavailable_notes(unavailable, spec, metrics, methods, datasets)]
    table = build_table(
        agg,
        title=spec.title if title is None else title,
        group_col="group",
        metrics=metrics,
        methods=methods,
        groups=order,
        decimals=decimals,
        notes=notes,
        reference=reference,
    )
    table.group_label = "dataset/clip" if per_clip else "dataset"
    return table


def unavailable_notes(
    rows: Any, spec: Layout, metrics: list[str] | None, methods: list[str] | None, datasets: list[str] | None
) -> list[str]:
    """ "n/a" notes for the unavailable metrics this table would show."""
    if rows is None or len(rows) == 0:
        return []
    import re

    from mgld_bench.report.metric_facts import metric_kind

    grouped: dict[tuple[str, str, str], list[str]] = {}
    for r in rows.to_dict("records"):
        kind = metric_kind(r["metric"])
        if spec.kinds and kind and kind not in spec.kinds:
            continue
        if (metrics and r["metric"] not in metrics) or (methods and r["method"] not in methods):
            continue
        if datasets and r["dataset"] not in datasets:
            continue
        files = re.findall(r"weight file (\S+) missing", str(r["reason"]))
        reason = (
            f"weight file(s) {', '.join(files)} missing; see `mgld-bench weights list`" if files else str(r["reason"])
        )
        grouped.setdefault((r["metric"], r["dataset"], reason), []).append(r["method"])
    return sorted(
        f"n/a: {metric} on {dataset} ({', '.join(sorted(set(methods)))}): {reason}"
        for (metric, dataset, reason), methods in grouped.items()
    )
