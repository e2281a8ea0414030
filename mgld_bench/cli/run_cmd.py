"""``mgld-bench run``: methods x datasets -> SR outputs -> metrics -> tables."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mgld_bench.cli.common import add_cache_args, add_device_arg, open_cache


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run methods on datasets and score them",
        description="Run each method on each clip (outputs cached), score with the metrics, "
        "write OUT/results.sqlite, OUT/results.csv and OUT/table.md, and print the table.",
    )
    p.add_argument("--datasets", default="synthetic", help="comma-separated (default: synthetic)")
    p.add_argument("--methods", default="bicubic", help="comma-separated (default: bicubic)")
    p.add_argument("--metrics", default="psnr,ssim", help="comma-separated (default: psnr,ssim)")
    p.add_argument("--protocol", help="scoring protocol (default: each dataset's own)")
    p.add_argument("--clips", help="only these clips (comma-separated)")
    p.add_argument("--data-root", help="folder holding the datasets (for datasets read from disk)")
    p.add_argument(
        "--set",
        action="append",
        metavar="NAME.OPTION=VALUE",
        default=[],
        help="an option of a dataset, method or metric, e.g. bicubic.kernel=cv2 (repeatable)",
    )
    p.add_argument("--out", type=Path, default=Path("reports/latest"), help="output folder (default reports/latest)")
    p.add_argument("--seed", type=int, default=0, help="seed passed to stochastic methods (default 0)")
    p.add_argument(
        "--keep-going", action="store_true", help="continue with other jobs after an error (exit 1 at the end)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument(
        "--reference", metavar="METHOD", help="a baseline method listed first in tables and figures (e.g. bicubic)"
    )
    add_cache_args(p)
    add_device_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mgld_bench import provenance
    from mgld_bench.options import parse_assignments
    from mgld_bench.report.run_reports import write_run_reports
    from mgld_bench.runner.device import used_device
    from mgld_bench.runner.local import execute
    from mgld_bench.runner.plan import build_plan, split_names
    from mgld_bench.store.results import ResultStore

    plan = build_plan(
        split_names(args.datasets),
        split_names(args.methods),
        split_names(args.metrics),
        parse_assignments(args.set),
        data_root=args.data_root,
        protocol=args.protocol,
        clips=split_names(args.clips) or None,
    )
    cache = open_cache(args)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ResultStore(out / "results.sqlite") as store:
        extra = {"seed": args.seed, "device_requested": args.device, **plan.provenance}
        run_id = store.start_run(sys.argv, provenance.collect(args.device, cache.root, extra))
        summary = execute(
            plan, cache, store, run_id, device=args.device, seed=args.seed,
            keep_going=args.keep_going, progress=not args.no_progress,
        )
        finished: dict[str, object] = {"elapsed_s": round(time.perf_counter() - started, 3)}
        if summary.inferred or summary.scored:  # the device a computing job resolved ("cpu" if none needed one)
            finished.update(provenance.device_info(used_device(args.device)))
        store.finish_run(run_id, finished)
    reports = write_run_reports(out, out / "results.sqlite", reference=args.reference)
    print(reports.table)
    elapsed = time.perf_counter() - started
    figures = ", figures unchanged" if reports.figures_reused else ""
    print(
        f"{summary.inferred} inference jobs run, {summary.infer_cached} cached; "
        f"{summary.scored} scores computed, {summary.score_cached} cached; {elapsed:.1f} s. "
        f"Results in {out}/ (results.sqlite, results.csv, table.md, {len(reports.written)} report files{figures}).",
        file=sys.stderr,
    )
    for failure in summary.failures:
        print(f"mgld-bench: error: {failure}", file=sys.stderr)
    if reports.has_nan:
        print("mgld-bench: note: some values are n/a (NaN); see results.csv", file=sys.stderr)
    return 1 if summary.failures else 0
