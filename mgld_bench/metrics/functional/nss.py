"""Natural-scene-statistics building blocks shared by NIQE and BRISQUE (NumPy/OpenCV, no torch).

Everything here follows the conventions of pyiqa 0.1.16 (itself a port of the LIVE MATLAB code),
so that :mod:`~mgld_bench.metrics.functional.niqe` and
:mod:`~mgld_bench.metrics.functional.brisque` give pyiqa's values:

* luma: MATLAB ``rgb2gray`` (YIQ Y) or ``rgb2ycbcr`` (BT.601 Y) of float32 RGB in [0, 1],
  times 255, rounded half to even;
* MSCN normalisation with a 7x7 Gaussian (sigma 7/6, MATLAB ``fspecial``), replicate or zero
  padding, ``(x - mu) / (sqrt(|var| + eps) + 1)``;
* MATLAB ``imresize(x, 0.5)`` (bicubic, antialiased, mirrored borders) as a fixed 8-tap,
  stride-2 separable filter;
* generalised Gaussian (GGD) and asymmetric GGD (AGGD) fits by table look-up over
  alpha = 0.2, 0.201, ..., 10.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.special import gammaln

#: luma weights of R, G, B in [0, 1] (Y in [0, 1] after the offset / 255 for BT.601)
_LUMA = {
    "yiq": (np.float32([0.299, 0.587, 0.114]), 0.0),
    "ycbcr": (np.float32([65.481, 128.553, 24.966]), 16.0),
}


def luma255(frame: np.ndarray, color_space: str = "yiq") -> np.ndarray:
    """Rounded luma on the 0-255 scale (float32) of a uint8 RGB frame, computed in float32 like pyiqa.

    ``yiq`` = MATLAB ``rgb2gray``; ``ycbcr`` = BT.601 limited-range Y (MATLAB ``rgb2ycbcr``).
    """
    if color_space not in _LUMA:
        raise ValueError(f"unknown luma {color_space!r}; use 'yiq' or 'ycbcr'")
    w, offset = _LUMA[color_space]
    x = frame.astype(np.float32)
    x /= np.float32(255.0)
    y = x @ w  # float32 matmul: the same sums (and so the same rounding ties) as pyiqa's torch.matmul
    if offset:
        y += np.float32(offset)
        y /= np.float32(255.0)
    y *= np.float32(255.0)
    return np.round(y, out=y)


@lru_cache(maxsize=4)
def gaussian_window_1d(size: int = 7, sigma: float = 7.0 / 6.0) -> np.ndarray:
    """1-D factor of :func:`gaussian_window_2d`, scaled to the same total.

    pyiqa's float32 2-D taps sum to 1 + ~1e-8; on the 0-255 scale that offset moves
    ``E[x^2] - E[x]^2`` by ~1e-3 in flat areas, which NIQE sees.  With this scaling the
    separable float64 filter agrees with pyiqa's 2-D one to ~1e-8.
    """
    g = np.exp(-(np.arange(size) - (size - 1) / 2.0) ** 2 / (2.0 * sigma * sigma))
    total = float(gaussian_window_2d(size, sigma).astype(np.float64).sum())
    return g / g.sum() * np.sqrt(total)


@lru_cache(maxsize=4)
def gaussian_window_2d(size: int = 7, sigma: float = 7.0 / 6.0) -> np.ndarray:
    """MATLAB ``fspecial('gaussian', size, sigma)`` with pyiqa's float32 taps."""
    g = np.exp(-(np.arange(size) - (size - 1) / 2.0) ** 2 / (2.0 * sigma * sigma))
    h = np.outer(g, g)
    h[h < np.finfo(h.dtype).eps * h.max()] = 0
    return (h / h.sum()).astype(np.float32)


def mscn(img: np.ndarray, padding: str = "replicate", size: int = 7, sigma: float = 7.0 / 6.0) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients ``(x - mu) / (sqrt(|var| + eps) + 1)``.

    ``padding`` is ``replicate`` (NIQE) or ``zero`` (BRISQUE); the dtype of ``img`` is kept.
    float64 images are filtered separably; float32 ones (BRISQUE, where pyiqa works in
    float32 and its rounding shows in ``var``) with pyiqa's 2-D float32 window.
    """
    import cv2

    border = {"replicate": cv2.BORDER_REPLICATE, "zero": cv2.BORDER_CONSTANT}[padding]
    if img.dtype == np.float64:
        k1 = gaussian_window_1d(size, sigma)
        mu = cv2.sepFilter2D(img, cv2.CV_64F, k1, k1, borderType=border)
        var = cv2.sepFilter2D(img * img, cv2.CV_64F, k1, k1, borderType=border)
    else:
        k2 = gaussian_window_2d(size, sigma)
        mu = cv2.filter2D(img, cv2.CV_32F, k2, borderType=border)
        var = cv2.filter2D(img * img, cv2.CV_32F, k2, borderType=border)
    var -= mu * mu
    np.abs(var, out=var)
    var += np.finfo(img.dtype).eps
    np.sqrt(var, out=var)
    var += 1.0
    out = img - mu
    out /= var
    return out


@lru_cache(maxsize=1)
def _half_taps() -> np.ndarray:
    """The 10 taps MATLAB's antialiased bicubic ``imresize(.., 0.5)`` applies to x[2i-4 .. 2i+5]."""
    t = np.abs(0.5 * (4.5 - np.arange(10)))
    a = -0.5
    w = np.where(t <= 1, (a + 2) * t**3 - (a + 3) * t**2 + 1,
                 np.where(t <= 2, a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a, 0.0))
    return w / w.sum()


