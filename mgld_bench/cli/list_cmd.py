"""``mgld-bench list datasets|methods|metrics|protocols``: what is registered and whether it can run."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list registered datasets, methods, metrics or protocols")
    p.add_argument("what", choices=["datasets", "methods", "metrics", "protocols"])
    p.set_defaults(func=run)


def _status(obj: object) -> tuple[str, str]:
    ok, reason = obj.availability()  # type: ignore[attr-defined]
    return ("yes" if ok else "no"), reason


def run(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from mgld_bench.errors import BenchError
    from mgld_bench.protocol import PROTOCOLS
    from mgld_bench.registry import DATASETS, METHODS, METRICS

    if args.what == "protocols":
        rows = [
            [
                p.name,
                p.color_space,
                p.crop_border,
                p.frames,
                p.warp_definition,
                p.flow_backend,
                p.flow_source,
                p.description,
            ]
            for p in PROTOCOLS.values()
        ]
        print(
            tabulate(
                rows,
                headers=["protocol", "colour", "crop", "frames", "warping", "flow", "flow on", "description"],
                tablefmt="github",
            )
        )
        return 0
    registry = {"datasets": DATASETS, "methods": METHODS, "metrics": METRICS}[args.what]
    rows = []
    gpu: bool | None = None
    for entry in registry.entries():
        extra = ""
        if args.what == "metrics" and entry.facts is not None:  # declared facts: no import needed
            f = entry.facts
            extra = f"{f.kind}, {'higher' if f.higher_is_better else 'lower'} is better"
        try:
            cls = entry.load()
        except BenchError as exc:
            rows.append([entry.name, extra, "no", str(exc), entry.origin])
            continue
        summary = entry.summary or getattr(cls, "summary", "")
        if args.what == "metrics" and not extra:
            f = registry.facts(entry.name)
            extra = f"{f.kind}, {'higher' if f.higher_is_better else 'lower'} is better" if f else "no facts declared"
        try:
            ready, reason = _status(entry.create())
        except BenchError as exc:
            ready, reason = "needs options", str(exc)
        if getattr(cls, "requires_cuda", False):
            if gpu is None:
                import torch

                gpu = torch.cuda.is_available()
            if not gpu:
                ready, reason = "no", (reason + "; " if reason else "") + "needs a CUDA GPU"
        rows.append([entry.name, summary if not extra else f"{summary} ({extra})", ready, reason, entry.origin])
    print(
        tabulate(
            rows,
            headers=[args.what[:-1], "summary", "can run here", "why not / how to get it", "registered by"],
            tablefmt="github",
        )
    )
    return 0
