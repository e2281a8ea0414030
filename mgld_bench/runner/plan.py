"""Turning names from the command line into configured components -- the one route from names,
``--set`` options and the protocol to a dataset, method or metric.

* every ``--set NAME.OPTION`` must name a component of this run (a typo is an error with the
  close matches, never a silently ignored option);
* a metric takes the protocol's values for the fields its facts list (``protocol_fields``)
  unless the user set them; :func:`effective_protocol` then says which protocol the metric
  really used, and that is what the store records.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields, replace
from typing import Any

from mgld_bench.datasets.base import Dataset
from mgld_bench.errors import BenchError, UnknownNameError
from mgld_bench.methods.base import Method
from mgld_bench.metrics.base import Metric
from mgld_bench.protocol import Protocol, get_protocol
from mgld_bench.registry import DATASETS, METHODS, METRICS, Registry
from mgld_bench.specs import Ref


def split_names(text: str | None) -> list[str]:
    """``"a,b, c"`` -> ["a", "b", "c"] (empty entries dropped, duplicates kept once)."""
    return list(dict.fromkeys(t.strip() for t in (text or "").split(",") if t.strip()))


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"folder:/data/x"`` -> ("folder", "/data/x"); ``"bicubic"`` -> ("bicubic", None)."""
    name, sep, arg = spec.partition(":")
    return name.strip().lower(), (arg if sep else None)


