"""Frozen values every layer shares: metric facts, tolerances, component references and jobs.

Nothing here imports the rest of the package, so every floor may use it.

* :class:`MetricFacts` -- what is known about a metric without running it (display name,
  decimals, direction, kind, the inputs it reads, its ``compare`` tolerance and why); declared
  once, on the metric's registry entry, and read by the runner, the store and the reports.
* :class:`Ref` -- a registered component with its options (hashable, picklable).
* :class:`InferJob` / :class:`ScoreJob` -- one unit of work, fully described; ``key()`` is the
  cache key.  The local executor loops over them; another executor can ship them elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Metric kinds, in the order tables show them.
KINDS = ("full-reference", "no-reference", "temporal")
#: What a metric may read besides its own options: the SR output, the ground truth, the LR input.
INPUTS = ("sr", "gt", "lr")


@dataclass(frozen=True)
class Tolerance:
    """How far ``compare`` lets a value move from its reference: ``max(abs, rel x |reference|)``."""

    abs: float = 0.0
    rel: float = 0.0
    reason: str = ""

    def allowed(self, reference: float) -> float:
        """The largest change tolerated around ``reference``."""
        rel = self.rel * abs(reference) if math.isfinite(reference) else 0.0
        return max(self.abs, rel)


@dataclass(frozen=True)
class Resources:
    """What one job of a method or metric asks a scheduler for (the Ray executor places jobs by
    it; the local executor ignores it).  ``memory`` is in bytes (0: not declared); ``custom``
    holds named resources of the cluster, e.g. ``(("a100", 1.0),)``."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0
    memory: int = 0
    custom: tuple[tuple[str, float], ...] = ()


#: A job that computes on the CPU only (the default of methods and metrics).
CPU = Resources()
#: A job that uses one GPU when the cluster has one (and runs on the CPU where none is lent).
ONE_GPU = Resources(num_cpus=1.0, num_gpus=1.0)


#: The tolerance of a metric that declares none: it must reproduce to float32 precision.
STRICT = Tolerance(1e-6, 1e-4, "no declared tolerance: must reproduce to float32 precision")


@dataclass(frozen=True)
class MetricFacts:
    """Static facts of one metric, declared once on its registry entry."""

    #: Printed in table headers and figure labels (e.g. "E*warp").
    display: str
    #: One of :data:`KINDS`.
    kind: str
    higher_is_better: bool
    #: The content it reads, a subset of :data:`INPUTS`; its score key covers exactly these.
    reads: tuple[str, ...]
    #: Decimals tables print (None: chosen from the values' magnitude).
    decimals: int | None = None
    #: Printed beside the value ("dB", "x1e3").
    unit: str = ""
    #: Options whose values come from the scoring protocol unless set explicitly.
    protocol_fields: tuple[str, ...] = ()
    #: True when per-frame values follow the protocol's frame subset (``frames``).
    uses_frame_subset: bool = True
    tolerance: Tolerance = STRICT
    #: True when the metric reads the GT only if the clip has one (flow on the GT, say).
    gt_optional: bool = False
    #: What scoring one clip with it asks a scheduler for; metrics with equal resources are
    #: scored together, others in separate jobs (a GPU is never held while CPU metrics run).
    resources: Resources = CPU

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"metric kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        bad = set(self.reads) - set(INPUTS)
        if "sr" not in self.reads or bad:
            raise ValueError(f"a metric reads 'sr' and optionally 'gt', 'lr'; got {self.reads!r}")

    @property
    def needs_gt(self) -> bool:
        """True for metrics that cannot run without ground truth."""
        return "gt" in self.reads and not self.gt_optional


def unknown_metric_facts(name: str) -> MetricFacts:
    """Facts for a metric name no registry entry knows (e.g. from an older store)."""
    return MetricFacts(display=name, kind="full-reference", higher_is_better=True, reads=("sr", "gt"))


