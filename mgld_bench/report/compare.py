"""Regression check of one run's results against a reference results file.

Every (dataset, method, metric, protocol) of the reference -- and, at ``level="clip"``, every
clip -- is looked up in the current results and classified:

``pass``      within tolerance (see :mod:`mgld_bench.report.tolerances`);
``improved``  better than the reference by more than the tolerance (passes; fails with
              ``two_sided=True``, for determinism checks);
``regressed`` worse than the reference by more than the tolerance (fails);
``missing``   in the reference but absent or NaN in the current results (fails);
``mismatch``  present in both but made with different metric options or protocol fields (fails,
              naming the field: such numbers are not comparable);
``new``       only in the current results (passes; reported for information).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError
from mgld_bench.report.aggregate import (
    AGGREGATION_NOTE,
    canonical_json,
    clip_values,
    dataset_means,
    describe_difference,
    load_clip_scores,
)
from mgld_bench.report.metric_facts import display_name
from mgld_bench.report.tolerances import DEFAULT_TOLERANCES, Tolerance, tolerance_for

PASS, IMPROVED, REGRESSED, MISSING, MISMATCH, NEW = ("pass", "improved", "regressed", "missing", "mismatch", "new")
LEVELS = ("dataset", "clip")


@dataclass
class Comparison:
    """One compared value."""

    dataset: str
    method: str
    metric: str
    protocol: str
    clip: str
    reference: float
    current: float
    higher_is_better: bool
    allowed: float
    status: str
    detail: str = ""

    @property
    def delta(self) -> float:
        """current − reference (NaN when either is missing; 0 for equal infinities)."""
        if self.current == self.reference:
            return 0.0
        return self.current - self.reference

    @property
    def failed(self) -> bool:
        return self.status in (REGRESSED, MISSING, MISMATCH) or self.detail == "two-sided"

    @property
    def where(self) -> str:
        return f"{self.dataset}/{self.clip}" if self.clip else self.dataset


@dataclass
class CompareResult:
    """All comparisons, with the inputs' names and the tolerances used."""

    current: str
    reference: str
    level: str
    rows: list[Comparison]
    tolerances: dict[str, Tolerance]

    @property
    def failures(self) -> list[Comparison]:
        return [r for r in self.rows if r.failed]

    @property
    def passed(self) -> bool:
        return not self.failures


def classify(
    reference: float, current: float, higher_is_better: bool, tol: Tolerance, two_sided: bool = False
) -> tuple[str, float, str]:
    """(status, allowed change, detail) of one value against its reference."""
    allowed = tol.allowed(reference)
    ref_missing, cur_missing = math.isnan(reference), math.isnan(current)
    if ref_missing:
        return (PASS if cur_missing else NEW), allowed, "reference has no value"
    if cur_missing:
        return MISSING, allowed, "no value in the current results"
    if current == reference:
        return PASS, allowed, ""
    gain = (current - reference) if higher_is_better else (reference - current)
    if math.isnan(gain) or abs(gain) <= allowed:
        return PASS, allowed, ""
    if gain < 0:
        return REGRESSED, allowed, ""
    return IMPROVED, allowed, "two-sided" if two_sided else ""


