"""``mgld-bench cache info|prune``: how big the cache is, by kind, and trimming it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mgld_bench.cli.common import add_cache_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "cache",
        help="size of the cache by kind (info) and trimming it (prune)",
        description="The content-addressed cache holds SR outputs, scores and flows of every run. "
        "`info` prints its size by kind; `prune` deletes by age, to a size, or what no kept result "
        "store refers to. A deleted entry is recomputed by the next run that needs it.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    i = actions.add_parser("info", help="size and count per kind")
    add_cache_args(i)
    i.set_defaults(func=run_info)
    r = actions.add_parser(
        "prune",
        help="delete by age, size or reference",
        description="Delete cache entries: --older-than DAYS (not written or used for DAYS days), "
        "--unreferenced (inference outputs and scores no results.sqlite of the --out folders refers "
        "to), --max-size SIZE (least recently used first, until the cache fits). Blobs go only when "
        "no remaining output lists them; nothing used in the last hour and no folder of a running "
        "job is touched.",
    )
    add_cache_args(r)
    r.add_argument("--older-than", type=float, metavar="DAYS", help="entries not written or used for DAYS days")
    r.add_argument("--max-size", metavar="SIZE", help="shrink to SIZE (e.g. 500M, 20G; binary units)")
    r.add_argument("--unreferenced", action="store_true",
                   help="outputs and scores that no result store of the --out folders refers to")
    r.add_argument("--out", action="append", type=Path, default=[], metavar="OUT",
                   help="a run folder whose results to keep (repeatable; needed by --unreferenced)")
    r.add_argument("--dry-run", action="store_true", help="print what would be deleted; delete nothing")
    r.set_defaults(func=run_prune)


def _cache_root(args: argparse.Namespace) -> Path:
    from mgld_bench.store.cache import Cache

    return Cache(args.cache_dir).root


def run_info(args: argparse.Namespace) -> int:
    from mgld_bench.store.maintenance import human_size, info

    root = _cache_root(args)
    totals = info(root)
    width = max([len(t.description) for t in totals] + [4])
    print(f"cache {root}")
    for t in totals:
        print(f"  {t.description:<{width}}  {t.count:>8} files  {human_size(t.size):>11}   ({t.kind}/)")
    print(f"  {'total':<{width}}  {sum(t.count for t in totals):>8} files  "
          f"{human_size(sum(t.size for t in totals)):>11}")
    return 0


def run_prune(args: argparse.Namespace) -> int:
    from mgld_bench.errors import BenchError
    from mgld_bench.store.maintenance import KINDS, apply_prune, human_size, parse_size, plan_prune, referenced_keys
    from mgld_bench.store.sweep import collect_stale

    if args.older_than is None and args.max_size is None and not args.unreferenced:
        raise BenchError("cache prune: say what to delete: --older-than DAYS, --max-size SIZE and/or --unreferenced")
    if args.unreferenced and not args.out:
        raise BenchError(
            "cache prune --unreferenced: name the run folders whose results to keep with --out OUT (repeatable)"
        )
    if args.out and not args.unreferenced:
        raise BenchError("cache prune: --out only matters with --unreferenced")
    if args.older_than is not None and args.older_than < 0:
        raise BenchError(f"cache prune --older-than: expected days >= 0, got {args.older_than:g}")
    max_size = parse_size(args.max_size) if args.max_size is not None else None
    keep = referenced_keys(args.out) if args.unreferenced else None
    root = _cache_root(args)
    if not args.dry_run:
        collect_stale(root)  # staging folders of killed runs; live runs' folders stay
    plan = plan_prune(root, args.older_than, max_size, keep)
    verb = "would delete" if args.dry_run else "deleted"
    freed = plan.size if args.dry_run else apply_prune(plan)  # apply_prune: plan.items = what went
    for kind, (n, size) in sorted(plan.by_kind().items()):
        print(f"  {verb} {n} {KINDS.get(kind, kind)} ({human_size(size)})")
    print(f"cache {root}: {verb} {len(plan.items)} entries, {human_size(freed)}; "
          f"{human_size(plan.kept_size)} kept", file=sys.stderr)
    return 0
