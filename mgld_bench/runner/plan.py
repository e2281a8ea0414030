"""Turning names from the command line into configured components."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mgld_bench.datasets.base import Dataset
from mgld_bench.errors import BenchError
from mgld_bench.methods.base import Method
from mgld_bench.metrics.base import Metric
from mgld_bench.protocol import Protocol, get_protocol
from mgld_bench.registry import DATASETS, METHODS, METRICS, Registry


def split_names(text: str | None) -> list[str]:
    """``"a,b, c"`` -> ["a", "b", "c"] (empty entries dropped, duplicates kept once)."""
    return list(dict.fromkeys(t.strip() for t in (text or "").split(",") if t.strip()))


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"folder:/data/x"`` -> ("folder", "/data/x"); ``"bicubic"`` -> ("bicubic", None)."""
    name, sep, arg = spec.partition(":")
    return name.strip().lower(), (arg if sep else None)


def create(registry: Registry, spec: str, options: dict[str, dict[str, Any]], **extra: Any) -> Any:
    """Instantiate ``spec`` (``NAME`` or ``NAME:PATH``) with its ``--set`` options.

    ``extra`` options (such as ``root`` from ``--data-root``) are passed only to components
    that declare them.
    """
    name, arg = parse_spec(spec)
    cls = registry.load(name)
    opts: dict[str, Any] = {}
    defaults = getattr(cls, "defaults", {})
    for key, value in extra.items():
        if key in defaults and value is not None:
            opts[key] = value
    if arg is not None:
        if "path" not in defaults:
            raise BenchError(f"{registry.kind} {name!r} takes no argument (got {spec!r})")
        opts["path"] = arg
    opts.update(options.get(name, {}))
    opts.update(options.get(spec.lower(), {}) if spec.lower() != name else {})
    return cls(**opts)


@dataclass
class Plan:
    """Everything a run needs, resolved."""

    datasets: list[Dataset]
    methods: list[Method]
    metric_names: list[str]
    metric_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    protocol: str | None = None
    clips: list[str] | None = None

    def protocol_for(self, dataset: Dataset) -> Protocol:
        return get_protocol(self.protocol or dataset.default_protocol)

    def metrics_for(self, protocol: Protocol, has_gt: bool) -> tuple[list[Metric], list[tuple[str, str]]]:
        """Metrics configured for ``protocol``; and (name, reason) for those that cannot run."""
        ready: list[Metric] = []
        skipped: list[tuple[str, str]] = []
        for name in self.metric_names:
            metric = build_metric(name, protocol, self.metric_options)
            if metric.needs_gt and not has_gt:
                skipped.append((metric.name, "needs ground truth; this dataset has none"))
                continue
            ok, reason = metric.availability()
            if ok:
                ready.append(metric)
            else:
                skipped.append((metric.name, reason))
        return ready, skipped


def build_metric(spec: str, protocol: Protocol, options: dict[str, dict[str, Any]]) -> Metric:
    """A metric with the protocol's values for its ``protocol_fields`` unless set by the user."""
    name, arg = parse_spec(spec)
    cls = METRICS.load(name)
    opts: dict[str, Any] = {}
    for fld in getattr(cls, "protocol_fields", ()):
        if fld in cls.defaults and hasattr(protocol, fld):
            opts[fld] = getattr(protocol, fld)
    if arg is not None:  # NAME:ARG, e.g. pyiqa:topiq_nr -> the metric's ``model`` option
        if "model" not in cls.defaults:
            raise BenchError(f"metric {name!r} takes no argument (got {spec!r})")
        opts["model"] = arg.strip()
    opts.update(options.get(name, {}))
    if spec.lower() != name:
        opts.update(options.get(spec.lower(), {}))
    return cls(**opts)


def build_plan(
    datasets: list[str], methods: list[str], metrics: list[str], options: dict[str, dict[str, Any]],
    data_root: str | None = None, protocol: str | None = None, clips: list[str] | None = None,
) -> Plan:
    """Resolve every name (unknown names fail here, before any work starts)."""
    for m in metrics:
        METRICS.get(parse_spec(m)[0])
    if protocol is not None:
        get_protocol(protocol)
    ds = [create(DATASETS, d, options, root=data_root) for d in datasets]
    ds_labels = [d.label for d in ds]
    if len(set(ds_labels)) != len(ds_labels):
        raise BenchError(f"a dataset is listed twice: {', '.join(ds_labels)}")
    ms = [create(METHODS, m, options) for m in methods]
    labels = [m.label for m in ms]
    dup = {x for x in labels if labels.count(x) > 1}
    if dup:
        raise BenchError(f"two methods would be filed under the same name {', '.join(sorted(dup))}; set a label")
    return Plan(ds, ms, metrics, options, protocol, clips)
