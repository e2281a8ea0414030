"""mgld-bench: a reproducible evaluation suite for real-world video super-resolution.

The Python API (see :mod:`mgld_bench.api`)::

    import mgld_bench as mb
    df = mb.evaluate(methods="bicubic", datasets="synthetic", metrics="psnr,ssim", out="reports/nb")
    mb.score("sr_frames/", "gt_frames/", metrics=["psnr", "ssim"])
    mb.load_results("reports/nb"); mb.list_metrics(); mb.list_methods(); mb.list_datasets()

Importing this package is cheap: the API functions are loaded on first use, and torch, pyiqa and
diffusers are imported only by the adapters that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = ("evaluate", "score", "load_results", "list_metrics", "list_methods", "list_datasets")

__all__ = [
    "__version__", "evaluate", "list_datasets", "list_methods", "list_metrics", "load_results", "score",
]

if TYPE_CHECKING:  # pragma: no cover
    from mgld_bench.api import evaluate, list_datasets, list_methods, list_metrics, load_results, score


def __getattr__(name: str) -> Any:
    if name in _API:
        from mgld_bench import api

        return getattr(api, name)
    raise AttributeError(f"module 'mgld_bench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
