"""``mgld-bench score SR [GT]``: score a folder of frames without defining a dataset."""

from __future__ import annotations

import argparse
import json
import math
import tempfile
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


def _open_frames(path: Path) -> Any:
    """A folder of images, or a video file (decoded lazily)."""
    from mgld_bench.frames import FolderFrames

    if path.is_file():
        from mgld_bench.datasets.videofile import VideoFrames

        return VideoFrames(path)
    return FolderFrames.from_folder(path)


def run(args: argparse.Namespace) -> int:
    from mgld_bench.errors import FrameError
    from mgld_bench.frames import Clip
    from mgld_bench.options import parse_assignments
    from mgld_bench.protocol import get_protocol
    from mgld_bench.registry import METRICS
    from mgld_bench.report.console import format_value
    from mgld_bench.runner.jobs import score_frames
    from mgld_bench.runner.plan import build_metric, check_option_targets, override_protocol, split_names

    protocol = override_protocol(
        get_protocol(args.protocol), crop_border=args.crop_border, color_space=args.color_space
    )
    options = parse_assignments(args.set)
    names = [METRICS.canonical(m) for m in split_names(args.metrics)]
    check_option_targets(options, {"metric": names})
    metrics = [build_metric(m, protocol, options) for m in names]

    sr = _open_frames(args.sr)
    gt = _open_frames(args.gt) if args.gt else None
    if gt is not None and len(gt) != len(sr):
        raise FrameError(f"{args.sr} holds {len(sr)} frames but {args.gt} holds {len(gt)}; they must match")
    for m in metrics:
        ok, reason = m.availability()
        if not ok:
            from mgld_bench.errors import BenchError

            raise BenchError(f"metric {m.name} is unavailable: {reason}")
    clip = Clip(dataset="score", name=args.sr.name, lr=sr, gt=gt, scale=1)
    device = args.device

    from mgld_bench.store.cache import Cache

    with tempfile.TemporaryDirectory(prefix="mgld-bench-score-") as tmp:
        cache = Cache(tmp) if args.no_cache else Cache(args.cache_dir)
        results = score_frames(metrics, clip, sr, cache, protocol, device)

    if args.json:
        payload = {
            "protocol": protocol.fields(),
            "metrics": {
                name: {
                    "mean": _json_number(res.value),
                    "frames": [_json_number(v) for _, v in sorted(res.frames.items())],
                    "params": next(m.identity() for m in metrics if m.name == name),
                }
                for name, (res, _, _) in results.items()
            },
        }
        print(json.dumps(payload, indent=2))
    else:
        for m in metrics:
            res = results[m.name][0]
            arrow = "↑" if m.higher_is_better else "↓"
            print(f"{m.name} {arrow}: {format_value(res.value, m.name)} (mean of {len(res.frames)} frames)")
    return 0
