"""Turning names from the command line into a checked plan: every component is built through
its registry (:meth:`~mgld_bench.registry.Registry.build`, one call per name), then the plan is
checked and assembled.

* every ``--set NAME.OPTION`` must name a component of this run (a typo is an error with the
  close matches, never a silently ignored option);
* a metric takes the protocol's values for the fields its facts list (``protocol_fields``)
  unless the user set them (``Registry.build(..., protocol=)``); :func:`effective_protocol` then
  says which protocol the metric really used, and that is what the store records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from mgld_bench.datasets.base import Dataset
from mgld_bench.errors import BenchError
from mgld_bench.methods.base import Method
from mgld_bench.metrics.base import Metric
from mgld_bench.protocol import Protocol, get_protocol
from mgld_bench.registry import DATASETS, METHODS, METRICS, Registry, absolute_path, check_option_targets
from mgld_bench.specs import Ref


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"folder:/data/x"`` -> ("folder", "/data/x"); ``"bicubic"`` -> ("bicubic", None)."""
    name, sep, arg = spec.partition(":")
    return name.strip().lower(), (arg if sep else None)


def create(registry: Registry, spec: str, options: dict[str, dict[str, Any]], **extra: Any) -> Any:
    """Instantiate ``spec`` (``NAME`` or ``NAME:PATH``) with its ``--set`` options."""
    return registry.instantiate(registry.ref(spec, options), **extra)


def build_metric(spec: str, protocol: Protocol, options: dict[str, dict[str, Any]]) -> Metric:
    """A metric with the protocol's values for its ``protocol_fields`` unless set by the user
    (:meth:`Registry.build`, as a run builds its metrics)."""
    return METRICS.build(spec, options, protocol=protocol)[1]


def effective_protocol(protocol: Protocol, metric: Metric) -> Protocol:
    """``protocol`` with the metric's own values for its protocol fields: unchanged when they
    agree, else renamed ``NAME[field=value,...]`` so a result never misstates its protocol."""
    names = {f.name for f in fields(protocol)}
    changed = {
        f: metric.options[f]
        for f in metric.protocol_fields
        if f in names and f in metric.options and metric.options[f] != getattr(protocol, f)
    }
    # options that change the number's meaning (facts.protocol_options) name the protocol too
    renamed = {
        k: metric.options[k]
        for k in getattr(metric.facts, "protocol_options", ())
        if k in metric.options and metric.options[k] != metric.defaults.get(k)
    }
    if not changed and not renamed:
        return protocol
    suffix = ",".join(f"{k}={v}" for k, v in sorted({**changed, **renamed}.items()))
    return replace(protocol, name=f"{protocol.name}[{suffix}]", **changed)


def override_protocol(protocol: Protocol, **values: Any) -> Protocol:
    """``protocol`` with some fields changed (``score --crop-border``), renamed as above."""
    changed = {k: v for k, v in values.items() if v is not None and v != getattr(protocol, k)}
    if not changed:
        return protocol
    suffix = ",".join(f"{k}={v}" for k, v in sorted(changed.items()))
    return replace(protocol, name=f"{protocol.name}[{suffix}]", **changed)


@dataclass
class DatasetPlan:
    """One dataset of a run, resolved: its protocol and the metrics configured for it."""

    ref: Ref
    dataset: Dataset
    protocol: Protocol
    metrics: list[Metric]
    #: (metric name, reason) of the metrics that cannot run on it.
    skipped: list[tuple[str, str]]
    #: The protocol each metric really uses (see :func:`effective_protocol`).
    used: dict[str, Protocol]


