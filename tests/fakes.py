"""Small fakes shared by the tests: clips, frame folders, dataset layouts, a method and a metric.

Import from here (``from tests.fakes import make_clip``), never from ``conftest.py``, which
holds fixtures only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mgld_bench.frames import ArrayFrames, Clip
from mgld_bench.methods.base import Method, RunContext
from mgld_bench.metrics.base import FrameMetric
from mgld_bench.specs import MetricFacts, Tolerance


def random_frames(rng: np.random.Generator, n: int, h: int, w: int) -> list[np.ndarray]:
    """``n`` uint8 RGB frames of uniform noise."""
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def make_clip(
    rng: np.random.Generator,
    n: int = 3,
    h: int = 10,
    w: int = 12,
    scale: int = 4,
    gt: bool = False,
    name: str = "c0",
) -> Clip:
    """A clip of ``n`` random LR frames of h x w (and, with ``gt``, GT frames ``scale`` x larger)."""
    lr = ArrayFrames(random_frames(rng, n, h, w))
    truth = ArrayFrames(random_frames(rng, n, h * scale, w * scale)) if gt else None
    return Clip("toy", name, lr, truth, scale=scale)


def clip_from_gt(gt: list[np.ndarray], scale: int = 4, name: str = "c") -> Clip:
    """A clip whose LR frames are the GT frames subsampled by ``scale``."""
    return Clip("toy", name, ArrayFrames([f[::scale, ::scale] for f in gt]), ArrayFrames(gt), scale=scale)


def write_frames(folder: Path, frames: list[np.ndarray], fmt: str = "png") -> list[Path]:
    """Write uint8 RGB frames as 00000000.png, 00000001.png, ... and return their paths."""
    from mgld_bench.methods.external import write_input_frames

    return write_input_frames(frames, folder, fmt)  # type: ignore[arg-type]


class NearestMethod(Method):
    """A deterministic method: nearest-neighbour upscaling by the clip's scale."""

    name = "fake-nearest"
    summary = "nearest-neighbour upscaling (tests only)"

    def run(self, clip: Clip, ctx: RunContext) -> Iterable[np.ndarray]:
        s = clip.scale
        for frame in clip.lr:
            yield frame.repeat(s, axis=0).repeat(s, axis=1)


class MeanAbsDiff(FrameMetric):
    """A full-reference metric that declares its facts as a plugin would: mean |SR - GT|."""

    name = "fake-mad"
    summary = "mean absolute difference (tests only)"
    facts: ClassVar[MetricFacts] = MetricFacts(  # type: ignore[misc]
        "MAD", "full-reference", False, ("sr", "gt"), decimals=3,
        tolerance=Tolerance(1e-9, 0.0, "exact arithmetic on uint8 frames"),
    )
    defaults: ClassVar[dict[str, Any]] = {}

    def score_batch(self, srs: list[np.ndarray], gts: list[np.ndarray] | None) -> list[float]:
        assert gts is not None
        return [float(np.mean(np.abs(s.astype(float) - g.astype(float)))) for s, g in zip(srs, gts, strict=True)]
