"""The tables and figures ``mgld-bench run`` writes into its output folder.

``OUT/tables/``: ``results.{md,tex,csv}`` (per dataset, methods × metrics), ``per_clip.md``, and
MGLD's ``mgld-table1.{md,tex}`` / ``mgld-table2.{md,tex}`` when the run has image-quality /
temporal metrics.  ``OUT/figures/``: per-frame curves of up to :data:`MAX_CURVE_CLIPS` clips and
temporal profiles of up to :data:`MAX_PROFILE_CLIPS` clips per dataset, as PNG (``mgld-bench
plot`` makes PDFs and any other clip).  A figure that cannot be made (frames no longer cached,
dataset folder moved) is skipped with a note: it never fails a finished run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mgld_bench.errors import BenchError

MAX_CURVE_CLIPS = 2
MAX_PROFILE_CLIPS = 1
RUN_FIGURE_FORMATS = ("png",)


def write_run_reports(out_dir: Path, store_path: Path) -> list[Path]:
    """Write the run's tables and a few figures under ``out_dir``; return the written paths."""
    out_dir = Path(out_dir)
    written = write_run_tables(out_dir / "tables", store_path)
    written += write_run_figures(out_dir / "figures", store_path)
    return written


def write_run_tables(folder: Path, store_path: Path) -> list[Path]:
    """Generic, per-clip and MGLD-layout tables of the store."""
    from mgld_bench.report.aggregate import load_clip_scores, load_unavailable
    from mgld_bench.report.files import write_text_atomic
    from mgld_bench.report.layouts import LAYOUTS, fill_kinds, layout_table
    from mgld_bench.report.table import render

    df = fill_kinds(load_clip_scores(store_path))
    if df.empty:
        return []
    written = []
    na = load_unavailable(store_path)
    try:
        generic = layout_table(df, "generic", unavailable=na)
        for fmt in ("md", "tex", "csv"):
            written.append(write_text_atomic(folder / f"results.{fmt}", render(generic, fmt)))
        written.append(
            write_text_atomic(folder / "per_clip.md", render(layout_table(df, "generic", per_clip=True), "md"))
        )
    except BenchError as exc:
        _note(f"tables not written: {exc}")
        return written
    for name in ("mgld-table1", "mgld-table2"):
        kinds = LAYOUTS[name].kinds or ()
        if not df["kind"].isin(kinds).any():
            continue
        table = layout_table(df, name, unavailable=na)
        for fmt in ("md", "tex"):
            written.append(write_text_atomic(folder / f"{name}.{fmt}", render(table, fmt, LAYOUTS[name].orientation)))
    return written


def write_run_figures(folder: Path, store_path: Path) -> list[Path]:
    """Per-frame curves and temporal profiles of the first few clips."""
    from mgld_bench.report.store_read import frame_scores, query

    written: list[Path] = []
    pairs_df = query(store_path, "SELECT DISTINCT dataset, clip FROM clip_scores ORDER BY dataset, clip")
    pairs = list(zip(pairs_df["dataset"], pairs_df["clip"], strict=True))
    if not pairs:
        return written
    try:
        from mgld_bench.report.curves import write_clip_curves

        frames = frame_scores(store_path)
        if not frames.empty:
            dirs = query(store_path, "SELECT DISTINCT metric, higher_is_better FROM clip_scores")
            directions = {m: bool(h) for m, h in zip(dirs["metric"], dirs["higher_is_better"], strict=True)}
            with_frames = sorted(set(zip(frames["dataset"], frames["clip"], strict=True)))
            written += write_clip_curves(
                frames, folder, RUN_FIGURE_FORMATS, clips=with_frames[:MAX_CURVE_CLIPS], directions=directions
            )
    except Exception as exc:  # a figure must never fail a finished run; say what went wrong
        _note(f"per-frame curves not written: {_describe(exc)}")
    from mgld_bench.report.figures import safe_name
    from mgld_bench.report.frame_sources import clip_sources
    from mgld_bench.report.profile import write_profiles

    per_dataset: dict[str, int] = {}
    for dataset, clip in pairs:
        if per_dataset.get(dataset, 0) >= MAX_PROFILE_CLIPS:
            continue
        per_dataset[dataset] = per_dataset.get(dataset, 0) + 1
        try:
            sources = clip_sources(store_path, dataset, clip)
            written += write_profiles(
                sources,
                folder,
                f"profile_{safe_name(dataset)}_{safe_name(clip)}",
                title=f"{dataset} / {clip}: temporal profile (middle row)",
                formats=RUN_FIGURE_FORMATS,
                raw=False,
            )
        except Exception as exc:  # as above: the run's results are already safe
            _note(f"temporal profile of {dataset}/{clip} not written: {_describe(exc)}")
    return written


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, BenchError) else f"{type(exc).__name__}: {exc}"


def _note(text: str) -> None:
    print(f"mgld-bench: note: {text}", file=sys.stderr)
