"""Unsharp masking (USM) with a soft threshold mask, as applied to GT before RealBasicVSR's degradation."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=4)
def _gaussian_2d(size: int, sigma: float) -> np.ndarray:
    import cv2

    k = cv2.getGaussianKernel(size, sigma)  # sigma <= 0: OpenCV derives it from the size
    return (k @ k.T).astype(np.float32)


def unsharp_mask(
    frame: np.ndarray, kernel_size: int = 51, sigma: float = 0.0, weight: float = 0.5, threshold: float = 10.0
) -> np.ndarray:
    """Sharpen ``frame`` (float32 [0, 1]): img + weight * (img - blur(img)), clipped to [0, 1],
    blended in only where |img - blur(img)| * 255 > threshold (mask softened by the same blur)."""
    import cv2

    kernel = _gaussian_2d(kernel_size, sigma)
    residue = frame - cv2.filter2D(frame, -1, kernel)
    mask = (np.abs(residue) * 255.0 > threshold).astype(np.float32)
    soft = cv2.filter2D(mask, -1, kernel)
    sharp = np.clip(frame + weight * residue, 0.0, 1.0)
    return (soft * sharp + (1.0 - soft) * frame).astype(np.float32)
