"""Per-clip parameters that random-walk from frame to frame (RealBasicVSR's stochastic scheme)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class RandomWalk:
    """A value drawn once per clip in [low, high], then moved by U(-step, step) after each frame and clipped."""

    value: float
    low: float
    high: float
    step: float

    @classmethod
    def draw(cls, rng: np.random.Generator, low: float, high: float, step: float) -> RandomWalk:
        return cls(float(rng.uniform(low, high)), low, high, step)

    def advance(self, rng: np.random.Generator) -> float:
        """Move to the next frame's value and return it."""
        self.value = float(np.clip(self.value + rng.uniform(-self.step, self.step), self.low, self.high))
        return self.value
