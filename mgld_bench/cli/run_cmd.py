"""``mgld-bench run``: methods x datasets -> SR outputs -> metrics -> tables (see :func:`mgld_bench.api.run_config`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mgld_bench.cli.common import add_cache_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run methods on datasets and score them",
        description="Run each method on each clip (outputs cached), score with the metrics, "
        "write OUT/results.sqlite, OUT/results.csv and OUT/table.md, and print the table. "
        "Settings come from the defaults, then --config FILE, then the flags given.",
    )
    p.add_argument("--config", type=Path, help="run config file (YAML) with any of the settings below; flags win")
    p.add_argument("--print-config", action="store_true", help="print the resolved config as YAML and exit")
    p.add_argument("--datasets", help="comma-separated (default: synthetic)")
    p.add_argument("--methods", help="comma-separated (default: bicubic)")
    p.add_argument("--metrics", help="comma-separated (default: psnr,ssim)")
    p.add_argument("--protocol", help="scoring protocol (default: each dataset's own)")
    p.add_argument("--clips", help="only these clips (comma-separated)")
    p.add_argument(
        "--data-root", "--root", dest="data_root",
        help="folder holding the datasets (default $MGLD_BENCH_DATA; `data --root` is the same)",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="NAME.OPTION=VALUE",
        default=[],
        help="an option of a dataset, method or metric, e.g. bicubic.kernel=cv2 (repeatable)",
    )
    p.add_argument("--out", help="output folder (default reports/latest)")
    p.add_argument("--seed", type=int, help="seed passed to stochastic methods (default 0)")
    p.add_argument(
        "--keep-going", action="store_true", default=None,
        help="continue with other jobs after an error (exit 1 at the end)",
    )
    p.add_argument(
        "--strict", action="store_true", default=None,
        help="fail (exit 1, before any work) when a requested method or metric cannot run here",
    )
    p.add_argument(
        "--no-progress", action="store_true",
        help="plain progress lines (at most one every $MGLD_BENCH_PROGRESS_S s, default 30, and one per dataset) "
        "instead of the live status line; the default off a terminal",
    )
    p.add_argument(
        "--reference", metavar="METHOD", help="a baseline method listed first in tables and figures (e.g. bicubic)"
    )
    p.add_argument("--no-html", action="store_true", help="do not write OUT/report.html (see `mgld-bench report`)")
    p.add_argument(
        "--executor", choices=("local", "ray"),
        help="local: one job at a time in this process (default); ray: jobs as Ray tasks over the GPUs and "
        "machines of a Ray cluster (pip install 'mgld-bench[ray]'; see docs/distributed.md)",
    )
    p.add_argument(
        "--ray-address", metavar="ADDR",
        help="the Ray cluster to use (e.g. 10.0.0.1:6379 or auto; default: RAY_ADDRESS, else a new local Ray)",
    )
    add_cache_args(p)
    p.add_argument("--device", help="auto (CUDA when present; default), cpu, cuda or cuda:N")
    p.set_defaults(func=run)


def config_of(args: argparse.Namespace):  # -> RunConfig
    """Defaults, then ``--config``, then the flags given on the command line."""
    from mgld_bench.runner.config import resolve_config

    flags = {
        "datasets": args.datasets, "methods": args.methods, "metrics": args.metrics, "protocol": args.protocol,
        "clips": args.clips, "data_root": args.data_root, "set": args.set or None,
        "seed": args.seed, "out": args.out, "cache_dir": None if args.cache_dir is None else str(args.cache_dir),
        "device": args.device, "keep_going": args.keep_going, "strict": args.strict,
        "reference": args.reference, "html": False if args.no_html else None,
        "executor": args.executor, "ray_address": args.ray_address,
    }
    return resolve_config(args.config, flags)


def run(args: argparse.Namespace) -> int:
    from mgld_bench.api import run_config

    cfg = config_of(args)
    if args.print_config:
        print(cfg.to_yaml(), end="")
        return 0
    outcome = run_config(cfg, argv=sys.argv, progress="plain" if args.no_progress else "auto")
    print(outcome.table)
    s = outcome.summary
    print(
        f"{s.inferred} inference jobs run, {s.infer_cached} cached; "
        f"{s.scored} scores computed, {s.score_cached} cached; {outcome.elapsed_s:.1f} s. "
        f"Results in {outcome.out}/ (results.sqlite, results.csv, table.md{outcome.reports}).",
        file=sys.stderr,
    )
    for failure in outcome.failures:
        print(f"mgld-bench: error: {failure}", file=sys.stderr)
    if outcome.html is not None:
        print(f"report page: {outcome.html.resolve()}", file=sys.stderr)
    if outcome.has_nan:
        print("mgld-bench: note: some values are n/a (NaN); see results.csv", file=sys.stderr)
    return outcome.exit_code
