"""``RandomResize``: up/down/keep scaling per clip, random-walked per frame, or resize to a target size."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from mgld_bench.degrade.base import Operation

INTERPOLATIONS = ("bilinear", "area", "bicubic")


def cv2_interpolation(name: str) -> int:
    import cv2

    return {"bilinear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA, "bicubic": cv2.INTER_CUBIC}[name]


def resize_frame(frame: np.ndarray, height: int, width: int, interpolation: str) -> np.ndarray:
    """OpenCV resize to (height, width)."""
    import cv2

    return cv2.resize(frame, (int(width), int(height)), interpolation=cv2_interpolation(interpolation))


@dataclass
class RandomResize(Operation):
    """Scale every frame of a clip by one factor (random-walked by ``step`` per frame).

    The mode is up (U(1, scale[1])), down (U(scale[0], 1)) or keep (1) with ``mode_prob``; the
    interpolation is drawn once per clip.  ``target`` (H, W) replaces the scale with a fixed size.
    ``even=True`` rounds sizes down to even numbers (needed by 4:2:0 video compression).
    """

    mode_prob: tuple[float, float, float] = (0.2, 0.7, 0.1)
    scale: tuple[float, float] = (0.15, 1.5)
    step: float = 0.015
    interpolations: tuple[str, ...] = INTERPOLATIONS
    interpolation_prob: tuple[float, ...] = (1 / 3, 1 / 3, 1 / 3)
    target: tuple[int, int] | None = None
    even: bool = True
    name: str = "resize"

    def stream(self, frames: Iterable[np.ndarray], rng: np.random.Generator) -> Iterator[np.ndarray]:
        p = np.asarray(self.mode_prob, dtype=np.float64)
        mode = str(rng.choice(("up", "down", "keep"), p=p / p.sum()))
        if mode == "up":
            factor = float(rng.uniform(1.0, self.scale[1]))
        elif mode == "down":
            factor = float(rng.uniform(self.scale[0], 1.0))
        else:
            factor = 1.0
        q = np.asarray(self.interpolation_prob, dtype=np.float64)
        interp = str(rng.choice(self.interpolations, p=q / q.sum()))
        for frame in frames:
            if self.target is not None:
                h, w = self.target
            else:
                h, w = int(frame.shape[0] * factor), int(frame.shape[1] * factor)
                if self.even:
                    h, w = 2 * (h // 2), 2 * (w // 2)
                h, w = max(h, 2), max(w, 2)
            yield resize_frame(frame, h, w, interp)
            factor = float(np.clip(factor + rng.uniform(-self.step, self.step), self.scale[0], self.scale[1]))
