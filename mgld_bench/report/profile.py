"""Temporal profiles: one image line of every frame, stacked over time.

For a row profile, output row ``t`` is row ``row`` of frame ``t`` (time runs down); for a column
profile, output column ``t`` is column ``col`` of frame ``t`` (time runs right).  Temporally
consistent video gives smooth, continuous streaks (a horizontal translation by k px per frame
draws straight diagonals of slope k); flicker shows as broken, noisy streaks (MGLD Fig. 5).

``mgld-bench plot profile`` draws the figure with matplotlib (PNG and PDF);
``run`` writes :func:`profile_image` (one PNG, drawn with NumPy/OpenCV, no matplotlib), each
panel the profile itself, pixel for pixel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.report.figures import pyplot, safe_name, save_figure, write_png


def temporal_profile(frames: Iterable[np.ndarray], row: int | None = None, col: int | None = None) -> np.ndarray:
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


def profile_title(dataset: str, clip: str, row: int | None = None, col: int | None = None) -> str:
    """The title of a clip's profile figure; ``run`` and ``plot profile`` both use it."""
    line = f"column {col}" if col is not None else f"row {row}" if row is not None else "middle row"
    return f"{dataset} / {clip}: temporal profile ({line})"


def crop_span(profile: np.ndarray, span: tuple[int, int] | None, is_row: bool) -> np.ndarray:
    """The part ``[start, end)`` of a profile along its spatial axis (x for rows, y for columns)."""
    if span is None:
        return profile
    start, end = span
    length = profile.shape[1] if is_row else profile.shape[0]
    if not 0 <= start < end <= length:
        raise BenchError(f"span {start}:{end} is outside the profile's {length} pixels")
    return profile[:, start:end] if is_row else profile[start:end]


def parse_span(text: str) -> tuple[int, int]:
    """``"START:END"`` -> (start, end); raise naming the expected form otherwise."""
    try:
        start, end = (int(v) for v in text.split(":"))
    except ValueError:
        raise BenchError(f"--span expects START:END in pixels (e.g. 100:300), got {text!r}") from None
    return start, end


def profile_figure(
    profiles: Sequence[tuple[str, np.ndarray]],
    thumbnail: np.ndarray,
    row: int | None = None,
    col: int | None = None,
    title: str = "",
    span: tuple[int, int] | None = None,
) -> Any:
    """Thumbnail with the sampled line marked, then one profile panel per (label, profile).

    The profiles are shown as given (already cropped to ``span``); ``span`` only limits the
    marked segment on the thumbnail and offsets the axis labels.
    """
    plt = pyplot()
    h, w = thumbnail.shape[:2]
    if row is None and col is None:
        row = h // 2
    lo, hi = span if span else (0, w if row is not None else h)
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
        ax.plot([lo - 0.5, hi - 0.5], [row, row], color="red", linewidth=1.2)
        ax.set_title(f"frame 0, row {row}")
    else:
        ax.plot([col, col], [lo - 0.5, hi - 0.5], color="red", linewidth=1.2)
        ax.set_title(f"frame 0, column {col}")
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    for ax, (label, prof) in zip(axes[0][1:], profiles, strict=True):
        t = prof.shape[0] if row is not None else prof.shape[1]
        extent = (lo - 0.5, hi - 0.5, t - 0.5, -0.5) if row is not None else (-0.5, t - 0.5, hi - 0.5, lo - 0.5)
        ax.imshow(prof, interpolation="nearest", aspect="auto", extent=extent, cmap="gray" if prof.ndim == 2 else None)
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
    span: tuple[int, int] | None = None,
) -> list[Path]:
    """Compute the profile of each (label, frames) source and write the figure.

    The first source's frame 0 is the thumbnail (GT when present).  With ``raw``, each profile
    is also written pixel-exact as ``<stem>_<label>.png`` for cropping into papers.  ``span``
    keeps only pixels ``[start, end)`` along the line (a zoom on the region of interest).
    """
    if not sources:
        raise BenchError(f"{stem}: no frames to draw a temporal profile from")
    out_dir = Path(out_dir)
    is_row = col is None
    profiles = [
        (label, crop_span(temporal_profile(frames, row=row, col=col), span, is_row)) for label, frames in sources
    ]
    thumbnail = np.asarray(sources[0][1][0])
    written = []
    if raw:
        for label, prof in profiles:
            written.append(write_png(out_dir / f"{stem}_{safe_name(label)}.png", prof))
    fig = profile_figure(profiles, thumbnail, row=row, col=col, title=title, span=span)
    written += save_figure(fig, out_dir / stem, tuple(formats))
    return written


