"""PSNR and SSIM with the VSR conventions (BasicSR / MATLAB).

* Inputs are uint8 RGB frames; maths is float64 on the 0-255 scale.
* PSNR = 10 log10(255^2 / MSE); identical inputs give +inf (BasicSR's convention).
* SSIM follows Wang et al. 2004: 11x11 Gaussian window with sigma 1.5, C1 = (0.01*255)^2,
  C2 = (0.03*255)^2, population statistics, mean of the SSIM map over the 'valid' region (a
  5-pixel band at each border is dropped); a multi-channel value is the mean over channels.
  This equals ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255)``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from mgld_bench.metrics.functional.color import crop, to_color_space

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
C1 = (0.01 * 255) ** 2
C2 = (0.03 * 255) ** 2


def _prepare(sr: np.ndarray, gt: np.ndarray, color_space: str, crop_border: int) -> tuple[np.ndarray, np.ndarray]:
    if sr.shape != gt.shape:
        raise ValueError(f"SR frame {sr.shape} and GT frame {gt.shape} differ in size")
    return (
        to_color_space(crop(sr, crop_border), color_space),
        to_color_space(crop(gt, crop_border), color_space),
    )


def psnr(sr: np.ndarray, gt: np.ndarray, color_space: str = "y", crop_border: int = 0) -> float:
    """PSNR in dB between two uint8 RGB frames."""
    a, b = _prepare(sr, gt, color_space, crop_border)
    mse = float(np.mean((a - b) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(255.0**2 / mse)


@lru_cache(maxsize=1)
def _gaussian_1d() -> np.ndarray:
    x = np.arange(SSIM_WINDOW, dtype=np.float64) - SSIM_WINDOW // 2
    k = np.exp(-(x**2) / (2 * SSIM_SIGMA**2))
    return k / k.sum()


def _ssim_plane(a: np.ndarray, b: np.ndarray) -> float:
    import cv2

    k = _gaussian_1d()
    pad = SSIM_WINDOW // 2
    if min(a.shape) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs frames of at least {SSIM_WINDOW} px per side, got {a.shape}")

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.sepFilter2D(x, cv2.CV_64F, k, k, borderType=cv2.BORDER_REFLECT)[pad:-pad, pad:-pad]

    mu_a, mu_b = blur(a), blur(b)
    mu_aa, mu_bb, mu_ab = mu_a * mu_a, mu_b * mu_b, mu_a * mu_b
    var_a = blur(a * a) - mu_aa
    var_b = blur(b * b) - mu_bb
    cov = blur(a * b) - mu_ab
    num = (2 * mu_ab + C1) * (2 * cov + C2)
    den = (mu_aa + mu_bb + C1) * (var_a + var_b + C2)
    return float(np.mean(num / den))


def ssim(sr: np.ndarray, gt: np.ndarray, color_space: str = "y", crop_border: int = 0) -> float:
    """SSIM between two uint8 RGB frames (mean over channels for "rgb")."""
    a, b = _prepare(sr, gt, color_space, crop_border)
    if a.ndim == 2:
        return _ssim_plane(a, b)
    return float(
        np.mean(
            [_ssim_plane(np.ascontiguousarray(a[..., c]), np.ascontiguousarray(b[..., c])) for c in range(a.shape[2])]
        )
    )
