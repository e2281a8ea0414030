"""Per-metric regression tolerances for ``mgld-bench compare``.

A value passes when it is no worse than the reference by more than
``allowed = max(abs, rel × |reference|)`` (direction-aware: "worse" is lower for
higher-is-better metrics and higher otherwise).  Each default has its reason next to it; a file
(YAML or JSON: ``{metric: {abs: X, rel: Y}}``, with ``"*"`` for every other metric) or the CLI
flags ``--abs-tol METRIC=X`` / ``--rel-tol METRIC=X`` override them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError


@dataclass(frozen=True)
class Tolerance:
    """Absolute and relative tolerance of one metric, and why."""

    abs: float = 0.0
    rel: float = 0.0
    reason: str = ""

    def allowed(self, reference: float) -> float:
        """The largest change tolerated around ``reference``."""
        rel = self.rel * abs(reference) if reference == reference and abs(reference) != float("inf") else 0.0
        return max(self.abs, rel)


DEFAULT_KEY = "*"

DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    "psnr": Tolerance(
        0.01,
        0.0,
        "deterministic given the same frames; 0.01 dB is the last digit "
        "papers print and absorbs float summation-order and resize-kernel differences "
        "between numpy/OpenCV builds",
    ),
    "ssim": Tolerance(
        1e-4,
        0.0,
        "last printed digit (4 decimals); float32 Y conversion moves the 4th decimal at most (BasicSR vs float64)",
    ),
    "lpips": Tolerance(1e-3, 0.0, "float32 network: CPU vs GPU and cuDNN algorithm choice move it in the 4th decimal"),
    "dists": Tolerance(1e-3, 0.0, "float32 network, as LPIPS"),
    "niqe": Tolerance(0.01, 0.0, "float32 feature statistics; 3 printed decimals"),
    "brisque": Tolerance(0.05, 0.0, "float32 features and SVR; 2 printed decimals on a ~0-100 scale"),
    "musiq": Tolerance(
        0.05, 0.0, "float32 transformer on a 0-100 scale, GPU kernels not bitwise deterministic; 2 printed decimals"
    ),
    "clipiqa": Tolerance(1e-3, 0.0, "float32 CLIP network on a 0-1 scale"),
    "dover": Tolerance(1e-3, 0.0, "float32 video network"),
    "warping-error": Tolerance(
        0.01, 0.01, "depends on optical flow, whose output varies with the OpenCV build and thread count; 1 % relative"
    ),
    DEFAULT_KEY: Tolerance(1e-6, 1e-4, "no known tolerance: must reproduce to float32 precision"),
}


def tolerance_for(metric: str, table: dict[str, Tolerance]) -> Tolerance:
    """The tolerance of ``metric`` (the ``"*"`` entry when it has none)."""
    return table.get(metric) or table.get(DEFAULT_KEY) or Tolerance()


def load_tolerance_file(path: Path | str, base: dict[str, Tolerance] | None = None) -> dict[str, Tolerance]:
    """``base`` (default: the defaults) updated from a YAML or JSON tolerance file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise BenchError(f"cannot read tolerance file {path}: {exc}") from exc
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:
        raise BenchError(f"tolerance file {path} is not valid YAML/JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BenchError(f"tolerance file {path} must map metric names to {{abs: X, rel: Y}}")
    table = dict(DEFAULT_TOLERANCES if base is None else base)
    for metric, spec in data.items():
        if not isinstance(spec, dict) or not set(spec) <= {"abs", "rel", "reason"}:
            raise BenchError(
                f"tolerance file {path}: entry {metric!r} must be a mapping with keys abs, rel "
                f"(and optionally reason); got {spec!r}"
            )
        old = tolerance_for(str(metric), table)
        table[str(metric)] = Tolerance(
            _number(spec.get("abs", old.abs), f"{path}: {metric}.abs"),
            _number(spec.get("rel", old.rel), f"{path}: {metric}.rel"),
            str(spec.get("reason", f"set in {path.name}")),
        )
    return table


def apply_flags(
    table: dict[str, Tolerance], abs_flags: list[str] | None, rel_flags: list[str] | None
) -> dict[str, Tolerance]:
    """``table`` updated by ``METRIC=VALUE`` flags (``*=VALUE`` for the default)."""
    table = dict(table)
    for field, flags in (("abs", abs_flags or []), ("rel", rel_flags or [])):
        for flag in flags:
            metric, sep, raw = flag.partition("=")
            if not sep or not metric:
                raise BenchError(f"--{field}-tol expects METRIC=VALUE (e.g. psnr=0.05), got {flag!r}")
            value = _number(raw, f"--{field}-tol {flag}")
            old = tolerance_for(metric, table)
            table[metric] = replace(old, **{field: value}, reason=f"--{field}-tol on the command line")
    return table


def _number(raw: Any, what: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise BenchError(f"{what}: {raw!r} is not a number") from None
    if not value >= 0:
        raise BenchError(f"{what}: tolerances must be >= 0, got {raw!r}")
    return value