def _half_axis(x: np.ndarray, axis: int) -> np.ndarray:
    n_in = x.shape[axis]
    n_out = math.ceil(n_in / 2)
    pad_post = max(0, 2 * n_out + 6 - n_in)
    widths = [(0, 0)] * x.ndim
    widths[axis] = (4, pad_post)
    xp = np.pad(x, widths, mode="symmetric")
    taps = _half_taps().astype(x.dtype)
    out = None
    for j in range(1, 9):  # taps 0 and 9 are zero
        sl = [slice(None)] * x.ndim
        sl[axis] = slice(j, j + 2 * n_out - 1, 2)
        term = xp[tuple(sl)] * taps[j]
        out = term if out is None else out + term
    assert out is not None
    return out


def imresize_half(img: np.ndarray) -> np.ndarray:
    """MATLAB ``imresize(img, 0.5)`` (bicubic, antialiasing) of a 2-D array; size ceil(h/2) x ceil(w/2)."""
    return _half_axis(_half_axis(img, 0), 1)


# -- distribution fits ------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _alphas() -> np.ndarray:
    return np.float32(0.2 + 0.001 * np.arange(9801)).astype(np.float64)


@lru_cache(maxsize=1)
def _aggd_table() -> np.ndarray:
    """r(alpha) = Gamma(2/a)^2 / (Gamma(1/a) Gamma(3/a)), increasing in alpha."""
    g = _alphas()
    return np.exp(2 * gammaln(2 / g) - (gammaln(1 / g) + gammaln(3 / g)))


@lru_cache(maxsize=1)
def _ggd_table() -> np.ndarray:
    """rho(alpha) = Gamma(1/a) Gamma(3/a) / Gamma(2/a)^2, decreasing in alpha."""
    g = _alphas()
    return np.exp(gammaln(1 / g) + gammaln(3 / g) - 2 * gammaln(2 / g))


def _nearest(table: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of the first table entry closest to each value (the argmin of |table - v|); table increasing.

    NaN values give index 0, as torch's argmin does.
    """
    v = np.asarray(values, dtype=np.float64)
    hi = np.clip(np.searchsorted(table, v), 1, len(table) - 1)
    lo = hi - 1
    pick_lo = np.abs(table[lo] - v) <= np.abs(table[hi] - v)
    idx = np.where(pick_lo, lo, hi)
    return np.where(np.isnan(v), 0, idx)


def ggd_fit(x: np.ndarray) -> tuple[float, float]:
    """(alpha, sigma) of a zero-mean generalised Gaussian fitted to all of ``x``."""
    sigma_sq = float(np.mean(x * x, dtype=np.float64))
    e = float(np.mean(np.abs(x), dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = np.float64(sigma_sq) / (e * e)
    idx = int(np.argmin(np.abs(_ggd_table() - rho)))  # a NaN gives 0, as torch's argmin does
    return float(_alphas()[idx]), math.sqrt(sigma_sq)


def aggd_fit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(alpha, left sigma, right sigma) of an asymmetric GGD fitted to each row of ``x`` (n_groups, n).

    Sums are accumulated in float64.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    n = x.shape[-1]
    neg = np.minimum(x, 0.0)
    sum_sq = np.einsum("ij,ij->i", x, x)
    sum_neg_sq = np.einsum("ij,ij->i", neg, neg)
    n_neg = np.count_nonzero(neg, axis=-1)
    n_pos = np.count_nonzero(x > 0, axis=-1)
    sum_abs = np.abs(x).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.sqrt(sum_neg_sq / n_neg)
        right = np.sqrt((sum_sq - sum_neg_sq) / n_pos)
        gammahat = left / right
        rhat = (sum_abs / n) ** 2 / (sum_sq / n)
        rhatnorm = rhat * (gammahat**3 + 1) * (gammahat + 1) / (gammahat**2 + 1) ** 2
    alpha = _alphas()[_nearest(_aggd_table(), rhatnorm)]
    return alpha, left, right


def aggd_beta_scale(alpha: np.ndarray) -> np.ndarray:
    """sqrt(Gamma(1/a) / Gamma(3/a)): the AGGD scale factor from sigma to beta."""
    return np.sqrt(np.exp(gammaln(1 / alpha) - gammaln(3 / alpha)))
