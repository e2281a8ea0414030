"""Per-metric regression tolerances for ``mgld-bench compare``.

A value passes when it is no worse than the reference by more than
``allowed = max(abs, rel × |reference|)`` (direction-aware: "worse" is lower for
higher-is-better metrics and higher otherwise).  Each metric's default tolerance, with its
reason, is declared with its other facts on its registry entry (:mod:`mgld_bench.builtins`);
a user's file (YAML or JSON: ``{metric: {abs: X, rel: Y}}``, with ``"*"`` for every metric that
declares none) or the CLI flags ``--abs-tol METRIC=X`` / ``--rel-tol METRIC=X`` override them.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError
from mgld_bench.specs import STRICT, Tolerance

__all__ = ["DEFAULT_KEY", "DEFAULT_TOLERANCES", "Tolerance", "apply_flags", "load_tolerance_file", "tolerance_for"]


DEFAULT_KEY = "*"

#: No overrides: every metric gets the tolerance its registry entry declares.
DEFAULT_TOLERANCES: dict[str, Tolerance] = {}


def tolerance_for(metric: str, table: dict[str, Tolerance] | None = None) -> Tolerance:
    """The tolerance of ``metric``: a user override (file or flag) for it, else the tolerance
    its registry entry declares, else the user's ``"*"`` entry, else the strict default."""
    from mgld_bench.report.metric_facts import canonical_metric, metric_facts

    table = table or {}
    name = canonical_metric(metric)
    for key in (metric, name):
        if key in table:
            return table[key]
    declared = metric_facts(name).tolerance
    if declared is not STRICT:
        return declared
    return table.get(DEFAULT_KEY, STRICT)


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