def digest(obj: Any) -> str:
    """sha256 of the canonical JSON of ``obj``: the cache-key function."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


def _canonical(obj: Any) -> Any:
    if isinstance(obj, Mapping):  # a dict, or a component's frozen options
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, list | tuple):
        return [_canonical(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    return str(obj) if hasattr(obj, "__fspath__") else repr(obj)


def canonical_json(obj: Any) -> str:
    """Canonical JSON: dict keys sorted, no spaces, non-finite floats as strings."""
    return json.dumps(_canonical(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True)
class Ref:
    """A registered component as the user named it: ``spec`` (``NAME`` or ``NAME:PATH``) and the
    options given for it (canonical JSON).  Registries rebuild the component from it."""

    kind: str
    spec: str
    options: str = "{}"

    @staticmethod
    def of(kind: str, spec: str, options: dict[str, Any] | None = None) -> Ref:
        return Ref(kind, spec, canonical_json(options or {}))

    @property
    def name(self) -> str:
        return self.spec.partition(":")[0].strip().lower()

    def option_dict(self) -> dict[str, Any]:
        return dict(json.loads(self.options))


@dataclass(frozen=True)
class InferJob:
    """Run one method on one clip.

    ``identity`` is the method's identity (name, version, resolved options; canonical JSON),
    ``weights`` the sha256 of each weight file, ``extra`` the method's further inputs (JSON),
    ``lr`` the LR frames' digest; ``seed`` is None for deterministic methods whose output does
    not depend on it (a method that is not deterministic is always cached under its seed)."""

    method: Ref
    dataset: Ref
    clip: str
    identity: str
    weights: tuple[tuple[str, str], ...]
    extra: str
    lr: str
    scale: int
    seed: int | None

    def key(self) -> str:
        """The cache key: covers everything that changes the output."""
        return digest({
            "kind": "infer",
            "format": 1,
            "method": json.loads(self.identity),
            "weights": dict(self.weights),
            "extra": json.loads(self.extra),
            "lr": self.lr,
            "scale": self.scale,
            "seed": self.seed,
        })


@dataclass(frozen=True)
class MetricJob:
    """One metric of a :class:`ScoreJob`: how to rebuild it and what identifies its result."""

    metric: Ref
    identity: str
    backend: str
    reads: tuple[str, ...]
    uses_frame_subset: bool


@dataclass(frozen=True)
class ScoreJob:
    """Score the SR output of one inference job with some metrics.

    ``inputs`` holds the digests of the content (``sr``, ``gt``, ``lr``); each metric's key
    covers its identity, its backend and exactly the inputs its facts say it reads."""

    infer: InferJob
    protocol: str
    frames: tuple[str, str]
    inputs: tuple[tuple[str, str | None], ...]
    metrics: tuple[MetricJob, ...]

    def metric_key(self, metric: MetricJob) -> str:
        inputs = dict(self.inputs)
        return digest(
            {
                "kind": "score",
                "format": 2,
                "metric": json.loads(metric.identity),
                "backend": metric.backend,
                "frames": list(self.frames) if metric.uses_frame_subset else None,
                "inputs": {name: inputs.get(name) for name in metric.reads},
            }
        )


@dataclass(frozen=True)
class Spec:
    """A registry entry as declared: a lazy ``"module:attr"`` target, default parameters that
    make it a variant of its class (``lpips-vgg`` = the LPIPS class with ``net=vgg``), static
    facts (:class:`MetricFacts` for metrics), a one-line summary (else the class's), and older
    spellings that still resolve to it."""

    target: str
    params: tuple[tuple[str, Any], ...] = ()
    facts: Any = None
    aliases: tuple[str, ...] = ()
    summary: str = ""

    @staticmethod
    def of(
        target: str, facts: Any = None, aliases: tuple[str, ...] = (), summary: str = "", **params: Any
    ) -> Spec:
        return Spec(target, tuple(sorted(params.items())), facts, aliases, summary)
