"""Full-reference fidelity metrics computed by mgld-bench itself: PSNR and SSIM."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mgld_bench.metrics.base import FrameMetric
from mgld_bench.metrics.functional import psnr_ssim


class _Fidelity(FrameMetric):
    defaults: ClassVar[dict[str, Any]] = {"color_space": "y", "crop_border": 0}
    choices: ClassVar[dict[str, tuple[str, ...]]] = {"color_space": ("y", "rgb")}
    minimum: ClassVar[dict[str, float]] = {"crop_border": 0}

    def _one(self, sr: np.ndarray, gt: np.ndarray) -> float:
        raise NotImplementedError

    def score_batch(self, srs: list[np.ndarray], gts: list[np.ndarray] | None) -> list[float]:
        assert gts is not None
        return [self._one(s, g) for s, g in zip(srs, gts, strict=True)]


class PSNR(_Fidelity):
    """Peak signal-to-noise ratio in dB.  Identical frames give +inf (BasicSR's convention), and
    so does the mean of a clip holding one; ``max_db`` > 0 caps every frame's value at that many
    dB instead (``max_db=100``, as some papers do; the cap names the protocol)."""

    name = "psnr"
    summary = "PSNR (dB), BT.601 Y by default; identical frames give inf unless capped (max_db)"
    defaults: ClassVar[dict[str, Any]] = {**_Fidelity.defaults, "max_db": 0.0}
    minimum: ClassVar[dict[str, float]] = {**_Fidelity.minimum, "max_db": 0.0}

    def _one(self, sr: np.ndarray, gt: np.ndarray) -> float:
        value = psnr_ssim.psnr(sr, gt, self.options["color_space"], int(self.options["crop_border"]))
        cap = float(self.options["max_db"])
        return min(value, cap) if cap > 0 else value


class SSIM(_Fidelity):
    """Structural similarity (Wang et al. 2004; 11x11 Gaussian, sigma 1.5, valid region)."""

    name = "ssim"
    summary = "SSIM, 11x11 Gaussian sigma 1.5, valid region, BT.601 Y by default"

    def _one(self, sr: np.ndarray, gt: np.ndarray) -> float:
        return psnr_ssim.ssim(sr, gt, self.options["color_space"], int(self.options["crop_border"]))