def compare(
    current: Any,
    reference: Any,
    *,
    tolerances: dict[str, Tolerance] | None = None,
    level: str = "dataset",
    two_sided: bool = False,
    current_name: str = "current",
    reference_name: str = "reference",
) -> CompareResult:
    """Compare two clip-score frames (as from ``load_clip_scores``) at ``level``."""
    if level not in LEVELS:
        raise BenchError(f"unknown comparison level {level!r}; choose one of {', '.join(LEVELS)}")
    tolerances = tolerances or DEFAULT_TOLERANCES
    clip_sets: dict[str, dict[tuple[str, ...], set[str]]] = {}
    if level == "dataset":
        cur, ref = dataset_means(current), dataset_means(reference)
        cur["clip"], ref["clip"] = "", ""
        clip_sets = {"cur": _clip_sets(current), "ref": _clip_sets(reference)}
    else:
        cur, ref = clip_values(current), clip_values(reference)
    keys = ["dataset", "method", "metric", "protocol", "clip"]
    cur_index = {tuple(r[k] for k in keys): r for r in cur.to_dict("records")}
    rows: list[Comparison] = []
    for r in ref.to_dict("records"):
        key = tuple(r[k] for k in keys)
        tol = tolerance_for(r["metric"], tolerances)
        c = cur_index.pop(key, None)
        if c is None:
            rows.append(
                Comparison(
                    *key[:4],
                    key[4],
                    float(r["value"]),
                    float("nan"),
                    bool(r["higher_is_better"]),
                    tol.allowed(r["value"]),
                    MISSING,
                    "absent from the current results",
                )
            )
            continue
        mismatch = _identity_mismatch(r, c)
        if clip_sets and not mismatch:
            lost = sorted(clip_sets["ref"].get(key[:4], set()) - clip_sets["cur"].get(key[:4], set()))
            extra = sorted(clip_sets["cur"].get(key[:4], set()) - clip_sets["ref"].get(key[:4], set()))
            if lost:
                rows.append(
                    Comparison(
                        *key[:4],
                        "",
                        float(r["value"]),
                        float(c["value"]),
                        bool(r["higher_is_better"]),
                        tol.allowed(r["value"]),
                        MISSING,
                        f"clips not scored: {_few(lost)}",
                    )
                )
                continue
            if extra:
                mismatch = f"the mean covers clips the reference lacks: {_few(extra)}"
        if mismatch:
            rows.append(
                Comparison(
                    *key[:4],
                    key[4],
                    float(r["value"]),
                    float(c["value"]),
                    bool(r["higher_is_better"]),
                    tol.allowed(r["value"]),
                    MISMATCH,
                    mismatch,
                )
            )
            continue
        status, allowed, detail = classify(
            float(r["value"]), float(c["value"]), bool(r["higher_is_better"]), tol, two_sided
        )
        rows.append(
            Comparison(
                *key[:4],
                key[4],
                float(r["value"]),
                float(c["value"]),
                bool(r["higher_is_better"]),
                allowed,
                status,
                detail,
            )
        )
    for key, c in cur_index.items():
        tol = tolerance_for(c["metric"], tolerances)
        rows.append(
            Comparison(
                *key[:4],
                key[4],
                float("nan"),
                float(c["value"]),
                bool(c["higher_is_better"]),
                tol.allowed(float("nan")),
                NEW,
                "not in the reference",
            )
        )
    rows.sort(key=lambda x: (x.dataset, x.clip, x.method, x.metric, x.protocol))
    return CompareResult(current_name, reference_name, level, rows, tolerances)


def _clip_sets(df: Any) -> dict[tuple[str, ...], set[str]]:
    """(dataset, method, metric, protocol) -> the clips with a value."""
    out: dict[tuple[str, ...], set[str]] = {}
    cols = ["dataset", "method", "metric", "protocol", "clip"]
    for r in df[~df["value"].isna()][cols].itertuples(index=False):
        out.setdefault(tuple(r[:4]), set()).add(r[4])
    return out


def _few(names: list[str], limit: int = 5) -> str:
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _identity_mismatch(ref: dict[str, Any], cur: dict[str, Any]) -> str:
    for col in ("params", "protocol_fields"):
        a, b = canonical_json(str(ref.get(col) or "{}")), canonical_json(str(cur.get(col) or "{}"))
        if a != b and a not in ("", "{}") and b not in ("", "{}"):
            return f"{col} differ: {describe_difference(a, b)} (reference vs current)"
    return ""


def compare_paths(current: Path | str, reference: Path | str, **kwargs: Any) -> CompareResult:
    """:func:`compare` on two run folders or results files."""
    return compare(
        load_clip_scores(current),
        load_clip_scores(reference),
        current_name=str(current),
        reference_name=str(reference),
        **kwargs,
    )


# -- rendering ----------------------------------------------------------------------------------
def _fmt(value: float) -> str:
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


def _fmt_delta(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:+.6g}"


