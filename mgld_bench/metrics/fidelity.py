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
    """Peak signal-to-noise ratio in dB; identical frames give +inf (and so does their clip)."""

    name = "psnr"
    summary = "PSNR (dB), BT.601 Y by default; identical frames give inf"

    def _one(self, sr: np.ndarray, gt: np.ndarray) -> float:
        return psnr_ssim.psnr(sr, gt, self.options["color_space"], int(self.options["crop_border"]))


class SSIM(_Fidelity):
    """Structural similarity (Wang et al. 2004; 11x11 Gaussian, sigma 1.5, valid region)."""

    name = "ssim"
    summary = "SSIM, 11x11 Gaussian sigma 1.5, valid region, BT.601 Y by default"

    def _one(self, sr: np.ndarray, gt: np.ndarray) -> float:
        return psnr_ssim.ssim(sr, gt, self.options["color_space"], int(self.options["crop_border"]))
