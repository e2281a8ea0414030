"""Per-frame metric curves: one figure per clip, one panel per metric, one line per method.

A dip or a saw-tooth in a per-frame curve is often the first sign of flicker or of a failing
frame that the clip mean hides.  Each y axis carries the metric's declared unit; temporal metrics
are drawn against the frame pair (t -> t+1) their value belongs to.  Infinite values (PSNR of a
frame identical in SR and GT) cannot be drawn as points: they are marked with a triangle at the
top of the panel, labelled "inf", never silently dropped.  Frame pairs a temporal metric flagged
as likely scene cuts (``extras["cut_pairs"]`` in the store) are circled.
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
    plt = pyplot()
    keys = sorted(
        {(m, p) for m, p in zip(frames["metric"], frames["protocol"], strict=True)},
        key=lambda k: (metric_sort_key(k[0]), k[1]),
    )
    if metrics:
        wanted = {canonical_metric(m) for m in metrics}
        keys = [k for k in keys if k[0] in wanted]
    if not keys:
        raise BenchError(f"{title or 'clip'}: no per-frame scores to plot")
    several_protocols = len({p for _, p in keys}) > 1
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
        arrow = ""
        if directions and metric in directions:
            arrow = "↑" if directions[metric] else "↓"
        xlabel, unit = axis_labels(metric)
        ax.set_ylabel(display_name(metric) + arrow + unit + (f" [{protocol}]" if several_protocols else ""))
        ax.set_xlabel(xlabel)
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
    ``cuts`` (:func:`cut_marks`) circles flagged scene-cut pairs."""
    written: list[Path] = []
    pairs = clips or sorted({(d, c) for d, c in zip(frame_df["dataset"], frame_df["clip"], strict=True)})
    for dataset, clip in pairs:
        sub = frame_df[(frame_df["dataset"] == dataset) & (frame_df["clip"] == clip)]
        if sub.empty:
            raise BenchError(f"no per-frame scores for clip {dataset}/{clip} in the results")
        clip_cuts = {k[2:]: v for k, v in (cuts or {}).items() if k[:2] == (dataset, clip)}
        fig = curves_figure(sub, f"{dataset} / {clip}", methods, metrics, directions, clip_cuts)
        written += save_figure(fig, Path(out_dir) / f"curves_{safe_name(dataset)}_{safe_name(clip)}", tuple(formats))
    return written