STATUS_TEXT = {
    PASS: "ok",
    IMPROVED: "improved",
    NEW: "new",
    REGRESSED: "**FAIL: regressed**",
    MISSING: "**FAIL: missing**",
    MISMATCH: "**FAIL: mismatch**",
}


def render_markdown(result: CompareResult) -> str:
    """The regression report: verdict, one table per dataset, the tolerances used."""
    from tabulate import tabulate

    fails = result.failures
    counts = {s: sum(r.status == s for r in result.rows) for s in STATUS_TEXT}
    verdict = "PASS" if result.passed else "FAIL"
    lines = [
        "# mgld-bench regression report",
        "",
        f"**{verdict}**: {len(fails)} failing of {len(result.rows)} compared values "
        f"({', '.join(f'{n} {s}' for s, n in counts.items() if n)}).",
        "",
        f"* current: `{result.current}`",
        f"* reference: `{result.reference}`",
        f"* level: {result.level} ({AGGREGATION_NOTE})" if result.level == "dataset" else "* level: clip",
        "* a value fails when it is worse than the reference by more than "
        "max(abs, rel × |reference|), in the metric's direction",
        "",
    ]
    for dataset in sorted({r.dataset for r in result.rows}):
        lines.append(f"## {dataset}")
        lines.append("")
        body = []
        for r in (x for x in result.rows if x.dataset == dataset):
            status = STATUS_TEXT[r.status]
            if r.detail == "two-sided":
                status = "**FAIL: changed**"
            elif r.detail and r.status != PASS:
                status += f" ({r.detail})"
            metric = display_name(r.metric) + ("↑" if r.higher_is_better else "↓")
            body.append(
                [
                    r.method,
                    *([r.clip] if result.level == "clip" else []),
                    metric,
                    r.protocol,
                    _fmt(r.reference),
                    _fmt(r.current),
                    _fmt_delta(r.delta),
                    f"±{r.allowed:.3g}",
                    status,
                ]
            )
        head = [
            "method",
            *(["clip"] if result.level == "clip" else []),
            "metric",
            "protocol",
            "reference",
            "current",
            "delta",
            "tolerance",
            "status",
        ]
        lines.append(tabulate(body, headers=head, tablefmt="pipe", disable_numparse=True))
        lines.append("")
    used = sorted({r.metric for r in result.rows})
    if used:
        lines += ["## Tolerances", ""]
        tol_rows = []
        for m in used:
            t = tolerance_for(m, result.tolerances)
            tol_rows.append([m, f"{t.abs:g}", f"{t.rel:g}", t.reason])
        lines.append(
            tabulate(tol_rows, headers=["metric", "abs", "rel", "reason"], tablefmt="pipe", disable_numparse=True)
        )
        lines.append("")
    return "\n".join(lines)


def render_junit(result: CompareResult) -> str:
    """JUnit XML: one test suite per dataset, one test case per compared value."""
    suites = ET.Element(
        "testsuites", name="mgld-bench compare", tests=str(len(result.rows)), failures=str(len(result.failures))
    )
    for dataset in sorted({r.dataset for r in result.rows}):
        rows = [r for r in result.rows if r.dataset == dataset]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=dataset,
            tests=str(len(rows)),
            failures=str(sum(r.failed for r in rows)),
            errors="0",
            skipped="0",
        )
        for r in rows:
            name = f"{r.metric}[{r.protocol}]" + (f"/{r.clip}" if r.clip else "")
            case = ET.SubElement(suite, "testcase", classname=f"mgld-bench.{dataset}.{r.method}", name=name, time="0")
            text = (
                f"reference={_fmt(r.reference)} current={_fmt(r.current)} "
                f"delta={_fmt_delta(r.delta)} tolerance=±{r.allowed:.3g}"
            )
            if r.failed:
                kind = "changed" if r.detail == "two-sided" else r.status
                failure = ET.SubElement(
                    case, "failure", type=kind, message=f"{kind}: {text}" + (f" ({r.detail})" if r.detail else "")
                )
                failure.text = text
            else:
                ET.SubElement(case, "system-out").text = f"{r.status}: {text}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
