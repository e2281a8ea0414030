"""Colour conversions used by the fidelity metrics."""

from __future__ import annotations

import numpy as np

#: BT.601 limited-range luma weights for R, G, B in [0, 1] giving Y on the 0-255 scale
#: (MATLAB ``rgb2ycbcr`` / BasicSR ``rgb2ycbcr(y_only=True)``).
BT601_WEIGHTS = np.array([65.481, 128.553, 24.966], dtype=np.float64)
BT601_OFFSET = 16.0


def rgb_to_y(frame: np.ndarray) -> np.ndarray:
    """BT.601 limited-range Y (float64, 0-255 scale, not rounded) of a uint8 RGB frame."""
    rgb = frame.astype(np.float64) / 255.0
    return rgb @ BT601_WEIGHTS + BT601_OFFSET


_Y32 = np.array([[*(BT601_WEIGHTS / 255.0), BT601_OFFSET]], dtype=np.float32)


#: rows converted at a time by :func:`rgb_to_y32`: the float32 copy of a band stays in the CPU
#: cache instead of a whole frame's (11 MB at 720p) being allocated and written out
_Y_BAND_ROWS = 64


def rgb_to_y32(frame: np.ndarray) -> np.ndarray:
    """:func:`rgb_to_y` in float32 (OpenCV, in bands of rows; differs from the float64 value by < 3e-5)."""
    import cv2

    frame = np.ascontiguousarray(frame)
    out = np.empty(frame.shape[:2], dtype=np.float32)
    for r0 in range(0, frame.shape[0], _Y_BAND_ROWS):
        y = cv2.transform(frame[r0 : r0 + _Y_BAND_ROWS].astype(np.float32), _Y32)
        out[r0 : r0 + _Y_BAND_ROWS] = y if y.ndim == 2 else y[..., 0]
    return out


def to_color_space(frame: np.ndarray, color_space: str) -> np.ndarray:
    """``frame`` as float64 in the protocol's colour space: (H, W) for "y", (H, W, 3) for "rgb"."""
    if color_space == "y":
        return rgb_to_y(frame)
    if color_space == "rgb":
        return frame.astype(np.float64)
    raise ValueError(f"unknown colour space {color_space!r}; use 'y' or 'rgb'")


def crop(frame: np.ndarray, border: int) -> np.ndarray:
    """Remove ``border`` pixels from each of the four borders."""
    if border <= 0:
        return frame
    if 2 * border >= min(frame.shape[:2]):
        from mgld_bench.errors import FrameError

        class CropBorderError(FrameError, ValueError):
            """A crop border that leaves no pixels."""

        raise CropBorderError(
            f"crop border {border} leaves nothing of a {frame.shape[1]}x{frame.shape[0]} frame; use a smaller "
            "crop_border (--set METRIC.crop_border=N, or another protocol)"
        )
    return frame[border:-border, border:-border, ...]
