"""``mgld-bench list datasets|methods|metrics|protocols``: what is registered and whether it can run."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list registered datasets, methods, metrics or protocols")
    p.add_argument("what", choices=["datasets", "methods", "metrics", "protocols"])
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from mgld_bench.protocol import PROTOCOLS

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
    from mgld_bench.api import list_components

    rows = []
    for row in list_components(args.what):
        ready = {True: "yes", False: "no", None: "needs options"}[row["available"]]
        summary = row["summary"]
        if args.what == "metrics":
            summary += (
                f" ({row['kind']}, {'higher' if row['higher_is_better'] else 'lower'} is better)"
                if "kind" in row else " (no facts declared)"
            )
        rows.append([row["name"], summary, ready, row["reason"], row["origin"]])
    print(
        tabulate(
            rows,
            headers=[args.what[:-1], "summary", "can run here", "why not / how to get it", "registered by"],
            tablefmt="github",
        )
    )
    return 0
