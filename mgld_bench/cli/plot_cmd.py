"""``mgld-bench plot``: temporal profiles, per-frame metric curves and side-by-side crops."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mgld_bench.cli.report_args import names


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "plot",
        help="temporal profiles, per-frame curves and crops of a run (PNG and PDF)",
        description="Figures of a run. Frames come from the run's cache (SR) and its datasets (GT, "
        "LR); nothing is recomputed.",
    )
    kinds = p.add_subparsers(dest="plot_kind", metavar="KIND")
    kinds.required = True

    prof = kinds.add_parser("profile", help="a row (or column) of every frame stacked over time")
    _common(prof, frames=True)
    line = prof.add_mutually_exclusive_group()
    line.add_argument("--row", type=int, help="image row to sample (default: the middle row)")
    line.add_argument("--col", type=int, help="image column to sample instead of a row")
    prof.add_argument("--span", help="START:END: keep only these pixels along the line (zoom)")
    prof.set_defaults(func=run_profile)

    curves = kinds.add_parser("curves", help="per-frame metric values, one figure per clip")
    _common(curves, frames=False)
    curves.add_argument("--metrics", help="only these metrics (comma-separated)")
    curves.set_defaults(func=run_curves)

    crops = kinds.add_parser("crops", help="the same crop of one frame, GT / input / each method")
    _common(crops, frames=True)
    crops.add_argument("--frame", type=int, default=0, help="frame index (default 0)")
    crops.add_argument(
        "--box", help="X,Y,WIDTH,HEIGHT in output pixels (default: a centred box a quarter of the shorter side)"
    )
    crops.set_defaults(func=run_crops)


def _common(p: argparse.ArgumentParser, frames: bool) -> None:
    p.add_argument("source", type=Path, help="run folder (OUT of `mgld-bench run`) or results.sqlite")
    p.add_argument("--dataset", help="dataset (default: every dataset in the results)")
    p.add_argument("--clips", help="clips (comma-separated; default: every clip)")
    p.add_argument("--methods", help="methods, in panel order (default: --reference first, then alphabetical)")
    p.add_argument(
        "--reference",
        metavar="METHOD",
        help="a baseline method listed first (e.g. bicubic); in figures it also stands in for the input panel",
    )
    p.add_argument("--format", default="png,pdf", help="png, pdf or png,pdf (default)")
    p.add_argument("--out", type=Path, help="output folder (default: SOURCE/figures)")
    if frames:
        p.add_argument("--cache-dir", type=Path, help="cache holding the SR frames (default: the run's)")
        p.add_argument("--data-root", help="dataset folder (default: the run's --data-root)")
        p.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="DATASET.OPTION=VALUE",
            help="dataset option (default: the run's)",
        )


def _store(source: Path) -> Path:
    from mgld_bench.errors import BenchError
    from mgld_bench.report.aggregate import resolve_store

    path = resolve_store(source)
    if path.suffix.lower() == ".csv":
        raise BenchError(f"{path}: plots need results.sqlite (per-frame values and cache keys), not the CSV")
    return path


def _out(args: argparse.Namespace, store: Path) -> Path:
    return args.out or store.parent / "figures"


def _formats(text: str) -> tuple[str, ...]:
    from mgld_bench.errors import BenchError
    from mgld_bench.report.figures import FIGURE_FORMATS

    fmts = tuple(names(text) or ())
    bad = [f for f in fmts if f not in FIGURE_FORMATS]
    if bad or not fmts:
        raise BenchError(f"--format takes png, pdf or png,pdf; got {text!r}")
    return fmts


def _clip_pairs(store: Path, dataset: str | None, clips: list[str] | None) -> list[tuple[str, str]]:
    from mgld_bench.errors import BenchError
    from mgld_bench.report.store_read import query

    df = query(store, "SELECT DISTINCT dataset, clip FROM clip_scores ORDER BY dataset, clip")
    pairs = [(d, c) for d, c in zip(df["dataset"], df["clip"], strict=True)]
    if dataset:
        if dataset not in {d for d, _ in pairs}:
            raise BenchError(f"no dataset {dataset!r} in {store}; it holds {', '.join(sorted({d for d, _ in pairs}))}")
        pairs = [p for p in pairs if p[0] == dataset]
    if clips:
        missing = sorted(set(clips) - {c for _, c in pairs})
        if missing:
            raise BenchError(f"no clip(s) {', '.join(missing)} in {store}")
        pairs = [p for p in pairs if p[1] in clips]
    if not pairs:
        raise BenchError(f"{store} holds no clip results")
    return pairs


def _sources(args: argparse.Namespace, store: Path, dataset: str, clip: str):
    from mgld_bench.report.frame_sources import clip_sources
    from mgld_bench.runner.config import parse_assignments

    return clip_sources(
        store,
        dataset,
        clip,
        methods=names(args.methods),
        cache_dir=args.cache_dir,
        data_root=args.data_root,
        options=parse_assignments(args.set),
        reference=args.reference,
    )


def _report(written: list[Path]) -> int:
    for path in written:
        print(path)
    print(f"{len(written)} files written", file=sys.stderr)
    return 0


def run_profile(args: argparse.Namespace) -> int:
    from mgld_bench.report.figures import safe_name
    from mgld_bench.report.profile import parse_span, profile_title, write_profiles

    store = _store(args.source)
    written: list[Path] = []
    for dataset, clip in _clip_pairs(store, args.dataset, names(args.clips)):
        written += write_profiles(
            _sources(args, store, dataset, clip),
            _out(args, store),
            f"profile_{safe_name(dataset)}_{safe_name(clip)}",
            row=args.row,
            col=args.col,
            title=profile_title(dataset, clip, args.row, args.col),
            formats=_formats(args.format),
            span=parse_span(args.span) if args.span else None,
        )
    return _report(written)


def run_curves(args: argparse.Namespace) -> int:
    from mgld_bench.report.aggregate import load_clip_scores
    from mgld_bench.report.curves import cut_marks, write_clip_curves
    from mgld_bench.report.store_read import frame_scores, query

    store = _store(args.source)
    pairs = _clip_pairs(store, args.dataset, names(args.clips))
    df = frame_scores(store, dataset=args.dataset)
    dirs = query(store, "SELECT DISTINCT metric, higher_is_better FROM clip_scores")
    directions = {m: bool(h) for m, h in zip(dirs["metric"], dirs["higher_is_better"], strict=True)}
    return _report(
        write_clip_curves(
            df, _out(args, store), _formats(args.format), names(args.methods), names(args.metrics), pairs, directions,
            cut_marks(load_clip_scores(store)),
        )
    )


def run_crops(args: argparse.Namespace) -> int:
    from mgld_bench.errors import BenchError
    from mgld_bench.report.crops import parse_box, write_crops
    from mgld_bench.report.figures import safe_name

    store = _store(args.source)
    written: list[Path] = []
    for dataset, clip in _clip_pairs(store, args.dataset, names(args.clips)):
        sources = _sources(args, store, dataset, clip)
        n = len(sources[0][1])
        if not 0 <= args.frame < n:
            raise BenchError(f"--frame {args.frame} is outside {dataset}/{clip} ({n} frames)")
        panels = [(label, frames[args.frame]) for label, frames in sources]
        written += write_crops(
            panels,
            _out(args, store),
            f"crops_{safe_name(dataset)}_{safe_name(clip)}_f{args.frame}",
            box=parse_box(args.box) if args.box else None,
            title=f"{dataset} / {clip}, frame {args.frame}",
            formats=_formats(args.format),
        )
    return _report(written)
