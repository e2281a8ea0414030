"""Values as the console prints them."""

from __future__ import annotations

import math


def format_value(value: float, metric: str) -> str:
    """A value as printed on the console, with the metric's declared decimals (else 4)."""
    from mgld_bench.report.metric_facts import metric_facts

    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    decimals = metric_facts(metric).decimals
    return f"{value:.{2 if decimals is None and abs(value) >= 100 else (decimals if decimals is not None else 4)}f}"
