"""How metrics are printed: display names and decimals.

Decimals follow the precision papers print for each metric (MGLD, RealBasicVSR, BasicSR
logs): PSNR 2, SSIM/LPIPS/DISTS 4, NIQE 3, BRISQUE/MUSIQ 2, warping error (×10³) 2.  Unknown
metrics get 4 decimals below 1, 3 below 10 and 2 above, from the largest magnitude in the
column.  Ties and best/second marks are judged on the printed (rounded) value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

DISPLAY_NAMES: dict[str, str] = {
    "psnr": "PSNR",
    "ssim": "SSIM",
    "lpips": "LPIPS",
    "dists": "DISTS",
    "niqe": "NIQE",
    "brisque": "BRISQUE",
    "musiq": "MUSIQ",
    "clipiqa": "CLIP-IQA",
    "dover": "DOVER",
    "warping-error": "E*warp",
    "tlpips": "tLPIPS",
    "tof": "tOF",
}

DECIMALS: dict[str, int] = {
    "psnr": 2,
    "ssim": 4,
    "lpips": 4,
    "dists": 4,
    "niqe": 3,
    "brisque": 2,
    "musiq": 2,
    "clipiqa": 4,
    "dover": 4,
    "warping-error": 2,
    "tlpips": 4,
    "tof": 3,
}

#: Default column order: full-reference, no-reference, temporal (as in MGLD's tables).
CANONICAL_ORDER = list(DISPLAY_NAMES)


def display_name(metric: str) -> str:
    """The name printed in table headers (the registry name when no display name is known)."""
    return DISPLAY_NAMES.get(metric, DISPLAY_NAMES.get(metric.split("-")[0], metric))


def default_decimals(metric: str, values: Iterable[float]) -> int:
    """Decimals for ``metric``: the table above, else chosen from the values' magnitude."""
    if metric in DECIMALS:
        return DECIMALS[metric]
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    top = max(finite, default=0.0)
    return 4 if top < 1 else 3 if top < 10 else 2


def metric_sort_key(metric: str) -> tuple[int, str]:
    """Known metrics in canonical order first, then the rest alphabetically."""
    try:
        return (CANONICAL_ORDER.index(metric), metric)
    except ValueError:
        return (len(CANONICAL_ORDER), metric)
