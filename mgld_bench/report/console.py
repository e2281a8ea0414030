"""The summary a run prints (the generic results table, markdown), plus value formatting."""

from __future__ import annotations

import math
from pathlib import Path


def run_summary(store_path: Path, reference: str | None = None) -> str:
    """Markdown tables of a result store: one per dataset, methods x metrics, best in bold.

    A clip's value is the mean over its scored frames; a dataset's the mean over its clips.
    """
    from mgld_bench.report.run_reports import read_snapshot, summary_table

    return summary_table(read_snapshot(store_path), reference)


def format_value(value: float, metric: str) -> str:
    """A value as printed on the console, with the metric's declared decimals (else 4)."""
    from mgld_bench.report.metric_facts import metric_facts

    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    decimals = metric_facts(metric).decimals
    return f"{value:.{2 if decimals is None and abs(value) >= 100 else (decimals if decimals is not None else 4)}f}"