def options_for(registry: Registry, spec: str, options: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ``--set`` options of ``spec``: those given for its name (or an alias), then for the
    whole spec (``folder:/x.option=...``)."""
    name, _ = parse_spec(spec)
    canonical = registry.canonical(name)
    opts: dict[str, Any] = {}
    for key, values in options.items():
        if registry.canonical(key) == canonical:
            opts.update(values)
    if spec.lower() != name:
        opts.update(options.get(spec.lower(), {}))
    return opts


def ref_for(registry: Registry, spec: str, options: dict[str, dict[str, Any]]) -> Ref:
    """The :class:`Ref` of ``spec`` with its ``--set`` options (name spelt as registered)."""
    name, arg = parse_spec(spec)
    canonical = registry.get(name).name
    full = canonical + (f":{arg}" if arg is not None else "")
    return Ref.of(registry.kind, full, options_for(registry, spec, options))


def instantiate(registry: Registry, ref: Ref, **extra: Any) -> Any:
    """The component of ``ref`` (see :meth:`Registry.instantiate`)."""
    return registry.instantiate(ref, **extra)


def create(registry: Registry, spec: str, options: dict[str, dict[str, Any]], **extra: Any) -> Any:
    """Instantiate ``spec`` (``NAME`` or ``NAME:PATH``) with its ``--set`` options."""
    return instantiate(registry, ref_for(registry, spec, options), **extra)


def check_option_targets(options: dict[str, dict[str, Any]], specs: dict[str, list[str]]) -> None:
    """Every ``--set NAME.OPTION`` names a component of this run; else an error with close names.

    ``specs`` maps a registry kind to the specs the run uses (``{"metric": ["psnr"], ...}``).
    """
    registries = {"dataset": DATASETS, "method": METHODS, "metric": METRICS}
    known: list[str] = []
    for target in options:
        found = False
        for kind, names in specs.items():
            reg = registries[kind]
            for spec in names:
                name, _ = parse_spec(spec)
                known += [spec.lower(), name]
                found = found or target == spec.lower() or reg.canonical(target) == reg.canonical(name)
        if found:
            continue
        close = difflib.get_close_matches(target, sorted(set(known)), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownNameError(
            f"--set {target}.OPTION: {target!r} is not a dataset, method or metric of this run.{hint} "
            f"This run has: {', '.join(sorted({parse_spec(s)[0] for v in specs.values() for s in v}))}"
        )


def build_metric(spec: str, protocol: Protocol, options: dict[str, dict[str, Any]]) -> Metric:
    """A metric with the protocol's values for its ``protocol_fields`` unless set by the user."""
    name, arg = parse_spec(spec)
    entry = METRICS.get(name)
    facts = METRICS.facts(entry.name if arg is None else f"{entry.name}:{arg}")
    defaults = {**getattr(entry.load(), "defaults", {}), **dict(entry.params)}
    opts: dict[str, Any] = {}
    for fld in getattr(facts, "protocol_fields", ()):
        if fld in defaults and hasattr(protocol, fld):
            opts[fld] = getattr(protocol, fld)
    opts.update(options_for(METRICS, spec, options))
    if arg is not None:  # NAME:ARG (pyiqa:topiq_nr): the registry routes the argument
        return METRICS.instantiate(Ref.of("metric", f"{entry.name}:{arg}", opts))
    return entry.create(**opts)


def effective_protocol(protocol: Protocol, metric: Metric) -> Protocol:
    """``protocol`` with the metric's own values for its protocol fields: unchanged when they
    agree, else renamed ``NAME[field=value,...]`` so a result never misstates its protocol."""
    names = {f.name for f in fields(protocol)}
    changed = {
        f: metric.options[f]
        for f in metric.protocol_fields
        if f in names and f in metric.options and metric.options[f] != getattr(protocol, f)
    }
    if not changed:
        return protocol
    suffix = ",".join(f"{k}={v}" for k, v in sorted(changed.items()))
    return replace(protocol, name=f"{protocol.name}[{suffix}]", **changed)


def override_protocol(protocol: Protocol, **values: Any) -> Protocol:
    """``protocol`` with some fields changed (``score --crop-border``), renamed as above."""
    changed = {k: v for k, v in values.items() if v is not None and v != getattr(protocol, k)}
    if not changed:
        return protocol
    suffix = ",".join(f"{k}={v}" for k, v in sorted(changed.items()))
    return replace(protocol, name=f"{protocol.name}[{suffix}]", **changed)


@dataclass
class Plan:
    """Everything a run needs, resolved."""

    datasets: list[Dataset]
    methods: list[Method]
    metric_names: list[str]
    metric_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    protocol: str | None = None
    clips: list[str] | None = None
    dataset_refs: list[Ref] = field(default_factory=list)
    method_refs: list[Ref] = field(default_factory=list)
    data_root: str | None = None

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

    def provenance(self) -> dict[str, Any]:
        """What the run was made of, for the store: dataset specs (enough to rebuild each
        dataset for figures), method identities."""
        return {
            "datasets": {
                ds.label: {"spec": ref.spec, "options": ds.options, "root": self.data_root}
                for ref, ds in zip(self.dataset_refs, self.datasets, strict=True)
            },
            "methods": {m.label: m.identity() for m in self.methods},
        }


def _canonical_metric(spec: str) -> str:
    """``NAME`` or ``NAME:ARG`` with NAME spelt as registered (ARG lower-cased: pyiqa:NAME)."""
    name, arg = parse_spec(spec)
    return METRICS.canonical(name) + (f":{arg.strip().lower()}" if arg is not None else "")


def build_plan(
    datasets: list[str], methods: list[str], metrics: list[str], options: dict[str, dict[str, Any]],
    data_root: str | None = None, protocol: str | None = None, clips: list[str] | None = None,
) -> Plan:
    """Resolve every name (unknown names and ``--set`` typos fail here, before any work starts)."""
    metrics = list(dict.fromkeys(_canonical_metric(m) for m in metrics))
    for m in metrics:
        METRICS.get(m)
    check_option_targets(options, {"dataset": datasets, "method": methods, "metric": metrics})
    if protocol is not None:
        get_protocol(protocol)
    ds_refs = [ref_for(DATASETS, d, options) for d in datasets]
    ds = [instantiate(DATASETS, r, root=data_root) for r in ds_refs]
    ds_labels = [d.label for d in ds]
    if len(set(ds_labels)) != len(ds_labels):
        raise BenchError(f"a dataset is listed twice: {', '.join(ds_labels)}")
    m_refs = [ref_for(METHODS, m, options) for m in methods]
    ms = [instantiate(METHODS, r) for r in m_refs]
    labels = [m.label for m in ms]
    dup = {x for x in labels if labels.count(x) > 1}
    if dup:
        raise BenchError(f"two methods would be filed under the same name {', '.join(sorted(dup))}; set a label")
    return Plan(ds, ms, metrics, options, protocol, clips, ds_refs, m_refs, data_root)
