"""Image files of the HTML report: frame previews, native-resolution zoom crops, temporal profiles.

Written under ``OUT/report_files/`` once per (clip, source, frame): a preview (WebP or JPEG, at
most ``preview_width`` wide), one lossless PNG crop per zoom region at native resolution, and one
temporal profile per selected row.  Each source's frames are read once, in order; every encoder
is deterministic, so the same store gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.fileio import atomic_write_bytes
from mgld_bench.report.figures import safe_name

Box = tuple[int, int, int, int]  # x, y, width, height
#: Threads reading and encoding a clip's sources (one source each).
MAX_WORKERS = 4


@dataclass
class SourceAssets:
    """The files of one source (GT, input or a method) of one clip, relative to the page."""

    label: str
    kind: str  # "gt", "input" or "method"
    previews: list[str] = field(default_factory=list)  # one per sampled frame
    crops: list[list[str]] = field(default_factory=list)  # [frame][region]
    profiles: list[str] = field(default_factory=list)  # one per profile row


@dataclass
class ClipAssets:
    """Everything the page shows as images for one clip."""

    size: tuple[int, int]  # (H, W) of the output frames
    n_frames: int
    frames: list[int]  # the sampled frame indices
    regions: list[Box]
    rows: list[int]  # profile rows
    sources: list[SourceAssets]


def file_key(text: str) -> str:
    """A short, file-name-safe and collision-free folder name for a user-given name."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{safe_name(text)[:40]}-{digest}"


