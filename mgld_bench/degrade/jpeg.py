"""``RandomJPEGCompression``: OpenCV JPEG at a per-clip quality, random-walked per frame."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from mgld_bench.degrade.base import Operation


def to_uint8(frame: np.ndarray) -> np.ndarray:
    """[0, 1] float -> uint8 with rounding and saturation (what OpenCV does when encoding floats)."""
    return np.clip(np.round(frame * 255.0), 0, 255).astype(np.uint8)


def jpeg_roundtrip(frame: np.ndarray, quality: int) -> np.ndarray:
    """Encode a float RGB frame as JPEG at ``quality`` with OpenCV and decode it back to float32."""
    import cv2

    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(to_uint8(frame), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    )
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 image
        raise RuntimeError("JPEG encoding failed")
    out = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return out.astype(np.float32) / 255.0


@dataclass
class RandomJPEG(Operation):
    """JPEG quality drawn as round(U(q0, q1)) per clip; then q <- round(clip(q + U(-step, step)))."""

    quality: tuple[int, int] = (30, 95)
    step: float = 3.0
    name: str = "jpeg"

    def stream(self, frames: Iterable[np.ndarray], rng: np.random.Generator) -> Iterator[np.ndarray]:
        q = round(float(rng.uniform(*self.quality)))
        for frame in frames:
            yield jpeg_roundtrip(frame, q)
            q = round(float(np.clip(q + rng.uniform(-self.step, self.step), *self.quality)))
