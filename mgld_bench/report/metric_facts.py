"""The report's view of metric facts: read from the metric registry (declared once, in
:mod:`mgld_bench.builtins` or on a plugin's class), never kept here.

A name no registry entry knows (a plugin not installed here, an old store) still prints: under
its own name, with decimals chosen from the values' magnitude and the strict tolerance.
Older spellings (``warping_error``, ``tlpips``) resolve to today's names.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

from mgld_bench.errors import BenchError
from mgld_bench.specs import KINDS, MetricFacts, unknown_metric_facts


def split_label(name: str) -> tuple[str, str]:
    """``tof[tecogan_crop=False]`` -> ("tof", "[tecogan_crop=False]"): a metric label is the
    metric's name and the options that differ from its defaults (``Metric.label``)."""
    base, sep, rest = name.partition("[")
    return (base, sep + rest) if sep and rest.endswith("]") else (name, "")


@functools.lru_cache(maxsize=256)
def canonical_metric(name: str) -> str:
    """Today's spelling of a metric name or label (aliases resolved; unknown names unchanged)."""
    from mgld_bench.registry import METRICS

    base, options = split_label(name)
    return (METRICS.canonical(base) if base in METRICS else base) + options


@functools.lru_cache(maxsize=256)
def metric_facts(name: str) -> MetricFacts:
    """The declared facts of ``name`` (a label has those of its metric), or neutral ones when
    nothing declares them."""
    from mgld_bench.registry import METRICS

    name = split_label(name)[0]
    if name in METRICS:
        try:
            facts = METRICS.facts(name)
        except BenchError:  # a plugin that fails to load: its rows still print
            facts = None
        if isinstance(facts, MetricFacts):
            return facts
    return unknown_metric_facts(name)


@functools.lru_cache(maxsize=256)
def execution_options(name: str) -> frozenset[str]:
    """The execution-only options ``name``'s registered class declares (``batch_size``...): in no
    row's identity today, but stores written before they were declared kept them in ``params``."""
    from mgld_bench.registry import METRICS

    base = split_label(name)[0]
    if base not in METRICS:
        return frozenset()
    try:
        cls = METRICS.get(base).load()
    except (BenchError, ImportError, AttributeError):  # a plugin that fails to load
        return frozenset()
    return frozenset(getattr(cls, "execution_options", ()))


def display_name(metric: str) -> str:
    """The name printed in table headers and figure labels (a label keeps its options: ``tOF[tecogan_crop=False]``)."""
    return metric_facts(metric).display + split_label(metric)[1]


def default_decimals(metric: str, values: Iterable[float]) -> int:
    """The metric's declared decimals, else 4 below 1, 3 below 10 and 2 above (largest value)."""
    declared = metric_facts(metric).decimals
    if declared is not None:
        return declared
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    top = max(finite, default=0.0)
    return 4 if top < 1 else 3 if top < 10 else 2


def metric_sort_key(metric: str) -> tuple[int, int, str]:
    """Column order: full-reference, no-reference, temporal (as in MGLD's tables), then the
    order of declaration, then the name."""
    from mgld_bench.registry import METRICS

    facts = metric_facts(metric)
    base = split_label(metric)[0]
    return (KINDS.index(facts.kind), METRICS.position(base) if base in METRICS else 10**6, metric)


#: x-axis labels of per-frame curves: per-frame metrics, and metrics of consecutive frame pairs
#: (kind "temporal": the value at t belongs to the pair t -> t+1).
FRAME_AXIS = "frame"
PAIR_AXIS = "frame pair t→t+1"


def axis_labels(metric: str) -> tuple[str, str]:
    """(x label, unit suffix of the y label, e.g. " (dB)") from the metric's declared facts."""
    facts = metric_facts(metric)
    return (PAIR_AXIS if facts.kind == "temporal" else FRAME_AXIS), (f" ({facts.unit})" if facts.unit else "")


def metric_kind(metric: str) -> str:
    """The declared kind of ``metric``; "" when nothing declares it."""
    facts = metric_facts(metric)
    return "" if facts == unknown_metric_facts(split_label(metric)[0]) else facts.kind
