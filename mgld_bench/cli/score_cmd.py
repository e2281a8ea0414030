"""``mgld-bench score SR [GT]``: score a folder of frames without defining a dataset."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from mgld_bench.cli.common import add_cache_args, add_device_arg


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score a folder (or video) of SR frames, against GT frames",
        description="Score the frames in SR (a folder of images or a video) against GT. Frames are matched "
        "in natural filename order; both folders must hold the same number of equally sized frames.",
    )
    p.add_argument("sr", type=Path, help="folder of output frames, or a video file")
    p.add_argument("gt", type=Path, nargs="?", help="GT frames: a folder or a video file")
    p.add_argument("--metrics", default="psnr,ssim", help="comma-separated (default psnr,ssim)")
    p.add_argument("--protocol", default="default", help="protocol giving the defaults below (default: default)")
    p.add_argument("--crop-border", type=int, help="pixels removed from each border (default: the protocol's)")
    p.add_argument("--color-space", choices=["y", "rgb"], help="y (BT.601) or rgb (default: the protocol's)")
    p.add_argument(
        "--set", action="append", default=[], metavar="METRIC.OPTION=VALUE", help="metric option (repeatable)"
    )
    p.add_argument("--json", action="store_true", help='print {"metrics": {NAME: {"mean": ..., "frames": [...]}}}')
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    add_cache_args(p)
    add_device_arg(p)
    p.set_defaults(func=run)


def _json_number(v: float) -> Any:
    """JSON has no inf/NaN: write them as the strings "inf", "-inf", "nan"."""
    if math.isfinite(v):
        return v
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def run(args: argparse.Namespace) -> int:
    from mgld_bench.api import compute_scores
    from mgld_bench.report.console import format_value
    from mgld_bench.runner.config import parse_assignments

    protocol, metrics, results = compute_scores(
        args.sr, args.gt, args.metrics, protocol=args.protocol, crop_border=args.crop_border,
        color_space=args.color_space, options=parse_assignments(args.set), device=args.device,
        cache_dir=args.cache_dir, use_cache=not args.no_cache,
    )
    if args.json:
        payload = {
            "protocol": protocol.fields(),
            "metrics": {
                name: {
                    "mean": _json_number(res.value),
                    "frames": [_json_number(v) for _, v in sorted(res.frames.items())],
                    "params": next(m.identity() for m in metrics if m.name == name),
                }
                for name, res in results.items()
            },
        }
        print(json.dumps(payload, indent=2))
    else:
        for m in metrics:
            res = results[m.name]
            arrow = "↑" if m.higher_is_better else "↓"
            unit = f" {m.unit}" if m.unit else ""
            n = len(res.frames)
            what = f"{m.facts.value_per}{'' if n == 1 else 's'}"
            over = f"mean of {n} {what}" if n else "one value for the clip"
            print(f"{m.name} {arrow}: {format_value(res.value, m.name)}{unit} ({over})")
    return 0
