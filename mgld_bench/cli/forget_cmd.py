"""``mgld-bench forget OUT --run RUN_ID``: drop rows from a run folder, then rewrite its reports."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "forget",
        help="drop a run's rows (or a dataset's, method's, metric's) from a run folder",
        description="Delete rows from OUT/results.sqlite and rewrite OUT's tables: those of one run (--run; "
        "`mgld-bench forget OUT` lists the runs) and/or of a dataset, method, metric or protocol.  The fix for a "
        "folder whose rows cannot share a column.",
    )
    p.add_argument("out", type=Path, metavar="OUT", help="the run folder (--out of `mgld-bench run`)")
    p.add_argument("--run", metavar="RUN_ID", help="the rows this run wrote")
    p.add_argument("--dataset", help="only rows of this dataset label")
    p.add_argument("--method", help="only rows of this method label")
    p.add_argument("--metric", help="only rows of this metric label")
    p.add_argument("--protocol", help="only rows under this protocol name")
    p.add_argument("--html", action="store_true", help="rewrite OUT/report.html too")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mgld_bench.api import forget, run_history

    where = {"run": args.run, "dataset": args.dataset, "method": args.method, "metric": args.metric,
             "protocol": args.protocol}
    if not any(where.values()):
        print("runs in", args.out, "(forget one with: mgld-bench forget OUT --run RUN_ID):")
        for r in run_history(args.out):
            argv = shlex.join(str(a) for a in r["argv"][1:])[:60]
            print(f"  {r['run_id']}  {r['started']}  {r['rows']:>5} rows  {argv}")
        return 0
    gone = forget(args.out, html=args.html, **where)
    print(f"dropped {gone} clip rows from {args.out}; its tables are rewritten")
    return 0
