"""``mgld-bench compare``: regression report of a run against reference results (for CI)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare results with a reference; exit 1 on any regression or missing value",
        description="Compare CURRENT with REFERENCE per dataset, method and metric (direction-aware, "
        "per-metric absolute/relative tolerances). Prints a markdown report; exits 1 when a value "
        "regressed, is missing, or was made under different metric options or protocol fields.",
    )
    p.add_argument("current", type=Path, help="run folder, results.sqlite or results.csv")
    p.add_argument("reference", type=Path, help="run folder, results.sqlite or results.csv")
    p.add_argument(
        "--level",
        choices=("dataset", "clip"),
        default="dataset",
        help="compare dataset means (default) or every clip value",
    )
    p.add_argument(
        "--tolerances",
        type=Path,
        metavar="FILE",
        help="YAML/JSON {metric: {abs: X, rel: Y}} ('*' for all other metrics)",
    )
    p.add_argument(
        "--abs-tol",
        action="append",
        default=[],
        metavar="METRIC=X",
        help="absolute tolerance of a metric (repeatable; '*=X' for the default)",
    )
    p.add_argument(
        "--rel-tol",
        action="append",
        default=[],
        metavar="METRIC=X",
        help="relative tolerance (fraction of |reference|) of a metric (repeatable)",
    )
    p.add_argument(
        "--two-sided", action="store_true", help="also fail on improvements beyond tolerance (a determinism check)"
    )
    p.add_argument("--junit", type=Path, metavar="FILE", help="also write a JUnit XML report")
    p.add_argument("--report", type=Path, metavar="FILE", help="also write the markdown report to FILE")
    p.add_argument("--quiet", action="store_true", help="print only the verdict line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mgld_bench.fileio import atomic_write_text as write_text_atomic
    from mgld_bench.report.compare import compare_paths, render_junit, render_markdown
    from mgld_bench.report.tolerances import DEFAULT_TOLERANCES, apply_flags, load_tolerance_file

    tolerances = load_tolerance_file(args.tolerances) if args.tolerances else dict(DEFAULT_TOLERANCES)
    tolerances = apply_flags(tolerances, args.abs_tol, args.rel_tol)
    result = compare_paths(
        args.current, args.reference, tolerances=tolerances, level=args.level, two_sided=args.two_sided
    )
    report = render_markdown(result)
    if args.report:
        write_text_atomic(args.report, report)
    if args.junit:
        write_text_atomic(args.junit, render_junit(result))
    if args.quiet:
        print(next(line for line in report.splitlines() if line.startswith("**")))
    else:
        sys.stdout.write(report)
    return 0 if result.passed else 1
