"""``mgld-bench run``: methods x datasets -> SR outputs -> metrics -> tables."""

from __future__ import annotations

import argparse
import math
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
    p.add_argument("--out", type=Path, default=Path("reports/latest"), help="output folder (default reports/latest)")
    p.add_argument("--seed", type=int, default=0, help="seed passed to stochastic methods (default 0)")
    p.add_argument(
        "--keep-going", action="store_true", help="continue with other jobs after an error (exit 1 at the end)"
    )
    p.add_argument(
        "--strict", action="store_true",
        help="fail (exit 1, before any work) when a requested method or metric cannot run here",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_cache_args(p)
    add_device_arg(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mgld_bench import provenance
    from mgld_bench.options import parse_assignments
    from mgld_bench.report.console import run_summary
    from mgld_bench.runner.local import execute
    from mgld_bench.runner.outputs import write_csv, write_text
    from mgld_bench.runner.plan import build_plan, split_names
    from mgld_bench.store.results import ResultStore

    options = parse_assignments(args.set)
    plan = build_plan(
        split_names(args.datasets),
        split_names(args.methods),
        split_names(args.metrics),
        options,
        data_root=args.data_root,
        protocol=args.protocol,
        clips=split_names(args.clips) or None,
    )
    if args.strict:
        _check_strict(plan)
    cache = open_cache(args)
    device = args.device
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ResultStore(out / "results.sqlite") as store:
        datasets = {
            ds.label: {"spec": spec, "options": ds.options, "root": args.data_root}
            for spec, ds in zip(split_names(args.datasets), plan.datasets, strict=True)
        }
        methods = {m.label: m.identity() for m in plan.methods}
        extra = {"seed": args.seed, "datasets": datasets, "methods": methods, "device_requested": device}
        run_id = store.start_run(sys.argv, provenance.collect(device, cache.root, extra))
        summary = execute(
            plan,
            cache,
            store,
            run_id,
            device=device,
            seed=args.seed,
            keep_going=args.keep_going,
            progress=not args.no_progress,
        )
        finished: dict[str, object] = {"elapsed_s": round(time.perf_counter() - started, 3)}
        if summary.inferred or summary.scored:
            from mgld_bench.runner.device import resolve_device

            finished.update(provenance.device_info(resolve_device(device)))
        store.finish_run(run_id, finished)
        rows = store.clip_rows()
        stamp = _results_stamp(rows, store.unavailable_rows())
    stamp_file = out / ".reports-stamp"
    table_file = out / "table.md"
    if _stamp_matches(stamp_file, stamp) and table_file.is_file():
        # Same results as the reports already in OUT: reuse them (a warm rerun stays fast).
        table = table_file.read_text()
        extra = ", reports unchanged"
    else:
        table = run_summary(out / "results.sqlite")
        write_text(table_file, table)
        write_csv(out / "results.csv", rows)
        extra = _write_reports(out)
        write_text(stamp_file, stamp)
    print(table)
    elapsed = time.perf_counter() - started
    print(
        f"{summary.inferred} inference jobs run, {summary.infer_cached} cached; "
        f"{summary.scored} scores computed, {summary.score_cached} cached; {elapsed:.1f} s. "
        f"Results in {out}/ (results.sqlite, results.csv, table.md{extra}).",
        file=sys.stderr,
    )
    for failure in summary.failures:
        print(f"mgld-bench: error: {failure}", file=sys.stderr)
    if any(math.isnan(r["value"]) for r in rows):
        print("mgld-bench: note: some values are n/a (NaN); see results.csv", file=sys.stderr)
    return 1 if summary.failures else 0


def _check_strict(plan: object) -> None:
    """``--strict``: every requested method and metric must be able to run on every dataset."""
    from mgld_bench.errors import BenchError

    problems = []
    for method in plan.methods:  # type: ignore[attr-defined]
        ok, reason = method.availability()
        if not ok:
            problems.append(f"method {method.label}: {reason}")
    for dataset in plan.datasets:  # type: ignore[attr-defined]
        protocol = plan.protocol_for(dataset)  # type: ignore[attr-defined]
        _, skipped = plan.metrics_for(protocol, dataset.has_gt)  # type: ignore[attr-defined]
        problems.extend(f"metric {name} on {dataset.label}: {reason}" for name, reason in skipped)
    if problems:
        raise BenchError("--strict: " + "; ".join(problems))


def _results_stamp(rows: list[dict], unavailable: list[dict]) -> str:
    """A digest of everything the reports show (run ids left out)."""
    from mgld_bench.store.keys import make_key

    def strip(items: list[dict]) -> list[dict]:
        return sorted(({k: v for k, v in r.items() if k != "run_id"} for r in items), key=repr)

    from mgld_bench import __version__

    return make_key({"version": __version__, "rows": strip(rows), "unavailable": strip(unavailable)})


def _stamp_matches(path: Path, stamp: str) -> bool:
    try:
        return path.read_text() == stamp
    except OSError:
        return False


def _write_reports(out: Path) -> str:
    """Tables and plots of the run, when the report package provides them."""
    try:
        from mgld_bench.report.run_reports import write_run_reports  # type: ignore[import-not-found]
    except ImportError:
        return ""
    written = write_run_reports(out, out / "results.sqlite")
    return f", {len(written)} report files" if written else ""