@dataclass
class Plan:
    """Everything a run needs, resolved before any work starts."""

    datasets: list[DatasetPlan]
    methods: list[tuple[Ref, Method]]
    clips: list[str] | None = None
    data_root: str | None = None

    @property
    def provenance(self) -> dict[str, Any]:
        """What the run is made of, for the store: dataset specs under their labels (enough to
        rebuild each dataset for figures) and method identities.  Read after the store has
        settled the labels (``ResultStore.claim_dataset_labels``)."""
        return {
            "datasets": {
                d.dataset.label: {"spec": d.ref.spec, "options": dict(d.dataset.options), "root": self.data_root}
                for d in self.datasets
            },
            "methods": {m.label: m.identity() for _, m in self.methods},
            # sha256 of each declared weight file (or "missing"), so a page of the results can say
            # which weights made them; the digests are remembered, the jobs do not hash again
            "weights": {
                "methods": {m.label: weight_digests(m.weight_files()) for _, m in self.methods},
                "metrics": {metric.name: weight_digests(metric.weight_files())
                            for d in self.datasets for metric in d.metrics},
            },
            "execution": self.execution(),
        }

    def execution(self, device_kind: str | Callable[[Any], str | None] | None = None) -> dict[str, Any]:
        """How the run executes its components: the execution-only options (batch sizes) of each
        method and metric, by label, as used on a device of kind ``device_kind`` when known (one
        kind for all, or a function of the component where an executor placed them apart).
        They are in no identity, label or cache key, so this record is where a run states them."""
        kind_of = device_kind if callable(device_kind) else lambda _: device_kind
        out: dict[str, dict[str, Any]] = {"methods": {}, "metrics": {}}
        for _, m in self.methods:
            if m.execution_options:
                out["methods"][m.label] = m.execution(kind_of(m))
        for d in self.datasets:
            for metric in d.metrics:
                if metric.execution_options:
                    out["metrics"][metric.label] = metric.execution(kind_of(metric))
        return out


def gt_free_metrics() -> list[str]:
    """For hints: the first two no-reference and the first temporal metric that read no ground
    truth, by their declared facts, in declaration order."""
    entries = sorted((e for e in METRICS.entries() if e.facts is not None and "gt" not in e.facts.reads),
                     key=lambda e: METRICS.position(e.name))
    nr = [e.name for e in entries if e.facts.kind == "no-reference"][:2]
    return nr + [e.name for e in entries if e.facts.kind == "temporal"][:1]


def no_gt_reason(metric: str, dataset: str) -> str:
    """Why ``metric`` is skipped on ``dataset`` (no GT), with the metrics that would run."""
    return (f"{metric} needs ground truth (GT); dataset {dataset} has no GT; "
            f"use metrics without GT, e.g. --metrics {','.join(gt_free_metrics())} (see `mgld-bench list metrics`)")


def weight_digests(files: list[Any]) -> dict[str, str]:
    """``{file name: sha256}`` of weight files (``"missing"`` for one not on disk).  A file whose
    size and mtime match its trust record is not hashed again (the record's digest, as the trust
    check at load time takes it): a cold run no longer reads ~0.8 GB of LPIPS/DISTS backbones."""
    from mgld_bench.fileio import file_sha256
    from mgld_bench.weight_trust import known_sha256

    out = {}
    for wf in files:
        path = wf.path()
        out[wf.name] = (known_sha256(wf, path) or file_sha256(path)) if path.is_file() else "missing"
    return dict(sorted(out.items()))


def usable_metrics(
    metrics: list[Metric], has_gt: bool, dataset: str = "this"
) -> tuple[list[Metric], list[tuple[str, str]]]:
    """The metrics that can run on a dataset; and (label, reason) for those that cannot."""
    ready: list[Metric] = []
    skipped: list[tuple[str, str]] = []
    for metric in metrics:
        # filed under the label, as its scores would be: lpips and lpips[model=...] stay apart
        if metric.needs_gt and not has_gt:
            skipped.append((metric.label, no_gt_reason(metric.name, dataset)))
            continue
        ok, reason = metric.availability()
        if ok:
            ready.append(metric)
        else:
            skipped.append((metric.label, reason))
    return ready, skipped


def _canonical_metric(spec: str) -> str:
    """``NAME`` or ``NAME:ARG`` with NAME spelt as registered (ARG lower-cased: pyiqa:NAME)."""
    name, arg = parse_spec(spec)
    return METRICS.canonical(name) + (f":{arg.strip().lower()}" if arg is not None else "")


