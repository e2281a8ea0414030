"""Comparison tables: build from aggregated scores, mark best/second, render md/LaTeX/CSV.

A :class:`Table` holds values keyed by (group, method, column).  A *group* is a dataset (or a
``dataset/clip`` for per-clip tables); a *column* is one (metric, protocol) pair, so numbers
made under different protocols never share a column: when a metric appears under two protocols
the table gets two columns, each labelled with its protocol.

Marks: within each (group, column), the best printed value is **bold** and the second-best
distinct printed value is underlined, following the metric's direction.  Values are compared
after rounding to the printed decimals, so entries that print the same are tied and get the
same mark (dense ranking: after a tie for best, the next value is second).  Missing values
are printed as an em dash and never marked.  Nothing is marked when fewer than two values are
present, and only the best when there are two (the other one is simply the worst).

Two orientations: ``methods-rows`` (one block per group, methods down, metrics across) and
``methods-columns`` (methods across, one row per group and metric, as in MGLD's Table 1).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from typing import Any

from mgld_bench.errors import BenchError
from mgld_bench.report.metric_facts import canonical_metric, default_decimals, display_name, metric_sort_key

BEST, SECOND = "best", "second"
ORIENTATIONS = ("methods-rows", "methods-columns")
FORMATS = ("md", "tex", "csv")


@dataclass(frozen=True)
class Column:
    """One table column: a metric under one protocol."""

    metric: str
    protocol: str
    higher_is_better: bool = True
    unit: str = ""
    kind: str = ""
    decimals: int = 4
    show_protocol: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.metric, self.protocol)

    def label(self, arrow_up: str = "↑", arrow_down: str = "↓") -> str:
        text = display_name(self.metric) + (arrow_up if self.higher_is_better else arrow_down)
        if self.unit:
            text += f" ({self.unit})"
        if self.show_protocol:
            text += f" [{self.protocol}]"
        return text


@dataclass
class Table:
    """Values for groups × methods × columns, plus notes printed under the table."""

    title: str
    groups: list[str]
    methods: list[str]
    columns: list[Column]
    values: dict[tuple[str, str, tuple[str, str]], float]
    counts: dict[tuple[str, str, tuple[str, str]], tuple[int, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Header of the group column in CSV output ("dataset", or "dataset/clip" per clip).
    group_label: str = "dataset"

    def value(self, group: str, method: str, col: Column) -> float:
        return self.values.get((group, method, col.key), float("nan"))

    def columns_of(self, group: str) -> list[Column]:
        """Columns with at least one value in ``group``."""
        return [c for c in self.columns if any((group, m, c.key) in self.values for m in self.methods)]

    def marks(self) -> dict[tuple[str, str, tuple[str, str]], str]:
        """best/second marks for every (group, method, column) that gets one."""
        out: dict[tuple[str, str, tuple[str, str]], str] = {}
        for group in self.groups:
            for col in self.columns:
                vals = {m: self.value(group, m, col) for m in self.methods}
                for method, mark in rank_marks(vals, col.higher_is_better, col.decimals).items():
                    out[(group, method, col.key)] = mark
        return out


def rank_marks(values: dict[str, float], higher_is_better: bool, decimals: int) -> dict[str, str]:
    """Best/second marks of ``values`` (name -> value), judged on values rounded to ``decimals``.

    Missing (NaN/None) values are skipped.  Ties share a mark; the second mark goes to the next
    distinct value.  Fewer than two present values: no marks; two values: only the best is
    marked (underlining the other would only say "worst").
    """
    present = {
        k: round(v, decimals) if math.isfinite(v) else v
        for k, v in values.items()
        if v is not None and not math.isnan(v)
    }
    if len(present) < 2:
        return {}
    distinct = sorted(set(present.values()), reverse=higher_is_better)
    out = {k: BEST for k, v in present.items() if v == distinct[0]}
    if len(present) > 2 and len(distinct) > 1:
        out.update({k: SECOND for k, v in present.items() if v == distinct[1]})
    return out


def format_number(value: float, decimals: int) -> str | None:
    """The printed number, or None when missing; infinities print as ``inf``/``-inf``."""
    if value is None or math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{decimals}f}"


# -- building ----------------------------------------------------------------------------------
def build_table(
    agg: Any,
    *,
    title: str = "",
    group_col: str = "dataset",
    metrics: list[str] | None = None,
    methods: list[str] | None = None,
    groups: list[str] | None = None,
    kinds: list[str] | None = None,
    decimals: dict[str, int] | None = None,
    notes: list[str] | None = None,
    reference: str | None = None,
) -> Table:
    """A :class:`Table` from aggregated values (the output of ``dataset_means``).

    ``metrics``/``methods``/``groups`` select and order (unknown names raise, listing the valid
    ones); ``kinds`` keeps only metrics of those kinds; ``decimals`` overrides per metric;
    ``reference`` is a method listed first (the rest alphabetically) when ``methods`` is not given.
    """
    df = agg
    if kinds:
        df = df[df["kind"].isin(kinds)]
    if metrics:  # older spellings (warping_error) name today's metric
        metrics = [canonical_metric(m) for m in metrics]
    decimals = {canonical_metric(k): v for k, v in (decimals or {}).items()}
    metrics = _select("metric", metrics, sorted(set(agg["metric"]), key=metric_sort_key))
    methods = _select("method", methods, _default_method_order(set(agg["method"]), reference))
    groups = _select(group_col, groups, sorted(set(agg[group_col])))
    df = df[df["metric"].isin(metrics) & df["method"].isin(methods) & df[group_col].isin(groups)]
    if df.empty:
        raise BenchError("no results left to tabulate after selecting metrics, methods and datasets")

    protocols_per_metric = df.groupby("metric")["protocol"].nunique().to_dict()
    columns: list[Column] = []
    for metric in metrics:
        sub = df[df["metric"] == metric]
        for protocol in sorted(set(sub["protocol"])):
            psub = sub[sub["protocol"] == protocol]
            directions = set(psub["higher_is_better"].map(bool))
            if len(directions) > 1:
                raise BenchError(f"metric {metric!r} is stored as both higher- and lower-is-better")
            dec = (decimals or {}).get(metric, default_decimals(metric, psub["value"].tolist()))
            columns.append(
                Column(
                    metric,
                    protocol,
                    directions.pop(),
                    unit=str(psub["unit"].iloc[0] or ""),
                    kind=str(psub["kind"].iloc[0] or ""),
                    decimals=int(dec),
                    show_protocol=protocols_per_metric.get(metric, 1) > 1,
                )
            )
    values: dict[tuple[str, str, tuple[str, str]], float] = {}
    counts: dict[tuple[str, str, tuple[str, str]], tuple[int, int]] = {}
    for row in df.itertuples(index=False):
        key = (getattr(row, group_col), row.method, (row.metric, row.protocol))
        values[key] = float(row.value)
        counts[key] = (int(getattr(row, "n_clips", 1)), int(getattr(row, "n_expected", 1)))
    table_notes = [*(notes or []), *protocol_notes(df), *metric_notes(df, columns),
                   *value_notes(df, columns, group_col)]
    used_groups = [g for g in groups if any(k[0] == g for k in values)]
    used_methods = [m for m in methods if any(k[1] == m for k in values)]
    table = Table(title, used_groups, used_methods, columns, values, counts, table_notes)
    incomplete = sorted(
        f"{g}/{m}/{c[0]}: {n}/{e} clips" for (g, m, c), (n, e) in counts.items() if n < e and (g, m, c) in values
    )
    if incomplete:
        table.notes.append("missing (not all clips scored): " + "; ".join(incomplete))
    return table


def protocol_notes(df: Any) -> list[str]:
    """One note per protocol: its name and the fields the tabulated metrics used."""
    import json

    notes = []
    for protocol in sorted(set(df["protocol"])):
        fields: dict[str, Any] = {}
        for text in set(df.loc[df["protocol"] == protocol, "protocol_fields"]):
            try:
                obj = json.loads(text or "{}")
            except ValueError:
                obj = {}
            if isinstance(obj, dict):
                fields.update({k: v for k, v in obj.items() if k != "name"})
        detail = ", ".join(f"{k}={v}" for k, v in sorted(fields.items()))
        notes.append(f"protocol {protocol}" + (f": {detail}" if detail else ""))
    return notes


def metric_notes(df: Any, columns: list[Column]) -> list[str]:
    """One note per column: the metric's resolved options and version, as stored in ``params``.

    These can differ from the protocol (``--set psnr.crop_border=4``), so they are printed too.
    """
    import json

    notes = []
    for col in columns:
        texts = set(df.loc[(df["metric"] == col.metric) & (df["protocol"] == col.protocol), "params"])
        try:
            params = json.loads(sorted(texts)[0] or "{}") if texts else {}
        except ValueError:
            params = {}
        if not isinstance(params, dict):
            continue
        options = params.get("options") or {}
        detail = ", ".join(f"{k}={v}" for k, v in sorted(options.items())) if isinstance(options, dict) else ""
        version = f"version {params['version']}" if "version" in params else ""
        parts = [p for p in (detail, version, params.get("backend", "")) if p]
        if parts:
            label = display_name(col.metric) + (f" [{col.protocol}]" if col.show_protocol else "")
            notes.append(f"{label}: " + "; ".join(str(p) for p in parts))
    return notes


def _options_of(df: Any, col: Column) -> dict[str, Any]:
    import json

    texts = sorted(set(df.loc[(df["metric"] == col.metric) & (df["protocol"] == col.protocol), "params"]))
    try:
        params = json.loads(texts[0] or "{}") if texts else {}
    except ValueError:
        return {}
    options = params.get("options") if isinstance(params, dict) else None
    return options if isinstance(options, dict) else {}


def value_notes(df: Any, columns: list[Column], group_col: str = "dataset") -> list[str]:
    """Notes on values that need a word: infinite per-frame values (PSNR of identical frames)
    and frame pairs flagged as likely scene cuts, counted per group and method."""
    if "inf_frames" not in df.columns:
        return []
    notes = []
    for col in columns:
        sub = df[(df["metric"] == col.metric) & (df["protocol"] == col.protocol)]
        label = display_name(col.metric) + (f" [{col.protocol}]" if col.show_protocol else "")
        options = _options_of(df, col)

        def where(name: str, sub: Any = sub) -> tuple[int, str]:
            hits = sub[sub[name] > 0]
            parts = [f"{r.method} on {getattr(r, group_col)}: {int(getattr(r, name))}" for r in hits.itertuples()]
            return int(hits[name].sum()), "; ".join(parts)

        n_inf, at = where("inf_frames")
        if n_inf:
            cap = (f"; cap per frame with --set {col.metric}.max_db=100 (see docs/metrics.md)"
                   if "max_db" in options and not options.get("max_db") else "")
            notes.append(
                f"{label}: {n_inf} per-frame value(s) are inf ({at}), e.g. a frame identical in SR and GT; "
                f"a clip or dataset holding one averages to inf{cap}"
            )
        n_cut, at = where("cut_pairs")
        if n_cut:
            ratio = options.get("cut_ratio", "")
            excluded = bool(sub["cuts_excluded"].sum())
            state = ("left out of the mean (exclude_cuts=true)" if excluded else
                     f"included in the mean; --set {col.metric}.exclude_cuts=true leaves them out")
            notes.append(
                f"{label}: {n_cut} frame pair(s) flagged as likely scene cuts (pair value > {ratio}x the "
                f"clip's median pair value; {at}), {state}"
            )
    return notes


def _default_method_order(names: set[str], reference: str | None = None) -> list[str]:
    """The reference method first (``--reference``, e.g. the bicubic baseline), the rest alphabetically."""
    return sorted(names, key=lambda n: (n != reference, n))


def _select(what: str, wanted: list[str] | None, available: list[str]) -> list[str]:
    if not wanted:
        return available
    unknown = [w for w in wanted if w not in available]
    if unknown:
        raise BenchError(f"unknown {what}(s) {', '.join(unknown)} in the results; available: {', '.join(available)}")
    return list(dict.fromkeys(wanted))


# -- rendering ----------------------------------------------------------------------------------
Block = tuple[str, list[str], list[list[str]]]


def _grid(table: Table, orientation: str, cell: Any, header: Any) -> list[Block]:
    """Blocks of (block title, header row, body rows) for either orientation."""
    if orientation not in ORIENTATIONS:
        raise BenchError(f"unknown orientation {orientation!r}; choose one of {', '.join(ORIENTATIONS)}")
    blocks = []
    if orientation == "methods-rows":
        for group in table.groups:
            cols = table.columns_of(group)
            head = ["Method", *(header(c) for c in cols)]
            body = [[m, *(cell(group, m, c) for c in cols)] for m in table.methods]
            blocks.append((group, head, body))
    else:
        head = [table.group_label.capitalize(), "Metric", *table.methods]
        body = []
        for group in table.groups:
            for c in table.columns_of(group):
                body.append([group, header(c), *(cell(group, m, c) for m in table.methods)])
        blocks.append(("", head, body))
    return blocks


def render_markdown(table: Table, orientation: str = "methods-rows") -> str:
    """GitHub-flavoured markdown: **best**, <ins>second</ins>, — for missing."""
    from tabulate import tabulate

    marks = table.marks()

    def cell(group: str, method: str, col: Column) -> str:
        text = format_number(table.value(group, method, col), col.decimals)
        if text is None:
            return "—"
        mark = marks.get((group, method, col.key))
        return f"**{text}**" if mark == BEST else f"<ins>{text}</ins>" if mark == SECOND else text

    parts = [f"## {table.title}\n"] if table.title else []
    for title, head, body in _grid(table, orientation, cell, lambda c: c.label()):
        if title:
            parts.append(f"### {title}\n")
        align = ["left"] * (2 if orientation == "methods-columns" else 1)
        align += ["right"] * (len(head) - len(align))
        parts.append(tabulate(body, headers=head, tablefmt="pipe", colalign=align, disable_numparse=True))
        parts.append("")
    parts.extend(f"* {n}" for n in table.notes)
    return "\n".join(parts).rstrip() + "\n"


LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "↑": r"$\uparrow$",
    "↓": r"$\downarrow$",
    "×": r"$\times$",
    "—": "---",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters (& % $ # _ { } ~ ^ \\ < >) in plain text."""
    return "".join(LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def render_latex(
    table: Table, orientation: str = "methods-rows", caption: str | None = None, label: str | None = None
) -> str:
    """A booktabs ``table`` environment: \\textbf best, \\underline second, --- for missing."""
    marks = table.marks()

    def cell(group: str, method: str, col: Column) -> str:
        text = format_number(table.value(group, method, col), col.decimals)
        if text is None:
            return "---"
        text = {"inf": r"$\infty$", "-inf": r"$-\infty$"}.get(text, text)
        mark = marks.get((group, method, col.key))
        return rf"\textbf{{{text}}}" if mark == BEST else rf"\underline{{{text}}}" if mark == SECOND else text

    def header(col: Column) -> str:
        return latex_escape(col.label())

    lines = [r"\begin{table}[t]", r"\centering"]
    if caption or table.title:
        lines.append(rf"\caption{{{latex_escape(caption or table.title)}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    blocks = _grid(table, orientation, cell, header)
    if orientation == "methods-rows":
        ncols = 1 + max(len(table.columns_of(g)) for g in table.groups)
        lines.append(r"\begin{tabular}{l" + "c" * (ncols - 1) + "}")
        lines.append(r"\toprule")
        one_header = len({tuple(h) for _, h, _ in blocks}) == 1
        if one_header:
            head0 = blocks[0][1]
            lines.append(" & ".join([latex_escape(head0[0]), *head0[1:]]) + r" \\")
            lines.append(r"\midrule")
        for i, (title, head, body) in enumerate(blocks):
            if i:
                lines.append(r"\midrule")
            if len(blocks) > 1:
                lines.append(rf"\multicolumn{{{ncols}}}{{l}}{{\textit{{{latex_escape(title)}}}}} \\")
            if not one_header:
                lines.append(" & ".join([latex_escape(head[0]), *head[1:]]) + r" \\")
                lines.append(r"\midrule")
            for row in body:
                row = row + [""] * (ncols - len(row))
                lines.append(" & ".join([latex_escape(row[0]), *row[1:]]) + r" \\")
    else:
        ((_, head, body),) = blocks
        lines.append(r"\begin{tabular}{ll" + "c" * len(table.methods) + "}")
        lines.append(r"\toprule")
        lines.append(" & ".join(latex_escape(h) for h in head) + r" \\")
        lines.append(r"\midrule")
        previous = None
        for row in body:
            group = row[0]
            if previous is not None and group != previous:
                lines.append(r"\midrule")
            first = latex_escape(group) if group != previous else ""
            lines.append(" & ".join([first, *row[1:]]) + r" \\")
            previous = group
    lines += [r"\bottomrule", r"\end{tabular}"]
    for note in table.notes:
        lines.append(rf"\par\smallskip{{\footnotesize {latex_escape(note)}}}")
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def render_csv(table: Table, orientation: str = "methods-rows") -> str:
    """CSV with full-precision values, no marks, empty cells for missing values."""

    def cell(group: str, method: str, col: Column) -> str:
        v = table.value(group, method, col)
        return "" if math.isnan(v) else repr(float(v))

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    blocks = _grid(table, orientation, cell, lambda c: c.label())
    if orientation == "methods-rows":
        cols = table.columns
        writer.writerow([table.group_label, "method", *(c.label() for c in cols)])
        for group in table.groups:
            for m in table.methods:
                if any((group, m, c.key) in table.values for c in cols):
                    writer.writerow([group, m, *(cell(group, m, c) for c in cols)])
    else:
        ((_, head, body),) = blocks
        writer.writerow([h.lower() if i < 2 else h for i, h in enumerate(head)])
        writer.writerows(body)
    return buf.getvalue()


def render(table: Table, fmt: str, orientation: str = "methods-rows", **kwargs: Any) -> str:
    """Render ``table`` as ``md``, ``tex`` or ``csv``."""
    if fmt == "md":
        return render_markdown(table, orientation)
    if fmt == "tex":
        return render_latex(table, orientation, **kwargs)
    if fmt == "csv":
        return render_csv(table, orientation)
    raise BenchError(f"unknown table format {fmt!r}; choose one of {', '.join(FORMATS)}")
