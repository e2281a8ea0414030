"""Pure maths of the temporal metrics: warping error (Lai et al. 2018 and the EvalCrafter
variant), TecoGAN's tOF, and the frame preparation they share.

Frames here are float arrays in [0, 1], (H, W, 3); flows are (H, W, 2) float32 (dx, dy) with
``b(x + F(x)) ≈ a(x)`` for the flow a -> b (see :mod:`mgld_bench.flow`).
"""

from __future__ import annotations

import numpy as np

from mgld_bench.flow.warp import occlusion_mask, remap, sample_map

#: Reductions of the squared warping residual over channels.
REDUCTIONS = ("mean", "sum")


def to_unit_float(frame: np.ndarray) -> np.ndarray:
    """uint8 RGB -> float32 in [0, 1]; float input is returned as float32 unchanged."""
    arr = np.asarray(frame)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / np.float32(255.0)
    return arr.astype(np.float32, copy=False)


def half_resolution(frame: np.ndarray) -> np.ndarray:
    """Bilinear x0.5 downsampling (half-pixel centres, as ``F.interpolate(..., 0.5, 'bilinear')``)."""
    import cv2

    h, w = frame.shape[:2]
    return cv2.resize(np.asarray(frame), (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_LINEAR)


def masked_warp_error(
    frame_t: np.ndarray, frame_t1: np.ndarray, fwd: np.ndarray, mask: np.ndarray, reduction: str = "mean",
    positions: np.ndarray | None = None,
) -> float:
    """Squared residual between ``frame_t`` and ``frame_t1`` warped back with ``fwd``, over ``mask``.

    ``reduction="mean"`` (Lai): Σ_{x,c} M (Ŵ - V)² / (C Σ_x M), i.e. the mean over non-occluded
    pixels and channels; when no pixel is valid the denominator is C·H·W (so the error is 0), as
    in Lai's code.  ``reduction="sum"`` (EvalCrafter): Σ_{x,c} M (Ŵ - V)² / Σ_x M, the channel
    sum (C times the mean for the same flow).
    """
    import cv2

    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    v_t = to_unit_float(frame_t)
    v_t1 = to_unit_float(frame_t1)
    if v_t.shape != v_t1.shape or v_t.shape[:2] != mask.shape:
        raise ValueError(f"frames {v_t.shape}/{v_t1.shape} and mask {mask.shape} disagree in size")
    channels = v_t.shape[2] if v_t.ndim == 3 else 1
    if channels > 4:
        raise ValueError(f"at most 4 channels are supported, got {channels}")
    m = np.ascontiguousarray(mask, dtype=bool)
    if not m.any():  # Lai: the numerator is 0 and the denominator C*H*W
        return 0.0
    diff = remap(v_t1, sample_map(fwd) if positions is None else positions)
    diff -= v_t
    np.multiply(diff, diff, out=diff)
    # per-channel means over the kept pixels, accumulated in double precision by OpenCV
    means = cv2.mean(diff, mask=m.view(np.uint8))[:channels]
    total = float(sum(means))
    return total / channels if reduction == "mean" else total


def warp_error_pair(
    frame_t: np.ndarray, frame_t1: np.ndarray, fwd: np.ndarray, bwd: np.ndarray, reduction: str = "mean",
    motion_boundaries: bool = True, exclude_outside: bool = False,
) -> tuple[float, float]:
    """Warping error of one frame pair and the non-occluded fraction it was computed on.

    ``fwd``/``bwd`` are the flows t -> t+1 and t+1 -> t of the flow-source video (which may be
    a different video than the frames scored, e.g. the GT).
    """
    pos = sample_map(fwd)
    mask = occlusion_mask(fwd, bwd, motion_boundaries, exclude_outside, positions=pos)
    return masked_warp_error(frame_t, frame_t1, fwd, mask, reduction, positions=pos), float(mask.mean())


def flow_difference(flow_sr: np.ndarray, flow_gt: np.ndarray) -> float:
    """TecoGAN's tOF term: mean over pixels of the Euclidean norm of the flow difference."""
    d = np.asarray(flow_sr, dtype=np.float64) - np.asarray(flow_gt, dtype=np.float64)
    return float(np.sqrt((d * d).sum(axis=-1)).mean())


def tecogan_crop_box(height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, h, w) of TecoGAN's centre crop: sides a multiple of 32 with >= 8 px margin each side.

    Frames too small for such a crop (under 48 px) are left whole.
    """

    def side(n: int) -> int:
        s = (n // 32) * 32
        while s > 0 and s > n - 16:
            s -= 32
        return s

    h, w = side(height), side(width)
    if h <= 0 or w <= 0:
        return 0, 0, height, width
    return (height - h) // 2, (width - w) // 2, h, w


def tecogan_crop(frame: np.ndarray) -> np.ndarray:
    """The centre crop of :func:`tecogan_crop_box` applied to ``frame``."""
    top, left, h, w = tecogan_crop_box(*np.asarray(frame).shape[:2])
    return frame[top : top + h, left : left + w]
