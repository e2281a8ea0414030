"""HTML of the report page: tables, notes, per-clip viewers and inline SVG curves.

Every text that comes from the store (dataset, clip and method names, reasons, command lines) goes
through :func:`esc` (HTML) or :func:`json_for_script` (the data block the script reads); the script
only ever sets ``textContent``, so a clip called ``<script>alert(1)</script>`` is shown as text.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
import shlex
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from mgld_bench.report.table import BEST, SECOND, Column, Table, format_number

#: Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), one per method.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
DEVICE_KEYS = ("device", "gpu", "cuda", "cudnn", "cpu")


def esc(text: Any) -> str:
    """Escape text for HTML element content and quoted attribute values."""
    return html.escape(str(text), quote=True)


def json_for_script(obj: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>`` or ``&`` left."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def json_number(value: float | None) -> float | str | None:
    """NaN -> None, ±inf -> "inf"/"-inf" (JSON has neither), finite values as they are."""
    if value is None or math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return float(value)


def static_text(name: str) -> str:
    """A file shipped next to this module (the stylesheet and the script)."""
    return resources.files("mgld_bench.report.html").joinpath(name).read_text(encoding="utf-8")


def csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def code_spans(text: str) -> str:
    """Escaped text with `backticked` parts as <code> (reasons name the command that fixes them)."""
    parts = re.split(r"`([^`]*)`", str(text))
    return "".join(f"<code>{esc(p)}</code>" if i % 2 else esc(p) for i, p in enumerate(parts))


# -- tables ------------------------------------------------------------------------------------
def _cell(table: Table, marks: dict, group: str, method: str, col: Column) -> str:
    value = table.value(group, method, col)
    text = format_number(value, col.decimals)
    mark = marks.get((group, method, col.key))
    cls = f' class="{mark}"' if mark in (BEST, SECOND) else ""
    sort = "" if text is None else ("Infinity" if text == "inf" else "-Infinity" if text == "-inf" else repr(value))
    shown = {BEST: f"<strong>{text}</strong>", SECOND: f"<u>{text}</u>"}.get(mark or "", text or "—")
    title = {BEST: ' title="best"', SECOND: ' title="second best"'}.get(mark or "", "")
    return f'<td data-v="{sort}"{cls}{title}>{shown}</td>'


def _header(col: Column) -> str:
    hib = "1" if col.higher_is_better else "0"
    tip = f"{'higher' if col.higher_is_better else 'lower'} is better; protocol {col.protocol}"
    return f'<th data-hib="{hib}" title="{esc(tip)}" tabindex="0">{esc(col.label())}</th>'


def means_tables(table: Table) -> str:
    """One sortable table per dataset (methods down, metrics across), as ``mgld-bench table``."""
    marks = table.marks()
    out = []
    for group in table.groups:
        cols = table.columns_of(group)
        head = '<th data-text="1" tabindex="0">Method</th>' + "".join(_header(c) for c in cols)
        rows = []
        for method in table.methods:
            if not any((group, method, c.key) in table.values for c in cols):
                continue
            cells = "".join(_cell(table, marks, group, method, c) for c in cols)
            rows.append(f'<tr><th scope="row" data-v="{esc(method)}">{esc(method)}</th>{cells}</tr>')
        out.append(
            f"<h3>{esc(group)}</h3>\n<table class=\"results sortable\"><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    return "\n".join(out)


def per_clip_tables(table: Table, pairs: Sequence[tuple[str, str]]) -> str:
    """Per dataset, one table of clip × method rows (best/second marked within each clip)."""
    marks = table.marks()
    out = []
    for dataset in dict.fromkeys(d for d, _ in pairs):
        groups = [(f"{d}/{c}", c) for d, c in pairs if d == dataset and f"{d}/{c}" in table.groups]
        if not groups:
            continue
        cols = [c for c in table.columns if any(c in table.columns_of(g) for g, _ in groups)]
        head = (
            '<th data-text="1" tabindex="0">Clip</th><th data-text="1" tabindex="0">Method</th>'
            + "".join(_header(c) for c in cols)
        )
        rows = []
        for group, clip in groups:
            for method in table.methods:
                if not any((group, method, c.key) in table.values for c in cols):
                    continue
                cells = "".join(_cell(table, marks, group, method, c) for c in cols)
                rows.append(
                    f'<tr><td data-v="{esc(clip)}">{esc(clip)}</td>'
                    f'<th scope="row" data-v="{esc(method)}">{esc(method)}</th>{cells}</tr>'
                )
        out.append(
            f"<h3>{esc(dataset)}</h3>\n<table class=\"results sortable\"><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    return "\n".join(out)


def notes_list(notes: Sequence[str]) -> str:
    return "<ul class=\"notes\">" + "".join(f"<li>{code_spans(n)}</li>" for n in notes) + "</ul>" if notes else ""


def weights_notes(runs: Sequence[dict[str, Any]], methods: Sequence[str], metrics: Sequence[str]) -> str:
    """The weight files of the methods and metrics shown, with their sha256 as the runs recorded it
    (the newest run naming each wins): 12 hex digits shown, the full digest in the tooltip."""
    from mgld_bench.report.metric_facts import canonical_metric

    recorded: dict[tuple[str, str], dict[str, str]] = {}
    for run in runs:  # oldest first: newer runs overwrite
        weights = (run.get("provenance") or {}).get("weights")
        if not isinstance(weights, dict):
            continue
        for kind in ("methods", "metrics"):
            for name, files in (weights.get(kind) or {}).items():
                if isinstance(files, dict):
                    key = canonical_metric(name) if kind == "metrics" else name
                    recorded[(kind, key)] = {str(f): str(d) for f, d in files.items()}
    if not recorded:
        return ('<p class="note weights">Weight digests: not recorded in this store (its runs predate them); '
                "rerun the same <code>mgld-bench run</code> to record them.</p>")
    items, none, unknown = [], [], []
    for kind, names in (("methods", methods), ("metrics", metrics)):
        for name in names:
            files = recorded.get((kind, name))
            if files is None:
                unknown.append(name)
            elif not files:
                none.append(name)
            else:
                digests = ", ".join(
                    f'<code>{esc(f)}</code> <code class="digest" title="sha256 {esc(d)}">'
                    + (esc(d) if d == "missing" else f"sha256:{esc(d[:12])}") + "</code>"
                    for f, d in sorted(files.items())
                )
                items.append(f"<li>{kind[:-1]} <strong>{esc(name)}</strong>: {digests}</li>")
    if none:
        items.append(f"<li>no weight files: {esc(', '.join(none))}</li>")
    if unknown:
        items.append(f"<li>not recorded: {esc(', '.join(unknown))}</li>")
    return ('<p class="note weights">Weight files (sha256 recorded by the run; hover a digest for all 64 '
            f'digits):</p><ul class="notes weights">{"".join(items)}</ul>')


# -- provenance and problems -------------------------------------------------------------------
def command_line(argv: Sequence[str]) -> str:
    """The recorded command line as one shell-quoted string, run as ``mgld-bench``."""
    args = list(argv[1:]) if argv else []
    return shlex.join(["mgld-bench", *args])


def provenance_block(runs: Sequence[dict[str, Any]]) -> str:
    """One entry per run (newest first): command, commit, versions, device, methods."""
    items = []
    for run in reversed(runs):
        prov = run.get("provenance") or {}
        git = prov.get("git") or {}
        commit = git.get("commit", "")
        dirty = " (uncommitted changes)" if git.get("dirty") else ""
        commit_text = commit + dirty if commit else "not a git checkout"
        rows = [
            ("command", f"<code>{esc(command_line(run.get('argv') or []))}</code>"),
            ("started / finished", esc(f"{run.get('started') or '?'} / {run.get('finished') or 'not finished'}")),
            ("mgld-bench", esc(f"{prov.get('mgld_bench', '?')}, commit {commit_text}")),
            ("python / platform", esc(f"{prov.get('python', '?')} / {prov.get('platform', '?')}")),
            ("device", esc(", ".join(f"{k}={prov[k]}" for k in DEVICE_KEYS if prov.get(k)))),
            ("packages", esc(", ".join(f"{k} {v}" for k, v in sorted((prov.get("packages") or {}).items())))),
            ("cache", esc(prov.get("cache_dir", ""))),
        ]
        for label, identity in sorted((prov.get("methods") or {}).items()):
            rows.append((f"method {label}", f"<code>{esc(json.dumps(identity, sort_keys=True))}</code>"))
        for label, spec in sorted((prov.get("datasets") or {}).items()):
            rows.append((f"dataset {label}", f"<code>{esc(json.dumps(spec, sort_keys=True))}</code>"))
        if prov.get("elapsed_s") is not None:
            rows.append(("elapsed", esc(f"{prov['elapsed_s']} s")))
        body = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows)
        items.append(
            f"<details><summary>run {esc(run.get('run_id', ''))}</summary>"
            f'<table class="prov">{body}</table></details>'
        )
    return "\n".join(items)


def fix_for(reason: str, argv: Sequence[str] | None = None) -> str:
    """The command that fixes a reason: the one it names in backticks, else a rerun."""
    named = re.findall(r"`([^`]+)`", reason)
    if named:
        return "; ".join(f"<code>{esc(c)}</code>" for c in dict.fromkeys(named))
    if "ground truth" in reason:
        return "score this metric on a dataset with ground truth, or leave it out of <code>--metrics</code>"
    if argv:
        return f"after fixing the cause, rerun <code>{esc(command_line(argv))}</code> (finished jobs are reused)"
    return "rerun the same <code>mgld-bench run</code> (finished jobs are reused)"


def problems_block(problems: Sequence[tuple[str, str, str]]) -> str:
    """(what, reason, fix-html) rows; nothing when every job and metric ran."""
    if not problems:
        return '<p class="ok">Every job finished and every requested metric was computed.</p>'
    rows = "".join(
        f"<tr><td>{esc(what)}</td><td>{code_spans(reason)}</td><td>{fix}</td></tr>" for what, reason, fix in problems
    )
    head = "<thead><tr><th>what</th><th>reason</th><th>fix</th></tr></thead>"
    return f'<table class="problems">{head}<tbody>{rows}</tbody></table>'


# -- per-frame curves ----------------------------------------------------------------------------
def curve_svg(
    title: str, series: Sequence[tuple[str, str, Sequence[tuple[int, float]]]], n_frames: int, width: int = 440,
    height: int = 150, x_label: str = "frame", cuts: Mapping[str, Sequence[int]] | None = None,
) -> str:
    """An inline SVG line chart: x = frame (or frame pair, ``x_label``), one polyline per
    (label, colour, points).

    Non-finite values break the line; infinite ones are marked by a triangle at the top edge
    (titled "inf").  ``cuts`` maps a series label to the frame pairs flagged as likely scene
    cuts; each is circled (``circle.cut``), as on the PNG/PDF curves.  A ``line.cursor`` marks the
    frame shown in the viewer.
    """
    left, right, top, bottom = 52, 8, 18, 22
    finite = [v for _, _, pts in series for _, v in pts if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.06
    lo, hi = lo - pad, hi + pad
    span = max(n_frames - 1, 1)

    def sx(f: float) -> float:
        return left + (width - left - right) * f / span

    def sy(v: float) -> float:
        return top + (height - top - bottom) * (hi - v) / (hi - lo)

    parts = [
        f'<svg class="curve" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'data-left="{left}" data-right="{width - right}" data-frames="{n_frames}" role="img">',
        f"<title>{esc(title)}</title>",
        f'<text x="{left}" y="12" class="ct">{esc(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}" class="frame"/>',
        f'<text x="{left - 4}" y="{sy(hi - pad) + 4:.1f}" class="yl">{esc(_short(hi - pad))}</text>',
        f'<text x="{left - 4}" y="{sy(lo + pad) + 4:.1f}" class="yl">{esc(_short(lo + pad))}</text>',
        f'<text x="{left}" y="{height - 6}" class="xl">0</text>',
        f'<text x="{width - right}" y="{height - 6}" class="xl end">{n_frames - 1}</text>',
        f'<text x="{(left + width - right) / 2:.0f}" y="{height - 6}" class="xl">{esc(x_label)}</text>',
    ]
    for label, colour, pts in series:
        runs: list[list[str]] = [[]]
        for f, v in pts:
            if math.isfinite(v):
                runs[-1].append(f"{sx(f):.1f},{sy(v):.1f}")
                continue
            if math.isinf(v):  # marked, not dropped: a triangle on the top edge
                x = sx(f)
                parts.append(
                    f'<path class="inf" d="M{x - 4:.1f},{top + 7} L{x + 4:.1f},{top + 7} L{x:.1f},{top} Z" '
                    f'fill="{colour}"><title>{esc(label)}: inf at {f}</title></path>'
                )
            if runs[-1]:
                runs.append([])
        flagged = set((cuts or {}).get(label, ()))
        for f, v in pts:
            if f in flagged and math.isfinite(v):
                parts.append(
                    f'<circle class="cut" cx="{sx(f):.1f}" cy="{sy(v):.1f}" r="5" fill="none" stroke="{colour}">'
                    f"<title>{esc(label)}: likely scene cut at pair {f}</title></circle>"
                )
        for run in runs:
            if len(run) == 1:
                x, y = run[0].split(",")
                parts.append(f'<circle cx="{x}" cy="{y}" r="2" fill="{colour}"><title>{esc(label)}</title></circle>')
            elif run:
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="1.5">'
                    f"<title>{esc(label)}</title></polyline>"
                )
    parts.append(f'<line class="cursor" x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _short(v: float) -> str:
    return f"{v:.4g}"


def legend(labels: Sequence[tuple[str, str]]) -> str:
    return '<p class="legend">' + "".join(
        f'<span><i style="background:{c}"></i>{esc(label)}</span>' for label, c in labels
    ) + "</p>"


# -- the page ------------------------------------------------------------------------------------
def render_page(
    *,
    title: str,
    means_html: str,
    clips_html: str,
    notes_html: str,
    problems_html: str,
    provenance_html: str,
    clip_sections: Sequence[str],
    toc: Sequence[tuple[str, str]],
    data: dict[str, Any],
) -> str:
    """The whole page; the stylesheet and script are inlined and pinned by a Content-Security-Policy."""
    css = static_text("report.css")
    js = static_text("report.js")
    csp = (
        "default-src 'none'; img-src 'self' file: data:; "
        f"style-src 'unsafe-inline'; script-src {csp_hash(js)}"
    )
    toc_html = "".join(f'<li><a href="#{esc(anchor)}">{esc(text)}</a></li>' for anchor, text in toc)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{esc(csp)}">
<title>{esc(title)}</title>
<style>{css}</style>
</head>
<body>
<header><h1>{esc(title)}</h1>
<nav><ul><li><a href="#results">Results</a></li><li><a href="#problems">Problems</a></li>
<li><a href="#provenance">Provenance</a></li>{toc_html}</ul></nav>
</header>
<main>
<section id="results">
<h2>Results</h2>
<p class="toggle" role="group" aria-label="values shown">
<button type="button" data-view="means" aria-pressed="true">dataset means</button><button type="button"
 data-view="clips" aria-pressed="false">per clip</button>
<span class="hint">click a column header to sort; <strong>bold</strong> best, <u>underlined</u> second</span></p>
<div class="view" data-view="means">{means_html}</div>
<div class="view" data-view="clips" hidden>{clips_html}</div>
{notes_html}
</section>
<section id="problems">
<h2>Unavailable metrics and failed jobs</h2>
{problems_html}
</section>
<section id="provenance">
<h2>Provenance</h2>
{provenance_html}
</section>
{"".join(clip_sections)}
</main>
<script type="application/json" id="report-data">{json_for_script(data)}</script>
<script>{js}</script>
</body>
</html>
"""
