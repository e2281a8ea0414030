"""PSNR and SSIM with the VSR conventions (BasicSR / MATLAB).

* Inputs are uint8 RGB frames; maths is on the 0-255 scale, in float32 for the images (filters
  and SSIM map; second moments are taken about 128 to limit cancellation) with float64 sums.
  Values agree with the float64 computation (skimage) to ~1e-6.
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
from typing import Any

import numpy as np

from mgld_bench.metrics.functional.color import crop, rgb_to_y32

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
C1 = (0.01 * 255) ** 2
C2 = (0.03 * 255) ** 2


#: the last frame pair's planes: PSNR and SSIM of one frame (the runner hands both metrics the
#: same decoded arrays) convert it once; one pair is held, and arrays are never modified here
_LAST: list[Any] = [None, None, None, None]


def _planes(sr: np.ndarray, gt: np.ndarray, color_space: str, crop_border: int) -> tuple[np.ndarray, np.ndarray]:
    """float32 planes (H, W) for "y" or (H, W, 3) for "rgb", on the 0-255 scale."""
    key = (color_space, crop_border, sr.shape)
    if _LAST[0] is sr and _LAST[1] is gt and _LAST[2] == key:
        return _LAST[3]
    planes = _convert(sr, gt, color_space, crop_border)
    _LAST[:] = [sr, gt, key, planes]
    return planes


def _convert(sr: np.ndarray, gt: np.ndarray, color_space: str, crop_border: int) -> tuple[np.ndarray, np.ndarray]:
    if sr.shape != gt.shape:
        raise ValueError(f"SR frame {sr.shape} and GT frame {gt.shape} differ in size")
    a, b = crop(sr, crop_border), crop(gt, crop_border)
    if color_space == "y":
        return rgb_to_y32(a), rgb_to_y32(b)
    if color_space == "rgb":
        return a.astype(np.float32), b.astype(np.float32)
    raise ValueError(f"unknown colour space {color_space!r}; use 'y' or 'rgb'")


def _psnr_planes(a: np.ndarray, b: np.ndarray) -> float:
    import cv2

    mse = cv2.norm(a, b, cv2.NORM_L2SQR) / a.size  # accumulated in float64
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(255.0**2 / mse)


def psnr(sr: np.ndarray, gt: np.ndarray, color_space: str = "y", crop_border: int = 0) -> float:
    """PSNR in dB between two uint8 RGB frames."""
    return _psnr_planes(*_planes(sr, gt, color_space, crop_border))


@lru_cache(maxsize=1)
def _gaussian_1d() -> np.ndarray:
    x = np.arange(SSIM_WINDOW, dtype=np.float64) - SSIM_WINDOW // 2
    k = np.exp(-(x**2) / (2 * SSIM_SIGMA**2))
    return k / k.sum()


_CENTRE = np.float32(128.0)
#: output rows per strip: a strip's maps (input rows plus the 10-row halo) stay in the CPU cache
SSIM_STRIP_ROWS = 64


def _ssim_strip(a: np.ndarray, b: np.ndarray, k: np.ndarray) -> float:
    """Sum of the SSIM map over the valid region of rows ``a``/``b`` (a strip with its halo).

    Moments are taken about 128 (var and cov are shift-invariant, and centred values keep
    float32's cancellation error in E[x^2] - E[x]^2 four times smaller than on the raw 0-255
    scale).  With centred means m_a, m_b, s = m_a + m_b and p = m_a m_b, the uncentred terms are
    2 mu_a mu_b = 2p + q and mu_a^2 + mu_b^2 = (s^2 - 2p) + q with q = 256 s + 2 * 128^2, and
    var_a + var_b = blur(a^2 + b^2) - (s^2 - 2p): four blurs, and each line below one fused
    OpenCV pass over the strip.
    """
    import cv2

    pad = SSIM_WINDOW // 2

    def blur(x: np.ndarray) -> np.ndarray:
        # only the valid region is kept: the border mode never reaches it
        return cv2.sepFilter2D(x, cv2.CV_32F, k, k, borderType=cv2.BORDER_REFLECT)[pad:-pad, pad:-pad]

    a = a - _CENTRE
    b = b - _CENTRE
    mu_a, mu_b = blur(a), blur(b)
    sq = a * a
    sq += b * b
    e_sq, e_ab = blur(sq), blur(a * b)
    p = cv2.multiply(mu_a, mu_b)
    s = cv2.add(mu_a, mu_b)
    q = cv2.addWeighted(s, 256.0, s, 0.0, 2 * 128.0**2 + C1)  # 256 s + 2*128^2 + C1
    m2 = cv2.addWeighted(cv2.multiply(s, s), 1.0, p, -2.0, 0.0)  # m_a^2 + m_b^2
    num = cv2.multiply(cv2.addWeighted(e_ab, 2.0, p, -2.0, C2), cv2.addWeighted(p, 2.0, q, 1.0, 0.0))
    den = cv2.multiply(cv2.addWeighted(e_sq, 1.0, m2, -1.0, C2), cv2.add(m2, q))
    return float(cv2.sumElems(cv2.divide(num, den))[0])  # float64 accumulation


_POOL: list[Any] = [None, 0]


def _strip_pool() -> Any | None:
    """Threads for the strips: as many as OpenCV's pool (the run sets it once for all libraries,
    ``runner.device.configure_threads``); None for one.  OpenCV releases the GIL in every call."""
    import cv2

    n = cv2.getNumThreads()
    if n <= 1:
        return None
    if _POOL[1] != n:
        from concurrent.futures import ThreadPoolExecutor

        if _POOL[0] is not None:
            _POOL[0].shutdown(wait=False)
        _POOL[:] = [ThreadPoolExecutor(n, thread_name_prefix="mgld-ssim"), n]
    return _POOL[0]


def _ssim_plane(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM map of two float32 planes on the 0-255 scale, computed in strips of rows (in
    parallel on OpenCV's thread count; the strips' sums are added in order, so the value does
    not depend on it)."""
    if min(a.shape) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs frames of at least {SSIM_WINDOW} px per side, got {a.shape}")
    k = _gaussian_1d().astype(np.float32)
    pad = SSIM_WINDOW // 2
    h, w = a.shape
    bands = [(r0 - pad, min(r0 + SSIM_STRIP_ROWS, h - pad) + pad) for r0 in range(pad, h - pad, SSIM_STRIP_ROWS)]

    def strip(band: tuple[int, int]) -> float:
        return _ssim_strip(a[band[0] : band[1]], b[band[0] : band[1]], k)

    pool = _strip_pool() if len(bands) > 1 else None
    sums = list(pool.map(strip, bands)) if pool is not None else [strip(band) for band in bands]
    return math.fsum(sums) / ((h - 2 * pad) * (w - 2 * pad))


def ssim(sr: np.ndarray, gt: np.ndarray, color_space: str = "y", crop_border: int = 0) -> float:
    """SSIM between two uint8 RGB frames (mean over channels for "rgb")."""
    a, b = _planes(sr, gt, color_space, crop_border)
    if a.ndim == 2:
        return _ssim_plane(a, b)
    return float(
        np.mean(
            [_ssim_plane(np.ascontiguousarray(a[..., c]), np.ascontiguousarray(b[..., c])) for c in range(a.shape[2])]
        )
    )
