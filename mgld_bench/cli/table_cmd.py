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
    p.add_argument(
        "source",
        type=Path,
        nargs="+",
        help="run folder (OUT of `mgld-bench run`), results.sqlite or results.csv; several "
        "are combined (e.g. baselines from one run, MGLD from another)",
    )
    p.add_argument("--protocols", help="only these protocols (comma-separated; default: all, each in its own columns)")
    p.add_argument(
        "--format",
        default="md",
        choices=FORMAT_CHOICES,
        help="md (default), tex (booktabs), csv, or all (needs --out FOLDER)",
    )
    p.add_argument(
        "--layout",
        default="generic",
        help="generic (default: per dataset, methods x metrics), mgld-table1 (image "
        "quality, methods across) or mgld-table2 (warping error, methods across)",
    )
    p.add_argument(
        "--orientation", choices=("methods-rows", "methods-columns"), help="override the layout's orientation"
    )
    p.add_argument("--per-clip", action="store_true", help="one block per clip instead of per dataset")
    add_selection_args(p)
    p.add_argument(
        "--decimals",
        action="append",
        metavar="METRIC=N",
        default=[],
        help="printed decimals of a metric (repeatable); ties are judged on printed values",
    )
    p.add_argument("--caption", help="LaTeX caption / markdown title (default: the layout's)")
    p.add_argument("--label", help="LaTeX \\label")
    p.add_argument(
        "--out",
        type=Path,
        help="write to this file (or, with --format all, into this folder as "
        "<layout>.md/.tex/.csv) instead of printing",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from mgld_bench.errors import BenchError
    from mgld_bench.fileio import atomic_write_text as write_text_atomic
    from mgld_bench.report.aggregate import load_many, load_unavailable
    from mgld_bench.report.layouts import get_layout, layout_table
    from mgld_bench.report.table import render

    layout = get_layout(args.layout)
    df = load_many(args.source)
    protocols = names(args.protocols)
    if protocols:
        unknown = sorted(set(protocols) - set(df["protocol"]))
        if unknown:
            raise BenchError(
                f"no results under protocol(s) {', '.join(unknown)}; the results hold "
                f"{', '.join(sorted(set(df['protocol'])))}"
            )
        df = df[df["protocol"].isin(protocols)]
    unavailable = pd.concat([load_unavailable(s) for s in args.source], ignore_index=True)
    table = layout_table(
        df,
        layout.name,
        per_clip=args.per_clip,
        metrics=names(args.metrics),
        methods=names(args.methods),
        datasets=names(args.datasets),
        decimals=int_assignments(args.decimals, "--decimals"),
        title=args.caption,
        unavailable=unavailable.drop_duplicates(),
        reference=args.reference,
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
