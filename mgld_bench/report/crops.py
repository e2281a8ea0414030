"""Side-by-side crops of one frame: GT, the bicubic input and each method, same box, enlarged.

The first panel shows the whole reference frame with the box drawn; crops are enlarged with
nearest-neighbour sampling so that each output pixel stays visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.report.figures import pyplot, safe_name, save_figure, write_png

Box = tuple[int, int, int, int]  # x, y, width, height


def default_box(size: tuple[int, int]) -> Box:
    """A centred box a quarter of the shorter side wide (at least 8 px)."""
    h, w = size
    side = max(8, min(h, w) // 4)
    side = min(side, h, w)
    return ((w - side) // 2, (h - side) // 2, side, side)


def parse_box(text: str) -> Box:
    """``X,Y,W,H`` -> a box; raise naming the expected form otherwise."""
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise BenchError(f"--box expects X,Y,WIDTH,HEIGHT in output pixels, got {text!r}") from None
    return (x, y, w, h)


def crop(frame: np.ndarray, box: Box, label: str = "frame") -> np.ndarray:
    """The ``box`` region of ``frame``; raise if it does not fit."""
    x, y, w, h = box
    fh, fw = frame.shape[:2]
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > fw or y + h > fh:
        raise BenchError(f"crop box {box} (x, y, w, h) does not fit the {fw}x{fh} {label}")
    return frame[y : y + h, x : x + w]


def crops_figure(panels: Sequence[tuple[str, np.ndarray]], box: Box, title: str = "") -> Any:
    """Reference frame with the box, then the crop of every (label, frame)."""
    plt = pyplot()
    from matplotlib.patches import Rectangle

    n = len(panels) + 1
    fig, axes = plt.subplots(1, n, figsize=(2.0 * n, 2.4), squeeze=False)
    ref_label, ref = panels[0]
    axes[0][0].imshow(ref)
    x, y, w, h = box
    axes[0][0].add_patch(Rectangle((x - 0.5, y - 0.5), w, h, fill=False, edgecolor="red", linewidth=1.2))
    axes[0][0].set_title(f"{ref_label} (full)")
    for ax, (label, frame) in zip(axes[0][1:], panels, strict=True):
        ax.imshow(crop(frame, box, label), interpolation="nearest")
        ax.set_title(label)
    for ax in axes[0]:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def write_crops(
    panels: Sequence[tuple[str, np.ndarray]],
    out_dir: Path | str,
    stem: str,
    box: Box | None = None,
    title: str = "",
    formats: Sequence[str] = ("png", "pdf"),
    raw: bool = True,
) -> list[Path]:
    """Write the crop figure (and, with ``raw``, each crop as a pixel-exact PNG)."""
    if not panels:
        raise BenchError(f"{stem}: no frames to crop")
    box = box or default_box(panels[0][1].shape[:2])
    out_dir = Path(out_dir)
    written = []
    if raw:
        for label, frame in panels:
            written.append(write_png(out_dir / f"{stem}_{safe_name(label)}.png", crop(frame, box, label)))
    written += save_figure(crops_figure(panels, box, title), out_dir / stem, tuple(formats))
    return written