def duplicate_label_hint(specs: list[str], methods: list[Method], dup: set[str]) -> str:
    """The error for methods filed under one label, with the ``--set SPEC.label=NAME`` that
    tells them apart (for methods that have a ``label`` option)."""
    import shlex

    fixes = [
        shlex.quote(f"{spec}.label={method.name}-{i}")
        for i, (spec, method) in enumerate(zip(specs, methods, strict=True), 1)
        if method.label in dup and "label" in method.defaults
    ]
    how = ("; give each its own label: " + " ".join(f"--set {f}" for f in fixes)) if fixes else (
        "; run them with options that tell them apart, or into different --out folders")
    return f"two methods would be filed under the same name {', '.join(sorted(dup))}{how}"


def build_plan(
    datasets: list[str], methods: list[str], metrics: list[str], options: dict[str, dict[str, Any]],
    data_root: str | None = None, protocol: str | None = None, clips: list[str] | None = None,
) -> Plan:
    """Resolve every name (unknown names and ``--set`` typos fail here, before any work starts):
    first every component is built through its registry, then the plan is checked and assembled."""
    metrics = list(dict.fromkeys(_canonical_metric(m) for m in metrics))
    check_option_targets(options, {"dataset": datasets, "method": methods, "metric": metrics})
    # paths are recorded absolute: plot/report/table then work from any working directory
    data_root = absolute_path(data_root) if data_root else data_root
    ds = [DATASETS.build(d, options, root=data_root) for d in datasets]
    ds_labels = [d.label for _, d in ds]
    if len(set(ds_labels)) != len(ds_labels):
        raise BenchError(f"a dataset is listed twice: {', '.join(ds_labels)}")
    ms = [METHODS.build(m, options) for m in methods]
    chosen = get_protocol(protocol) if protocol is not None else None
    protos = [chosen or get_protocol(d.default_protocol) for _, d in ds]
    built = [[METRICS.build(m, options, protocol=proto)[1] for m in metrics] for proto in protos]
    labels = [m.label for _, m in ms]
    dup = {x for x in labels if labels.count(x) > 1}
    if dup:
        raise BenchError(duplicate_label_hint(methods, [m for _, m in ms], dup))
    planned = []
    for (ref, dataset), proto, candidates in zip(ds, protos, built, strict=True):
        ready, skipped = usable_metrics(candidates, dataset.has_gt, dataset.label)
        used = {m.name: effective_protocol(proto, m) for m in ready}
        planned.append(DatasetPlan(ref, dataset, proto, ready, skipped, used))
    return Plan(planned, ms, clips, data_root)


def plan_problems(plan: Plan) -> tuple[list[str], list[str]]:
    """Everything of ``plan`` that cannot run, found before any work starts: (one line per
    unusable method, one line per metric skipped on a dataset), each with its reason and fix."""
    methods = []
    for _, method in plan.methods:
        ok, reason = method.availability()
        if not ok:
            methods.append(f"method {method.label} cannot run: {reason}")
    metrics = [f"metric {name} skipped on {dp.dataset.label}: {reason}"
               for dp in plan.datasets for name, reason in dp.skipped]
    return methods, metrics


def check_plan(plan: Plan, strict: bool = False, keep_going: bool = False) -> list[str]:
    """Every plan-time check, in one pass: with ``strict`` any method or metric that cannot run is
    an error; an unusable method is one unless ``keep_going`` (all of them named at once).
    Returns the notices to print: one line per unusable method and per skipped metric."""
    if strict:
        problems = [f"method {m.label}: {reason}" for _, m in plan.methods for ok, reason in [m.availability()]
                    if not ok]
        problems += [f"metric {name} on {dp.dataset.label}: {reason}"
                     for dp in plan.datasets for name, reason in dp.skipped]
        if problems:
            raise BenchError("--strict: " + "; ".join(problems))
    method_problems, metric_problems = plan_problems(plan)
    if method_problems and not keep_going:
        raise unusable_methods_error(method_problems)  # all of them, before anything is written
    return method_problems + metric_problems


def unusable_methods_error(lines: list[str]) -> BenchError:
    """One error naming every unusable method (not only the first)."""
    if len(lines) == 1:
        return BenchError(lines[0])
    return BenchError(f"{len(lines)} methods cannot run -- " + "; ".join(
        line.removeprefix("method ") for line in lines) + " (or --keep-going to run the others)")
