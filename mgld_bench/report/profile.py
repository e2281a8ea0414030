"""Temporal profiles: one image line of every frame, stacked over time.

For a row profile, output row ``t`` is row ``row`` of frame ``t`` (time runs down); for a column
profile, output column ``t`` is column ``col`` of frame ``t`` (time runs right).  Temporally
consistent video gives smooth, continuous streaks (a horizontal translation by k px per frame
draws straight diagonals of slope k); flicker shows as broken, noisy streaks (MGLD Fig. 5).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.report.figures import pyplot, safe_name, save_figure, write_png


def temporal_profile(
    frames: Iterable[np.ndarray], row: int | None = None, col: int | None = None
) -> np.ndarray:
    """Stack the chosen line of every frame over time.

    ``frames``: (H, W) or (H, W, C) arrays of one size.  Exactly one of ``row``/``col`` may be
    given; with neither, the middle row is used.  Returns (T, W[, C]) for a row and (H, T[, C])
    for a column, with the frames' dtype.
    """
    if row is not None and col is not None:
        raise BenchError("give either a row or a column for a temporal profile, not both")
    lines = []
    shape = None
    for t, frame in enumerate(frames):
        frame = np.asarray(frame)
        if frame.ndim not in (2, 3):
            raise BenchError(f"temporal profile: frame {t} has shape {frame.shape}; expected H x W [x C]")
        if shape is None:
            shape = frame.shape
            h, w = shape[:2]
            if row is None and col is None:
                row = h // 2
            if row is not None and not 0 <= row < h:
                raise BenchError(f"temporal profile: row {row} is outside the frames (height {h})")
            if col is not None and not 0 <= col < w:
                raise BenchError(f"temporal profile: column {col} is outside the frames (width {w})")
        elif frame.shape != shape:
            raise BenchError(
                f"temporal profile: frame {t} has shape {frame.shape}, frame 0 has {shape}; "
                "all frames must have one size"
            )
        lines.append(frame[row] if row is not None else frame[:, col])
    if not lines:
        raise BenchError("temporal profile: no frames")
    stacked = np.stack(lines, axis=0)  # (T, W[, C]) or (T, H[, C])
    return stacked if row is not None else np.swapaxes(stacked, 0, 1)


def profile_figure(
    profiles: Sequence[tuple[str, np.ndarray]],
    thumbnail: np.ndarray,
    row: int | None = None,
    col: int | None = None,
    title: str = "",
) -> Any:
    """Thumbnail with the sampled line marked, then one profile panel per (label, profile)."""
    plt = pyplot()
    h, w = thumbnail.shape[:2]
    if row is None and col is None:
        row = h // 2
    n = len(profiles) + 1
    panel_w = 2.2
    first = profiles[0][1] if profiles else thumbnail
    ratio = first.shape[0] / max(first.shape[1], 1)
    panel_h = float(np.clip(panel_w * ratio, 1.0, 4.0))
    thumb_h = float(np.clip(panel_w * h / max(w, 1), 1.0, 4.0))
    fig, axes = plt.subplots(1, n, figsize=(panel_w * n, max(panel_h, thumb_h) + 0.6), squeeze=False)
    ax = axes[0][0]
    ax.imshow(thumbnail, interpolation="nearest")
    if row is not None:
        ax.axhline(row, color="red", linewidth=1.2)
        ax.set_title(f"frame 0, row {row}")
    else:
        ax.axvline(col, color="red", linewidth=1.2)
        ax.set_title(f"frame 0, column {col}")
    ax.set_xticks([])
    ax.set_yticks([])
    for ax, (label, prof) in zip(axes[0][1:], profiles, strict=True):
        ax.imshow(prof, interpolation="nearest", aspect="auto", cmap="gray" if prof.ndim == 2 else None)
        ax.set_title(label)
        if row is not None:
            ax.set_ylabel("frame (time ↓)")
            ax.set_xlabel("x")
        else:
            ax.set_xlabel("frame (time →)")
            ax.set_ylabel("y")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def write_profiles(
    sources: Sequence[tuple[str, Sequence[np.ndarray]]],
    out_dir: Path | str,
    stem: str,
    row: int | None = None,
    col: int | None = None,
    title: str = "",
    formats: Sequence[str] = ("png", "pdf"),
    raw: bool = True,
) -> list[Path]:
    """Compute the profile of each (label, frames) source and write the figure.

    The first source's frame 0 is the thumbnail (GT when present).  With ``raw``, each profile
    is also written pixel-exact as ``<stem>_<label>.png`` for cropping into papers.
    """
    if not sources:
        raise BenchError(f"{stem}: no frames to draw a temporal profile from")
    out_dir = Path(out_dir)
    profiles = [(label, temporal_profile(frames, row=row, col=col)) for label, frames in sources]
    thumbnail = np.asarray(sources[0][1][0])
    written = []
    if raw:
        for label, prof in profiles:
            written.append(write_png(out_dir / f"{stem}_{safe_name(label)}.png", prof))
    fig = profile_figure(profiles, thumbnail, row=row, col=col, title=title)
    written += save_figure(fig, out_dir / stem, tuple(formats))
    return written
