"""Argument helpers shared by the report commands (table, plot, compare)."""

from __future__ import annotations

import argparse

from mgld_bench.errors import BenchError


def names(text: str | None) -> list[str] | None:
    """``"a,b"`` -> ["a", "b"]; None/empty -> None."""
    items = [t.strip() for t in (text or "").split(",") if t.strip()]
    return list(dict.fromkeys(items)) or None


def int_assignments(flags: list[str] | None, what: str) -> dict[str, int]:
    """``["psnr=3"]`` -> {"psnr": 3}; raise naming the flag otherwise."""
    out: dict[str, int] = {}
    for flag in flags or []:
        key, sep, raw = flag.partition("=")
        try:
            if not sep or not key:
                raise ValueError
            out[key.strip()] = int(raw)
        except ValueError:
            raise BenchError(f"{what} expects METRIC=N (e.g. psnr=3), got {flag!r}") from None
    return out


def add_selection_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--datasets", help="only these datasets, in this order (comma-separated)")
    p.add_argument(
        "--methods", help="only these methods, in this order (default: --reference first, then alphabetical)"
    )
    p.add_argument(
        "--reference",
        metavar="METHOD",
        help="a baseline method listed first (e.g. bicubic); in figures it also stands in for the input panel",
    )
    p.add_argument(
        "--metrics", help="only these metrics, in this order (default: full-reference, no-reference, temporal)"
    )
