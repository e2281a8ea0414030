"""Bicubic upsampling, the reference point of every SR table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.frames import Clip
from mgld_bench.methods.base import Method, RunContext

KERNELS = ("pil", "cv2", "torch")


def upscale(frame: np.ndarray, scale: int, kernel: str = "pil") -> np.ndarray:
    """Bicubic x``scale`` upsampling of a uint8 RGB frame.

    * ``pil``: Keys cubic with a = -0.5, the kernel of MATLAB's ``imresize`` (identical for
      upsampling, where no antialiasing applies); the default.
    * ``cv2``: OpenCV ``INTER_CUBIC`` (a = -0.75).
    * ``torch``: ``F.interpolate(mode="bicubic", align_corners=False)`` (a = -0.75), rounded.
    """
    h, w = frame.shape[:2]
    size = (w * scale, h * scale)
    if kernel == "pil":
        from PIL import Image

        return np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BICUBIC))
    if kernel == "cv2":
        import cv2

        return cv2.resize(frame, size, interpolation=cv2.INTER_CUBIC)
    if kernel == "torch":
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(frame).permute(2, 0, 1)[None].double()
        y = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
        return y[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()
    raise BenchError(f"bicubic: unknown kernel {kernel!r}; use one of {', '.join(KERNELS)}")


class Bicubic(Method):
    """Bicubic x4 upsampling of every LR frame."""

    name = "bicubic"
    version = 1
    summary = "bicubic upsampling (MATLAB-equivalent kernel by default)"
    defaults: ClassVar[dict[str, Any]] = {"kernel": "pil", "scale": 0}
    # every frame is upsampled on its own, so any split is exact; 16 frames keeps jobs coarse
    chunk_frames: ClassVar[int | None] = 16

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if self.options["kernel"] not in KERNELS:
            raise BenchError(f"bicubic: unknown kernel {self.options['kernel']!r}; use one of {', '.join(KERNELS)}")

    def run(self, clip: Clip, ctx: RunContext) -> Iterator[np.ndarray]:
        scale = int(self.options["scale"]) or clip.scale
        for frame in clip.lr:
            yield upscale(frame, scale, self.options["kernel"])


class Nearest(Method):
    """Nearest-neighbour x``scale`` upsampling: each LR pixel becomes a ``scale``×``scale`` block.

    A lower bound next to bicubic: blocky and aliased, so its flicker and jagged edges are easy to
    see in the report's frame viewer and temporal profiles.
    """

    name = "nearest"
    version = 1
    summary = "nearest-neighbour upsampling (pixel replication; a visual lower bound)"
    defaults: ClassVar[dict[str, Any]] = {"scale": 0}

    def run(self, clip: Clip, ctx: RunContext) -> Iterator[np.ndarray]:
        scale = int(self.options["scale"]) or clip.scale
        for frame in clip.lr:
            yield np.repeat(np.repeat(np.asarray(frame), scale, axis=0), scale, axis=1)
