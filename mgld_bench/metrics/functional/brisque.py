"""BRISQUE (Mittal et al. 2012) in NumPy/OpenCV, equal to pyiqa's ``brisque`` (LIVE SVR model).

Steps, as in pyiqa 0.1.16 (from piq): rounded YIQ luma on the 0-255 scale in float32; at two
scales (the second a MATLAB ``imresize(.., 0.5)``) MSCN coefficients with zero padding, a GGD fit
(alpha, sigma^2) and, for the products with the four neighbours (circular over the image), an
AGGD fit (alpha, eta, sigma_l^2, sigma_r^2): 36 features, scaled to [-1, 1] with the LIVE
feature ranges, scored by the RBF support-vector regressor (gamma 0.05, rho -153.591).  The
value is unclipped and can be negative.  Images are filtered in float32 (pyiqa's precision);
reductions and the SVR are in float64.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import gammaln

from mgld_bench.metrics.functional.nss import aggd_fit, ggd_fit, imresize_half, luma255, mscn

GAMMA = 0.05
RHO = -153.591
_SHIFTS = ((0, 1), (1, 0), (1, 1), (-1, 1))

#: per-feature (low, high) ranges of the LIVE release, mapped to [-1, 1] before the SVR
FEATURE_RANGES = np.array([
    [0.338, 10], [0.017204, 0.806612], [0.236, 1.642], [-0.123884, 0.20293], [0.000155, 0.712298],
    [0.001122, 0.470257], [0.244, 1.641], [-0.123586, 0.179083], [0.000152, 0.710456], [0.000975, 0.470984],
    [0.249, 1.555], [-0.135687, 0.100858], [0.000174, 0.684173], [0.000913, 0.534174], [0.258, 1.561],
    [-0.143408, 0.100486], [0.000179, 0.685696], [0.000888, 0.536508], [0.471, 3.264], [0.012809, 0.703171],
    [0.218, 1.046], [-0.094876, 0.187459], [1.5e-05, 0.442057], [0.001272, 0.40803], [0.222, 1.042],
    [-0.115772, 0.162604], [1.6e-05, 0.444362], [0.001374, 0.40243], [0.227, 0.996], [-0.117188, 0.098323],
    [3e-05, 0.531903], [0.001122, 0.369589], [0.228, 0.99], [-0.12243, 0.098658], [2.8e-05, 0.530092],
    [0.001118, 0.370399],
], dtype=np.float32).astype(np.float64)  # pyiqa holds the ranges in float32


@dataclass(frozen=True)
class BRISQUEModel:
    """Support-vector coefficients (n,) and support vectors (n, 36)."""

    sv_coef: np.ndarray
    sv: np.ndarray


def load_brisque_model(path: str | Path) -> BRISQUEModel:
    """Read the ``(sv_coef, sv)`` pair without running code from the file: torch's zip format
    with :func:`mgld_bench.safeload.load_arrays` (no torch import), any other form through
    :func:`mgld_bench.safeload.load_weights`."""
    from mgld_bench.errors import BenchError
    from mgld_bench.safeload import load_arrays, load_weights

    try:
        obj = load_arrays(path)
    except BenchError:  # not a plain zip-format tensor file: torch's weights-only reader decides
        obj = load_weights(path)
    try:
        sv_coef, sv = (x.detach().cpu().numpy() if hasattr(x, "detach") else x for x in obj)
        coef = np.asarray(sv_coef, dtype=np.float64).reshape(-1)
        vecs = np.asarray(sv, dtype=np.float64)
    except (TypeError, ValueError, AttributeError):
        raise BenchError(f"{path} is not a BRISQUE (sv_coef, sv) pair of tensors; download it again") from None
    if vecs.ndim != 2 or vecs.shape != (len(coef), 36):
        raise BenchError(f"{path}: expected {len(coef)} support vectors of 36 features, got {vecs.shape}")
    return BRISQUEModel(coef, vecs)


def _scale_features(y: np.ndarray) -> list[float]:
    norm = mscn(y, "zero")
    alpha, sigma = ggd_fit(norm)
    feats = [alpha, sigma * sigma]
    for shift in _SHIFTS:
        prod = norm * np.roll(norm, shift, axis=(0, 1))
        a, left, right = aggd_fit(prod.reshape(1, -1))
        a, left, right = float(a[0]), float(left[0]), float(right[0])
        eta = (right - left) * np.exp(gammaln(2.0 / a) - (gammaln(1.0 / a) + gammaln(3.0 / a)) / 2)
        feats.extend((a, float(eta), left * left, right * right))
    return feats


def brisque_features(y: np.ndarray) -> np.ndarray:
    """The 36 features of a luma image on the 0-255 scale."""
    y = np.ascontiguousarray(y, dtype=np.float32)
    return np.array(_scale_features(y) + _scale_features(imresize_half(y)), dtype=np.float64)


def brisque_score(features: np.ndarray, model: BRISQUEModel) -> float:
    """The SVR's value for 36 unscaled features."""
    lo, hi = FEATURE_RANGES[:, 0], FEATURE_RANGES[:, 1]
    scaled = -1 + 2 * (features - lo) / (hi - lo)
    dist = np.sum((scaled[None, :] - model.sv) ** 2, axis=1)
    return float(np.exp(-GAMMA * dist) @ model.sv_coef - RHO)


def brisque(frame: np.ndarray, model: BRISQUEModel) -> float:
    """BRISQUE of a uint8 RGB frame."""
    return brisque_score(brisque_features(luma255(frame, "yiq")), model)
