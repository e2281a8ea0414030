"""The summary a run prints: one markdown table per dataset and protocol, methods x metrics.

A clip's value is the mean over its scored frames (computed when scoring); a dataset's value is
the mean over its clips.  +inf (identical frames under PSNR) propagates into the means.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any


def aggregate(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, dict[str, dict[str, Any]]]]:
    """{(dataset, protocol): {method: {metric: {"value", "n_clips", "higher_is_better"}}}}."""
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["dataset"], row["protocol"], row["method"], row["metric"])].append(row)
    out: dict[tuple[str, str], dict[str, dict[str, dict[str, Any]]]] = {}
    for (ds, proto, method, metric), items in sorted(groups.items()):
        values = [float(r["value"]) for r in items]
        if any(math.isnan(v) for v in values):
            mean = float("nan")
        elif any(math.isinf(v) for v in values):
            mean = float("inf")
        else:
            mean = sum(values) / len(values)
        out.setdefault((ds, proto), {}).setdefault(method, {})[metric] = {
            "value": mean, "n_clips": len(items), "higher_is_better": bool(items[0]["higher_is_better"]),
            "unit": items[0].get("unit", ""),
        }
    return out


def format_value(value: float, metric: str) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if abs(value) >= 100:
        return f"{value:.2f}"
    if metric.startswith("psnr"):
        return f"{value:.2f}"
    return f"{value:.4f}"


def markdown_tables(rows: list[dict[str, Any]], unavailable: list[dict[str, Any]] | None = None) -> str:
    """Markdown with one table per (dataset, protocol)."""
    from tabulate import tabulate

    parts: list[str] = []
    for (ds, proto), methods in aggregate(rows).items():
        metrics: list[str] = []
        direction: dict[str, bool] = {}
        for per_metric in methods.values():
            for name, cell in per_metric.items():
                if name not in metrics:
                    metrics.append(name)
                    direction[name] = cell["higher_is_better"]
        headers = ["method"] + [f"{m} {'↑' if direction[m] else '↓'}" for m in metrics]
        body = [
            [method] + [format_value(per_metric[m]["value"], m) if m in per_metric else "—" for m in metrics]
            for method, per_metric in methods.items()
        ]
        n_clips = max(c["n_clips"] for pm in methods.values() for c in pm.values())
        parts.append(f"### {ds} — protocol `{proto}` ({n_clips} clips, mean over clips)\n")
        parts.append(tabulate(body, headers=headers, tablefmt="github"))
        parts.append("")
    for row in unavailable or []:
        parts.append(f"- {row['metric']} unavailable on {row['dataset']} ({row['method']}): {row['reason']}")
    return "\n".join(parts).rstrip() + "\n"
