"""Argument helpers shared by sub-commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from mgld_bench.store.cache import Cache


def add_cache_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cache-dir", type=Path,
        help="content-addressed cache (default $MGLD_BENCH_CACHE, else the per-user cache folder)",
    )


def open_cache(args: argparse.Namespace) -> Cache:
    """The cache of ``--cache-dir``, after collecting job folders that killed runs left behind."""
    from mgld_bench.store.sweep import collect_stale

    cache = Cache(args.cache_dir)
    collect_stale(cache.root)
    return cache


def add_device_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
