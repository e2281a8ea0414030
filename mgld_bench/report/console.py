"""The summary a run prints: the generic results table (markdown), plus value formatting."""

from __future__ import annotations

import math
from pathlib import Path


def run_summary(store_path: Path) -> str:
    """Markdown tables of a result store: one per dataset, methods x metrics, best in bold.

    A clip's value is the mean over its scored frames; a dataset's the mean over its clips.
    """
    from mgld_bench.report.aggregate import load_clip_scores, load_unavailable
    from mgld_bench.report.layouts import fill_kinds, layout_table
    from mgld_bench.report.table import render

    df = fill_kinds(load_clip_scores(store_path))
    if df.empty:
        return "no results\n"
    return render(layout_table(df, "generic", unavailable=load_unavailable(store_path)), "md")


def format_value(value: float, metric: str) -> str:
    """A value as printed on the console (PSNR with 2 decimals, others with 4)."""
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if abs(value) >= 100 or metric.startswith("psnr"):
        return f"{value:.2f}"
    return f"{value:.4f}"