#: Height of a text strip (title or label) in :func:`profile_image`.
TEXT_STRIP = 22
#: Width of the frame-0 thumbnail in :func:`profile_image`, at most.
THUMB_WIDTH = 320


def text_strip(text: str, width: int, height: int = TEXT_STRIP) -> np.ndarray:
    """A white (height, width, 3) uint8 strip with ``text`` in black (OpenCV's Hershey font:
    ASCII only, other characters drawn as ``?``)."""
    import cv2

    strip = np.full((height, max(width, 1), 3), 255, np.uint8)
    ascii_text = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    cv2.putText(strip, ascii_text, (4, height - 7), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return strip


def text_width(text: str) -> int:
    """Pixels :func:`text_strip` needs for ``text``."""
    import cv2

    (w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)
    return w + 8


def profile_stretch(width: int, n_frames: int) -> int:
    """Rows per frame in :func:`profile_image`: a short clip's profile is repeated row by row
    until it is about a quarter as tall as wide (1 to 8)."""
    return max(1, min(8, -(-width // (4 * max(n_frames, 1)))))


def profile_image(
    profiles: Sequence[tuple[str, np.ndarray]], thumbnail: np.ndarray, row: int, title: str = ""
) -> np.ndarray:
    """The run's temporal-profile figure as one RGB image, top to bottom: ``title``; frame 0
    (``thumbnail``, at most :data:`THUMB_WIDTH` wide) with the sampled row in red; then per
    (label, row profile): the label and the profile, every frame's line repeated
    :func:`profile_stretch` times (time runs down), at native width.

    ``profiles`` are (T, W[, 3]) uint8 row profiles of one size (:func:`temporal_profile`).
    """
    import cv2

    if not profiles:
        raise BenchError("temporal profile: nothing to draw")
    shapes = {np.asarray(p).shape[:2] for _, p in profiles}
    if len(shapes) != 1:
        raise BenchError(f"temporal profile: profiles of different sizes {sorted(shapes)}")
    t, w = shapes.pop()
    h = thumbnail.shape[0]
    scale = min(1.0, THUMB_WIDTH / max(thumbnail.shape[1], 1))
    tw, th = max(1, round(thumbnail.shape[1] * scale)), max(1, round(h * scale))
    thumb = np.ascontiguousarray(_rgb(thumbnail))
    if scale < 1.0:
        thumb = cv2.resize(thumb, (tw, th), interpolation=cv2.INTER_AREA)
    y = min(th - 1, int(row * scale))
    thumb[y] = (255, 0, 0)
    stretch = profile_stretch(w, t)
    head = ([title] if title else []) + [f"frame 0, row {row}; below, that row of every frame (time runs down)"]
    width = max(w, tw, *(text_width(text) for text in head + [label for label, _ in profiles]))
    blocks = [text_strip(text, width) for text in head] + [_pad(thumb, width)]
    for label, prof in profiles:
        blocks += [text_strip(label, width), _pad(np.repeat(_rgb(np.asarray(prof)), stretch, axis=0), width)]
    return np.concatenate(blocks, axis=0)


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image


def _pad(image: np.ndarray, width: int) -> np.ndarray:
    """``image`` on a white band ``width`` wide (left aligned)."""
    if image.shape[1] == width:
        return image
    band = np.full((image.shape[0], width, 3), 255, np.uint8)
    band[:, : image.shape[1]] = image
    return band


def write_profile_image(
    sources: Sequence[tuple[str, Sequence[np.ndarray]]],
    path: Path | str,
    row: int | None = None,
    title: str = "",
    profiles: Sequence[np.ndarray | None] | None = None,
) -> Path:
    """:func:`profile_image` of (label, frames) sources at ``row`` (default: the middle row of
    the first source's frames) written as one PNG.  ``profiles``: one per source, in order, the
    row profile already made at that row (its frames are then not decoded) or None."""
    if not sources:
        raise BenchError(f"{path}: no frames to draw a temporal profile from")
    thumbnail = np.asarray(sources[0][1][0])
    if row is None:
        row = thumbnail.shape[0] // 2
    made = list(profiles) if profiles is not None else [None] * len(sources)
    labelled = [(label, p if p is not None else temporal_profile(frames, row=row))
                for (label, frames), p in zip(sources, made, strict=True)]
    return write_png(path, profile_image(labelled, thumbnail, row, title))
