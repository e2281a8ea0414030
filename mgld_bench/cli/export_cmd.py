"""``mgld-bench export OUT --method M --to DIR``: a run's SR outputs as PNG frames or mp4 videos."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="copy a run's SR outputs out of the cache (PNG frames or mp4), by human names",
        description="Write the SR frames of METHOD in the run folder OUT to DIR/<method>/<dataset>/<clip>/ "
        "(PNG, byte-identical to the cached frames) or DIR/<method>/<dataset>/<clip>.mp4 (at the clip's fps). "
        "Nothing is recomputed.",
    )
    p.add_argument("out", type=Path, help="run folder (holding results.sqlite)")
    p.add_argument("--method", "--methods", dest="methods", required=True, help="method(s), comma-separated")
    p.add_argument("--to", type=Path, required=True, help="target folder")
    p.add_argument("--clips", help="only these clips (comma-separated)")
    p.add_argument("--datasets", help="only these datasets (comma-separated)")
    p.add_argument("--format", choices=["png", "mp4"], default="png", help="png (default) or mp4")
    p.add_argument("--lossless", action="store_true", help="mp4: lossless RGB H.264 (decodes to the same pixels)")
    p.add_argument("--fps", type=float, help="mp4: frame rate (default: the clip's own)")
    p.add_argument("--cache-dir", type=Path, help="cache folder to read (default: the one the run recorded)")
    p.add_argument(
        "--data-root", "--root", dest="data_root",
        help="mp4: data root to read the clip's fps from (default: the run's)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from mgld_bench.report.export import export_outputs
    from mgld_bench.runner.config import split_names

    files = export_outputs(
        args.out,
        split_names(args.methods),
        args.to,
        fmt=args.format,
        clips=split_names(args.clips) or None,
        datasets=split_names(args.datasets) or None,
        cache_dir=args.cache_dir,
        fps=args.fps,
        lossless=args.lossless,
        data_root=args.data_root,
    )
    print(f"{len(files)} file(s) written under {args.to}", file=sys.stderr)
    return 0
