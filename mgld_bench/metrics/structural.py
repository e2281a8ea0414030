"""Weight-free structural full-reference metrics: MS-SSIM and GMSD, computed by piq (Apache-2.0,
the default) or pyiqa (``backend=pyiqa``).

They follow the suite's PSNR/SSIM conventions: uint8 RGB frames, ``crop_border`` pixels removed
from each side and ``color_space`` from the protocol (``y`` = BT.601 luma as BasicSR, not rounded;
``rgb`` = the three channels), values on [0, 1] in float32 (float64 took three times as long on
CPU and moved values by < 1e-5).  MS-SSIM on ``rgb`` is the mean of
the per-channel values; GMSD is defined on one channel, so an ``rgb`` protocol gives piq's and
pyiqa's luma (MATLAB ``rgb2gray`` weights, the GMSD authors' choice).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.metrics.base import Accumulator, FrameMetric, ScoreContext
from mgld_bench.metrics.functional.color import crop, rgb_to_y32

#: ``color_space=rgb`` for a one-channel metric: the luma the libraries compute themselves.
_ONE_CHANNEL = ("gmsd",)
#: MATLAB rgb2gray / YIQ luma weights (piq's and pyiqa's greyscale).
_GRAY = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class StructuralMetric(FrameMetric):
    """A weight-free full-reference metric named by ``model`` (``ms-ssim``, ``gmsd``) and computed
    by ``backend`` (``piq`` or ``pyiqa``); the registry entries ``ms-ssim`` and ``gmsd`` are this
    class with another ``model``."""

    summary = "weight-free structural full-reference metric (piq by default, or pyiqa)"
    defaults: ClassVar[dict[str, Any]] = {"model": "ms-ssim", "backend": "piq", "color_space": "y",
                                          "crop_border": 0}
    choices: ClassVar[dict[str, tuple[str, ...]]] = {"model": ("ms-ssim", "gmsd"), "backend": ("piq", "pyiqa"),
                                                     "color_space": ("y", "rgb")}
    minimum: ClassVar[dict[str, float]] = {"crop_border": 0}
    #: frames scored together (one clip's frames share a size); each value is computed per frame
    batch_size: ClassVar[int] = 4

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.device = "cpu"
        self._label = ""

    def backend(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        lib = self.options["backend"]
        try:
            return f"{lib} {version(lib)} {self.options['model']}"
        except PackageNotFoundError:
            return f"{lib} (not installed)"

    def availability(self) -> tuple[bool, str]:
        from mgld_bench.extras import extra_availability

        return extra_availability(self.options["backend"], used_by=self.name)

    def uses_device(self) -> bool:
        return True

    def start(self, ctx: ScoreContext) -> Accumulator:
        self.device = ctx.device
        self._label = ctx.clip.label if ctx.clip is not None else ""
        return super().start(ctx)

    def planes(self, frame: np.ndarray) -> np.ndarray:
        """float32 (C, H, W) in [0, 1]: cropped, in the metric's colour space."""
        c = int(self.options["crop_border"])
        h, w = frame.shape[:2]
        if c and 2 * c >= min(h, w):
            raise BenchError(f"{self.name}{self._where()}: crop border {c} leaves nothing of a {w}x{h} frame")
        frame = crop(frame, c)
        if self.options["color_space"] == "y":
            return (rgb_to_y32(frame) / np.float32(255.0))[None]
        if self.options["model"] in _ONE_CHANNEL:
            return (frame.astype(np.float32) @ _GRAY / np.float32(255.0))[None]
        return np.ascontiguousarray(frame.transpose(2, 0, 1), dtype=np.float32) / np.float32(255.0)

    def _where(self) -> str:
        return f" on clip {self._label}" if self._label else ""

    def score_batch(self, srs: list[np.ndarray], gts: list[np.ndarray] | None) -> list[float]:
        import torch

        from mgld_bench.metrics.backends import structural

        assert gts is not None
        model = self.options["model"]
        for s, g in zip(srs, gts, strict=True):
            if s.shape != g.shape:
                raise BenchError(f"{self.name}{self._where()}: output frame {s.shape[1]}x{s.shape[0]} and GT "
                                 f"{g.shape[1]}x{g.shape[0]} differ in size")
        x = np.stack([self.planes(f) for f in srs])
        y = np.stack([self.planes(f) for f in gts])
        side = structural.MIN_SIDE[model]
        if min(x.shape[-2:]) < side:
            raise BenchError(
                f"{self.name}{self._where()}: needs frames of at least {side}x{side} pixels after the crop border, "
                f"got {x.shape[-1]}x{x.shape[-2]}; leave {self.name} out for this dataset"
            )
        xt = torch.from_numpy(x).to(self.device)
        yt = torch.from_numpy(y).to(self.device)
        return structural.score(model, self.options["backend"], xt, yt)
