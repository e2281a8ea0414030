"""The metric interface: streaming accumulators fed one frame at a time.

The runner decodes each SR/GT frame pair once and feeds it to every metric that still needs
computing (``Accumulator.update``); ``Accumulator.result`` then returns the per-frame values and
the clip value.  Per-frame metrics subclass :class:`FrameMetric` and only implement
``score_batch``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from mgld_bench.frames import Clip
from mgld_bench.options import Configurable
from mgld_bench.protocol import DEFAULT, Protocol
from mgld_bench.specs import MetricFacts
from mgld_bench.weights import WeightFile, missing_weights


@dataclass
class ScoreContext:
    """What a metric may use while scoring one clip."""

    clip: Clip
    protocol: Protocol = DEFAULT
    device: str = "cpu"
    #: The content-addressed cache (for flows shared across methods); may be None in tests.
    cache: Any = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class MetricResult:
    """Per-frame values (frame index -> value) and the clip value."""

    value: float
    frames: dict[int, float] = field(default_factory=dict)
    extras: dict[str, Any] = field(default_factory=dict)


class Accumulator:
    """Per-clip state of one metric."""

    def wants(self, index: int) -> bool:
        """False when frame ``index`` would be ignored (the runner then need not decode it)."""
        return True

    def update(self, index: int, sr: np.ndarray, gt: np.ndarray | None) -> None:
        raise NotImplementedError

    def result(self) -> MetricResult:
        raise NotImplementedError


class Metric(Configurable):
    """A metric.

    Its static facts (:class:`~mgld_bench.specs.MetricFacts`: kind, direction, the inputs it
    reads, ...) are declared once, on its registry entry, and handed to the instance when the
    registry builds it; a plugin class may declare them as a ``facts`` class attribute instead.
    """

    facts: MetricFacts

    def __init__(self, **options: Any) -> None:
        if getattr(self, "facts", None) is None:  # built directly rather than by the registry
            from mgld_bench.registry import METRICS

            self.facts = METRICS.facts(self.name)
        super().__init__(**options)

    @property
    def kind(self) -> str:
        return self.facts.kind

    @property
    def higher_is_better(self) -> bool:
        return self.facts.higher_is_better

    @property
    def needs_gt(self) -> bool:
        return self.facts.needs_gt

    @property
    def unit(self) -> str:
        return self.facts.unit

    @property
    def protocol_fields(self) -> tuple[str, ...]:
        return self.facts.protocol_fields

    def backend(self) -> str:
        """The implementation and its version (part of the cache key)."""
        from mgld_bench import __version__

        return f"mgld_bench {__version__}"

    def weight_files(self) -> list[WeightFile]:
        return []

    def availability(self) -> tuple[bool, str]:
        missing = missing_weights(self.weight_files())
        if missing:
            return False, "; ".join(missing)
        return True, ""

    def uses_device(self) -> bool:
        """True when scoring runs on the run's device (torch); False for NumPy/OpenCV metrics,
        whose jobs then never resolve the device (and never import torch)."""
        return False

    def start(self, ctx: ScoreContext) -> Accumulator:
        raise NotImplementedError

    def release(self) -> None:
        """Drop what the metric keeps between accumulators of one clip (e.g. the GT-side network
        features that every output scored against the same GT frame reuses); called by the runner
        when a clip's scoring is over."""


def mean_value(values: list[float]) -> float:
    """Mean of per-frame values; inf if any is +inf; NaN when empty."""
    if not values:
        return float("nan")
    if any(math.isinf(v) for v in values):
        return float("inf") if all(v > 0 for v in values if math.isinf(v)) else float("nan")
    return float(np.mean(np.asarray(values, dtype=np.float64)))


class FrameMetric(Metric):
    """A metric computed frame by frame; the clip value is the mean over scored frames."""

    #: Frames scored together in one ``score_batch`` call.
    batch_size: ClassVar[int] = 1

    def score_batch(self, srs: list[np.ndarray], gts: list[np.ndarray] | None) -> list[float]:
        raise NotImplementedError

    def start(self, ctx: ScoreContext) -> Accumulator:
        return _FrameAccumulator(self, ctx)


class _FrameAccumulator(Accumulator):
    def __init__(self, metric: FrameMetric, ctx: ScoreContext) -> None:
        self.metric = metric
        self.ctx = ctx
        self.selected = set(ctx.protocol.frame_indices(len(ctx.clip.lr)))
        self.values: dict[int, float] = {}
        self._pending: list[tuple[int, np.ndarray, np.ndarray | None]] = []

    def wants(self, index: int) -> bool:
        return index in self.selected

    def update(self, index: int, sr: np.ndarray, gt: np.ndarray | None) -> None:
        if index not in self.selected:
            return
        self._pending.append((index, sr, gt))
        if len(self._pending) >= self.metric.batch_size:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        idx = [p[0] for p in self._pending]
        srs = [p[1] for p in self._pending]
        gts = [p[2] for p in self._pending] if self.metric.needs_gt else None
        values = self.metric.score_batch(srs, gts)  # type: ignore[arg-type]
        for i, v in zip(idx, values, strict=True):
            self.values[i] = float(v)
        self._pending = []

    def result(self) -> MetricResult:
        self._flush()
        ordered = dict(sorted(self.values.items()))
        return MetricResult(mean_value(list(ordered.values())), ordered)
