"""``mgld-bench table``: comparison tables (markdown, LaTeX, CSV) from a run's results."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mgld_bench.cli.report_args import add_selection_args, int_assignments, names

FORMAT_CHOICES = ("md", "tex", "csv", "all")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "table",
        help="print or write comparison tables (markdown, LaTeX, CSV)",
        description="Tabulate a run's results: dataset value = mean over clips of the clip values; "
        "best in bold, second underlined, arrows from each metric's direction; numbers made "
        "under different protocols get separate columns.",
    )
    p.add_argument("source", type=Path, help="run folder (OUT of `mgld-bench run`), results.sqlite or results.csv")
    p.add_argument("--format", default="md", choices=FORMAT_CHOICES,
                   help="md (default), tex (booktabs), csv, or all (needs --out FOLDER)")
    p.add_argument("--layout", default="generic",
                   help="generic (default: per dataset, methods x metrics), mgld-table1 (image "
                   "quality, methods across) or mgld-table2 (warping error, methods across)")
    p.add_argument("--orientation", choices=("methods-rows", "methods-columns"),
                   help="override the layout's orientation")
    p.add_argument("--per-clip", action="store_true", help="one block per clip instead of per dataset")
    add_selection_args(p)
    p.add_argument("--decimals", action="append", metavar="METRIC=N", default=[],
                   help="printed decimals of a metric (repeatable); ties are judged on printed values")
    p.add_argument("--caption", help="LaTeX caption / markdown title (default: the layout's)")
    p.add_argument("--label", help="LaTeX \\label")
    p.add_argument("--out", type=Path,
                   help="write to this file (or, with --format all, into this folder as "
                   "<layout>.md/.tex/.csv) instead of printing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mgld_bench.errors import BenchError
    from mgld_bench.report.aggregate import load_clip_scores, load_unavailable
    from mgld_bench.report.files import write_text_atomic
    from mgld_bench.report.layouts import get_layout, layout_table
    from mgld_bench.report.table import render

    layout = get_layout(args.layout)
    table = layout_table(
        load_clip_scores(args.source), layout.name, per_clip=args.per_clip,
        metrics=names(args.metrics), methods=names(args.methods), datasets=names(args.datasets),
        decimals=int_assignments(args.decimals, "--decimals"), title=args.caption,
        unavailable=load_unavailable(args.source),
    )
    orientation = args.orientation or layout.orientation
    formats = ["md", "tex", "csv"] if args.format == "all" else [args.format]
    if args.format == "all" and args.out is None:
        raise BenchError("--format all writes three files: give the folder with --out")
    for fmt in formats:
        extra = {"label": args.label} if fmt == "tex" else {}
        text = render(table, fmt, orientation, **extra)
        if args.out is None:
            sys.stdout.write(text)
        else:
            path = args.out / f"{layout.name}.{fmt}" if args.format == "all" else args.out
            write_text_atomic(path, text)
            print(f"wrote {path}", file=sys.stderr)
    return 0
