"""NIQE (Mittal et al. 2012) in NumPy/OpenCV, equal to pyiqa's ``niqe`` (LIVE ``niqe_release``).

Steps, as in pyiqa 0.1.16: rounded luma on the 0-255 scale, crop to whole 96x96 blocks; at two
scales (the second a MATLAB ``imresize(.., 0.5)``) MSCN coefficients with replicate padding and,
per block (96x96, then 48x48), an AGGD fit of the coefficients and of their products with the
four neighbours (circular within the block): 18 features per scale.  The blocks' 36-D features
are fitted with a Gaussian (NaN rows dropped) and compared with the pristine model:
sqrt((mu_p - mu)^T pinv((C_p + C)/2) (mu_p - mu)).  Maths in float64 as pyiqa does.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import gammaln

from mgld_bench.metrics.functional.nss import aggd_beta_scale, aggd_fit, imresize_half, luma255, mscn

BLOCK = 96
#: pyiqa's neighbour shifts (rows, cols) for the pairwise products, in feature order
_SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))


@dataclass(frozen=True)
class NIQEModel:
    """The pristine multivariate Gaussian: mean (36,) and covariance (36, 36)."""

    mu: np.ndarray
    cov: np.ndarray


def load_niqe_model(path: str | Path) -> NIQEModel:
    """Read ``mu_prisparam`` / ``cov_prisparam`` from a MATLAB .mat file (no code is run)."""
    import scipy.io

    params = scipy.io.loadmat(str(path))
    return NIQEModel(np.ravel(params["mu_prisparam"]).astype(np.float64),
                     np.asarray(params["cov_prisparam"], dtype=np.float64))


def _block_features(norm: np.ndarray, bs: int) -> np.ndarray:
    """(n_blocks, 18) features of an MSCN map whose sides are multiples of ``bs``."""
    h, w = norm.shape
    # (block column, block row, bs, bs): pyiqa's block order, each block contiguous
    blocks = np.ascontiguousarray(norm.reshape(h // bs, bs, w // bs, bs).transpose(2, 0, 1, 3))
    axes = (2, 3)
    flat = blocks.reshape(-1, bs * bs)
    alpha, left, right = aggd_fit(flat)
    scale = aggd_beta_scale(alpha)
    feats = [alpha, (left * scale + right * scale) / 2]
    for shift in _SHIFTS:
        prod = blocks * np.roll(blocks, shift, axis=axes)
        alpha, left, right = aggd_fit(prod.reshape(-1, bs * bs))
        scale = aggd_beta_scale(alpha)
        beta_l, beta_r = left * scale, right * scale
        mean = (beta_r - beta_l) * np.exp(gammaln(2 / alpha) - gammaln(1 / alpha))
        feats.extend((alpha, mean, beta_l, beta_r))
    return np.stack([f.reshape(-1) for f in feats], axis=1)


def niqe_features(y: np.ndarray) -> np.ndarray:
    """(n_blocks, 36) features of a luma image on the 0-255 scale (float64, at least 96x96)."""
    h, w = y.shape
    nh, nw = h // BLOCK, w // BLOCK
    if nh == 0 or nw == 0:
        raise ValueError(f"NIQE needs at least {BLOCK}x{BLOCK} pixels, got {w}x{h}")
    img = np.ascontiguousarray(y[: nh * BLOCK, : nw * BLOCK], dtype=np.float64)
    f1 = _block_features(mscn(img, "replicate"), BLOCK)
    # pyiqa resizes in float32 (its imresize casts), then scales back to 0-255
    half = imresize_half((img / 255.0).astype(np.float32)).astype(np.float64) * 255.0
    f2 = _block_features(mscn(half, "replicate"), BLOCK // 2)
    return np.concatenate([f1, f2], axis=1)


def niqe_score(features: np.ndarray, model: NIQEModel) -> float:
    """NIQE distance between the blocks' Gaussian and the pristine model."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: caught below
        mu = np.nanmean(features, axis=0)
    rows = features[~np.isnan(features).any(axis=1)]
    if len(rows) < 2:
        cov = np.zeros((features.shape[1],) * 2) if len(rows) else np.full((features.shape[1],) * 2, np.nan)
    else:
        cov = np.cov(rows, rowvar=False)
    m = (model.cov + cov) / 2
    if not np.all(np.isfinite(m)) or not np.all(np.isfinite(mu)):
        raise ValueError("NIQE features are not finite (a flat or constant image?)")
    inv = np.linalg.pinv(m, rcond=max(m.shape) * np.finfo(np.float64).eps)
    d = model.mu - mu
    return float(np.sqrt(d @ inv @ d))


def niqe(frame: np.ndarray, model: NIQEModel, color_space: str = "yiq", crop_border: int = 0) -> float:
    """NIQE of a uint8 RGB frame (``color_space`` ``yiq`` = rgb2gray, ``ycbcr`` = BT.601 Y)."""
    y = luma255(frame, color_space)
    if crop_border:
        y = y[crop_border:-crop_border, crop_border:-crop_border]
    return niqe_score(niqe_features(y), model)
