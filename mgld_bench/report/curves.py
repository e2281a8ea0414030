"""Per-frame metric curves: one figure per clip, one panel per metric, one line per method.

A dip or a saw-tooth in a per-frame curve is often the first sign of flicker or of a failing
frame that the clip mean hides.  Each y axis carries the metric's declared unit; temporal metrics
are drawn against the frame pair (t -> t+1) their value belongs to.  Infinite values (PSNR of a
frame identical in SR and GT) cannot be drawn as points: they are marked with a triangle at the
top of the panel, labelled "inf", never silently dropped.  Frame pairs a temporal metric flagged
as likely scene cuts (``extras["cut_pairs"]`` in the store) are circled.

PNG and PDF are drawn with matplotlib (``mgld-bench plot curves``); SVG (what ``run`` writes) is
drawn by :func:`curves_svg` with the page's chart code, without importing matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError
from mgld_bench.report.figures import pyplot, safe_name, save_figure
from mgld_bench.report.metric_facts import axis_labels, canonical_metric, display_name, metric_sort_key

#: (dataset, clip, method, metric, protocol) -> frame pairs flagged as likely scene cuts
CutMarks = dict[tuple[str, str, str, str, str], list[int]]


def cut_marks(clip_df: Any) -> CutMarks:
    """The flagged scene-cut pairs of every clip row that has some (from its ``extras`` JSON)."""
    import json

    marks: CutMarks = {}
    if clip_df is None or "extras" not in getattr(clip_df, "columns", ()):
        return marks
    for row in clip_df.itertuples(index=False):
        try:
            extras = json.loads(row.extras) if isinstance(row.extras, str) and row.extras else {}
        except ValueError:
            continue
        cuts = extras.get("cut_pairs") if isinstance(extras, dict) else None
        if cuts:
            key = (row.dataset, row.clip, row.method, canonical_metric(row.metric), row.protocol)
            marks[key] = [int(c) for c in cuts]
    return marks


def _panels(
    frames: Any, metrics: Sequence[str] | None, title: str
) -> tuple[list[tuple[str, str]], bool]:
    """The (metric, protocol) panels of a clip's frame scores, in table order; and whether they
    use more than one protocol."""
    keys = sorted(
        {(m, p) for m, p in zip(frames["metric"], frames["protocol"], strict=True)},
        key=lambda k: (metric_sort_key(k[0]), k[1]),
    )
    if metrics:
        wanted = {canonical_metric(m) for m in metrics}
        keys = [k for k in keys if k[0] in wanted]
    if not keys:
        raise BenchError(f"{title or 'clip'}: no per-frame scores to plot")
    return keys, len({p for _, p in keys}) > 1


def _y_label(metric: str, protocol: str, directions: dict[str, bool] | None, several_protocols: bool) -> str:
    arrow = ""
    if directions and metric in directions:
        arrow = "↑" if directions[metric] else "↓"
    return display_name(metric) + arrow + axis_labels(metric)[1] + (f" [{protocol}]" if several_protocols else "")


#: Style of the standalone curves SVG (the page's classes, without the page's stylesheet).
SVG_STYLE = (
    "text{font-family:sans-serif;font-size:10px;fill:#555}.ct{font-size:11px;fill:#111}"
    ".yl,.end{text-anchor:end}.frame{fill:none;stroke:#bbb}.cursor{display:none}.title{font-size:13px;fill:#111}"
)


def curves_svg(
    frames: Any,
    title: str = "",
    methods: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    directions: dict[str, bool] | None = None,
    cuts: dict[tuple[str, str, str], list[int]] | None = None,
    width: int = 640,
    panel_height: int = 170,
) -> str:
    """The per-frame curves of one clip as one standalone SVG document (arguments as
    :func:`curves_figure`): a title, a legend, then one panel per metric, one line per method;
    infinite values are triangles at the top edge and flagged scene cuts are circled."""
    from mgld_bench.report.html.page import PALETTE, curve_svg, esc

    keys, several_protocols = _panels(frames, metrics, title)
    method_order = list(methods) if methods else sorted(set(frames["method"]))
    colours = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(method_order)}
    n_frames = int(frames["frame"].max()) + 1 if len(frames) else 1
    top = 46
    body = []
    for k, (metric, protocol) in enumerate(keys):
        sub = frames[(frames["metric"] == metric) & (frames["protocol"] == protocol)]
        series = []
        for method in method_order:
            line = sub[sub["method"] == method].sort_values("frame")
            if len(line):
                pts = [(int(f), float(v)) for f, v in zip(line["frame"], line["value"], strict=True)]
                series.append((method, colours[method], pts))
        flagged = {m: list(v) for (m, me, p), v in (cuts or {}).items() if me == metric and p == protocol}
        chart = curve_svg(_y_label(metric, protocol, directions, several_protocols), series, max(n_frames, 1),
                          width=width, height=panel_height, x_label=axis_labels(metric)[0], cuts=flagged)
        body.append(f'<g transform="translate(0,{top + k * panel_height})">{chart}</g>')
    legend, x = [], 52
    for method in method_order:
        legend.append(f'<rect x="{x}" y="28" width="14" height="4" fill="{colours[method]}"/>'
                      f'<text x="{x + 18}" y="34">{esc(method)}</text>')
        x += 26 + 7 * len(method)
    height = top + len(keys) * panel_height
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}"><style>{SVG_STYLE}</style><rect width="100%" height="100%" fill="#fff"/>'
        f'<text class="title" x="52" y="16">{esc(title)}</text>{"".join(legend)}{"".join(body)}</svg>\n'
    )


def curves_figure(
    frames: Any,
    title: str = "",
    methods: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    directions: dict[str, bool] | None = None,
    cuts: dict[tuple[str, str, str], list[int]] | None = None,
) -> Any:
    """A figure of per-frame values (a frame-score DataFrame of one clip); ``cuts`` maps
    (method, metric, protocol) to the frame pairs flagged as likely scene cuts."""
    keys, several_protocols = _panels(frames, metrics, title)
    plt = pyplot()
    method_order = list(methods) if methods else sorted(set(frames["method"]))
    import numpy as np

    fig, axes = plt.subplots(len(keys), 1, figsize=(6.0, 2.1 * len(keys) + 0.4), squeeze=False)
    for ax, (metric, protocol) in zip(axes[:, 0], keys, strict=True):
        sub = frames[(frames["metric"] == metric) & (frames["protocol"] == protocol)]
        infinite: list[tuple[Any, Any]] = []  # (frames, colour) of each method's inf values
        for method in method_order:
            line = sub[sub["method"] == method].sort_values("frame")
            if len(line):
                values = line["value"].to_numpy(dtype=float)
                inf = np.isinf(values)
                drawn = ax.plot(
                    line["frame"], np.where(inf, np.nan, values), marker="." if len(line) < 40 else None,
                    linewidth=1.2, label=method,
                )
                if inf.any():
                    infinite.append((line["frame"].to_numpy()[inf], drawn[0].get_color()))
                flagged = set((cuts or {}).get((method, metric, protocol), ()))
                at = line["frame"].isin(flagged).to_numpy() & ~inf
                if at.any():
                    ax.plot(line["frame"].to_numpy()[at], values[at], linestyle="none", marker="o", markersize=10,
                            markerfacecolor="none", color=drawn[0].get_color(),
                            label="likely scene cut" if "likely scene cut" not in ax.get_legend_handles_labels()[1]
                            else None)
        if infinite:  # marked at the top of the panel, never dropped silently
            top = ax.get_ylim()[1]
            for k, (xs, colour) in enumerate(infinite):
                ax.plot(xs, [top] * len(xs), linestyle="none", marker="^", markersize=7, color=colour, scaley=False,
                        clip_on=False, label="inf" if k == 0 else None)
                for x in xs:
                    ax.annotate("inf", (x, top), textcoords="offset points", xytext=(0, 5), ha="center",
                                fontsize=7, color=colour, annotation_clip=False)
        ax.set_ylabel(_y_label(metric, protocol, directions, several_protocols))
        ax.set_xlabel(axis_labels(metric)[0])
        ax.grid(True, alpha=0.3)
    axes[0, 0].legend(loc="best", ncol=min(4, len(method_order)))
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    return fig


def write_clip_curves(
    frame_df: Any,
    out_dir: Path | str,
    formats: Sequence[str] = ("png", "pdf"),
    methods: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    clips: Sequence[tuple[str, str]] | None = None,
    directions: dict[str, bool] | None = None,
    cuts: CutMarks | None = None,
) -> list[Path]:
    """One curve figure per (dataset, clip) under ``out_dir`` (``curves_<dataset>_<clip>.*``);
    ``cuts`` (:func:`cut_marks`) circles flagged scene-cut pairs.  ``svg`` (alone in ``formats``)
    is written by :func:`curves_svg`, without matplotlib."""
    from mgld_bench.fileio import atomic_write_text

    written: list[Path] = []
    pairs = clips or sorted({(d, c) for d, c in zip(frame_df["dataset"], frame_df["clip"], strict=True)})
    for dataset, clip in pairs:
        sub = frame_df[(frame_df["dataset"] == dataset) & (frame_df["clip"] == clip)]
        if sub.empty:
            raise BenchError(f"no per-frame scores for clip {dataset}/{clip} in the results")
        clip_cuts = {k[2:]: v for k, v in (cuts or {}).items() if k[:2] == (dataset, clip)}
        stem = Path(out_dir) / f"curves_{safe_name(dataset)}_{safe_name(clip)}"
        if tuple(formats) == ("svg",):
            svg = curves_svg(sub, f"{dataset} / {clip}", methods, metrics, directions, clip_cuts)
            written.append(atomic_write_text(stem.with_suffix(".svg"), svg))
            continue
        fig = curves_figure(sub, f"{dataset} / {clip}", methods, metrics, directions, clip_cuts)
        written += save_figure(fig, stem, tuple(formats))
    return written