def sample_frames(n: int, k: int) -> list[int]:
    """``k`` frame indices spread evenly over ``0..n-1`` (first and last included)."""
    if n <= 0:
        return []
    if k <= 0 or k >= n:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)}) if k > 1 else [n // 2]


def profile_rows(height: int, k: int) -> list[int]:
    """``k`` rows spread over the frame height (the middle row first for ``k`` = 1)."""
    if k <= 1:
        return [height // 2]
    return sorted({min(height - 1, round(height * (i + 1) / (k + 1))) for i in range(k)})


def pick_regions(frames: Sequence[np.ndarray], reference: np.ndarray | None, k: int, side: int) -> list[Box]:
    """``k`` non-overlapping square boxes where the frames disagree most.

    Disagreement is the mean absolute difference to ``reference`` (GT) or, without one, to the
    frames' mean: the regions a reader wants to zoom into first.  The first box is the worst.
    """
    if not frames or k <= 0:
        return []
    h, w = frames[0].shape[:2]
    side = max(8, min(side, h, w, max(8, min(h, w) // 2)))
    stack = np.stack([np.asarray(f, dtype=np.float32).mean(axis=2) for f in frames])
    ref = stack.mean(axis=0) if reference is None else np.asarray(reference, dtype=np.float32).mean(axis=2)
    err = np.abs(stack - ref).mean(axis=0)
    integral = np.pad(err.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    step = max(1, side // 4)
    ys = np.arange(0, h - side + 1, step)
    xs = np.arange(0, w - side + 1, step)
    y0, x0 = np.meshgrid(ys, xs, indexing="ij")
    sums = integral[y0 + side, x0 + side] - integral[y0, x0 + side] - integral[y0 + side, x0] + integral[y0, x0]
    order = np.argsort(-sums, axis=None, kind="stable")
    boxes: list[Box] = []
    for flat in order:
        y, x = int(y0.flat[flat]), int(x0.flat[flat])
        if all(abs(x - bx) >= side or abs(y - by) >= side for bx, by, _, _ in boxes):
            boxes.append((x, y, side, side))
            if len(boxes) == k:
                break
    return boxes


def write_file(path: Path, data: bytes) -> Path:
    """Write atomically without fsync: these files are derived and rewritten by the next report,
    and a report of a REDS4 run writes over a thousand of them."""
    return atomic_write_bytes(path, data, sync=False)


def encode(image: np.ndarray, fmt: str, quality: int = 80) -> bytes:
    """Encode a uint8 RGB array with Pillow (``webp``, ``jpeg`` or lossless ``png``)."""
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(image))
    buf = io.BytesIO()
    if fmt == "webp":
        img.save(buf, format="WEBP", quality=quality, method=4)
    elif fmt == "jpeg":
        img.save(buf, format="JPEG", quality=quality, optimize=True)
    elif fmt == "png":
        img.save(buf, format="PNG", compress_level=4)
    else:
        raise BenchError(f"unknown image format {fmt!r} for the HTML report; use webp, jpeg or png")
    return buf.getvalue()


def resize_to_width(image: np.ndarray, width: int) -> np.ndarray:
    """Downscale (never upscale) to at most ``width`` pixels wide, keeping the aspect ratio."""
    h, w = image.shape[:2]
    if width <= 0 or w <= width:
        return image
    import cv2

    return cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)


def write_clip_assets(
    sources: Sequence[tuple[str, Sequence[np.ndarray]]],
    kinds: Sequence[str],
    root: Path,
    rel: str,
    options: Any,
) -> ClipAssets:
    """Write the previews, crops and profiles of one clip under ``root`` (``rel``: its name on the page)."""
    if not sources:
        raise BenchError(f"{rel}: no frames to show")
    first = sources[0][1]
    n = len(first)
    if n == 0:
        raise BenchError(f"{rel}: the clip has no frames")
    frames = sample_frames(n, options.frames)
    middle = frames[len(frames) // 2]
    probe = [np.asarray(f[middle]) for _, f in sources]
    size = probe[0].shape[:2]
    for (label, seq), frame in zip(sources, probe, strict=True):
        if frame.shape[:2] != size or len(seq) != n:
            raise BenchError(f"{rel}: {label} has {len(seq)} frames of {frame.shape[:2]}, expected {n} of {size}")
    reference = probe[0] if kinds[0] == "gt" else None
    compared = [p for p, kind in zip(probe, kinds, strict=True) if kind != "gt"] or probe
    regions = pick_regions(compared, reference, options.zoom_regions, options.zoom_size)
    rows = profile_rows(size[0], options.profile_rows)
    ext = "jpg" if options.preview_format == "jpeg" else options.preview_format
    wanted = set(frames)

    def one_source(item: tuple[tuple[str, Sequence[np.ndarray]], str]) -> SourceAssets:
        (label, seq), kind = item
        folder = f"{rel}/{kind}-{file_key(label)}"
        assets = SourceAssets(label, kind)
        lines: list[list[np.ndarray]] = [[] for _ in rows]
        for t in range(n):
            frame = np.asarray(seq[t])
            for i, row in enumerate(rows):
                lines[i].append(frame[row])
            if t not in wanted:
                continue
            name = f"{folder}/f{t:05d}.{ext}"
            preview = resize_to_width(frame, options.preview_width)
            write_file(root / name, encode(preview, options.preview_format, options.quality))
            assets.previews.append(name)
            crops = []
            for r, (x, y, bw, bh) in enumerate(regions):
                cname = f"{folder}/f{t:05d}_r{r}.png"
                write_file(root / cname, encode(frame[y : y + bh, x : x + bw], "png"))
                crops.append(cname)
            assets.crops.append(crops)
        for row, line in zip(rows, lines, strict=True):
            prof = np.stack(line)  # (T, W, 3): native width, every frame
            name = f"{folder}/profile_row{row:05d}.{ext}"
            write_file(root / name, encode(prof, options.preview_format, options.profile_quality))
            assets.profiles.append(name)
        return assets

    # One thread per source: PNG decoding and WebP/PNG encoding release the GIL, and each source
    # writes only its own files, so the result does not depend on the order threads finish in.
    workers = max(1, min(options.workers or os.cpu_count() or 1, MAX_WORKERS, len(sources)))
    items = list(zip(sources, kinds, strict=True))
    if workers == 1:
        out = [one_source(item) for item in items]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            out = list(pool.map(one_source, items))
    return ClipAssets((int(size[0]), int(size[1])), n, frames, regions, rows, out)
