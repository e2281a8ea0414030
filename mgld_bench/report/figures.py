"""Matplotlib helpers shared by the figure modules: headless backend, saving, panel images.

matplotlib is imported inside functions with the Agg backend forced, so figures render without
a display and ``import mgld_bench.report`` stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.fileio import atomic_write_bytes as write_bytes_atomic

FIGURE_FORMATS = ("png", "pdf")

#: Font sizes chosen to stay readable when a figure is scaled to one column of a paper.
FONT = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
}


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the headless Agg backend, with readable font sizes."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update(FONT)
    return plt


def save_figure(
    fig: Any, stem: Path | str, formats: tuple[str, ...] | list[str] = FIGURE_FORMATS, dpi: int = 150
) -> list[Path]:
    """Save ``fig`` as ``stem.<fmt>`` for each format (atomically) and close it."""
    import io

    plt = pyplot()
    stem = Path(stem)
    out = []
    try:
        for fmt in formats:
            if fmt not in FIGURE_FORMATS:
                raise BenchError(f"unknown figure format {fmt!r}; choose from {', '.join(FIGURE_FORMATS)}")
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=dpi)
            out.append(write_bytes_atomic(stem.with_suffix(f".{fmt}"), buf.getvalue()))
    finally:
        plt.close(fig)
    return out


def write_png(path: Path | str, image: np.ndarray) -> Path:
    """Write a uint8 (H, W) or (H, W, 3) RGB array as a lossless PNG, pixel for pixel."""
    import cv2

    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise BenchError(f"{path}: expected a uint8 image, got {image.dtype}")
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise BenchError(f"cannot encode {path} as PNG")
    return write_bytes_atomic(path, buf.tobytes())


def bicubic_upsample(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The LR frame resized to (H, W) with OpenCV bicubic interpolation (the "input" panel)."""
    import cv2

    h, w = size
    if frame.shape[:2] == (h, w):
        return frame
    return cv2.resize(frame, (w, h), interpolation=cv2.INTER_CUBIC)


def safe_name(text: str) -> str:
    """A file-name-safe version of a dataset, clip or method name."""
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(text))
    return keep.strip("._") or "_"
