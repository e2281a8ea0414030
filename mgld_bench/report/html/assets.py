"""Image files of the HTML report: frame previews, native-resolution zoom crops, temporal profiles.

Written under ``OUT/report_files/`` per (clip, source, frame): a preview (JPEG or WebP, at most
``preview_width`` wide), one lossless PNG crop per zoom region at native resolution, and one
temporal profile per selected row.

Every file is content-addressed: its name ends with a digest of the source's content digest
(:meth:`FrameSequence.digest`: cache blob digests for SR frames, file digests for a dataset's
frames) and the options that shape it, so a file that exists is the file this report would write,
and a report encodes only what is missing.  What must be known before naming the files (frame
size, count, zoom regions, profile rows) is kept per clip in ``plan-<digest>.json``, keyed the
same way, so a report with nothing changed decodes no frame at all.  A source with missing
files has each needed frame decoded once for all its uses.  Every encoder is deterministic: the
same store gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.fileio import atomic_write_bytes
from mgld_bench.report.figures import safe_name

Box = tuple[int, int, int, int]  # x, y, width, height
#: Threads reading and encoding sources (one source of one clip each).
MAX_WORKERS = 4
#: Goes into every file's name: bump it when an encoder or a layout changes the bytes.
ASSET_FORMAT = 2


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
    stack = np.stack([_channel_mean(f) for f in frames])
    ref = stack.mean(axis=0) if reference is None else _channel_mean(reference)
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


def _channel_mean(frame: np.ndarray) -> np.ndarray:
    """``frame.astype(float32).mean(axis=2)``, bit for bit (sums of 8-bit values are exact in
    float32), without numpy's slow reduction over an axis of 3."""
    f = np.asarray(frame)
    if f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
        return np.asarray(f, dtype=np.float32).mean(axis=2)
    return (f[..., 0].astype(np.float32) + f[..., 1] + f[..., 2]) / np.float32(3)


def write_file(path: Path, data: bytes) -> Path:
    """Write atomically without fsync: these files are derived and rewritten by the next report,
    and a report of a REDS4 run writes over a thousand of them."""
    return atomic_write_bytes(path, data, sync=False)


def encode(image: np.ndarray, fmt: str, quality: int = 80, full_chroma: bool = False) -> bytes:
    """Encode a uint8 RGB array: ``jpeg`` and lossless ``png`` with OpenCV, ``webp`` with Pillow.

    ``full_chroma`` keeps JPEG colour at full resolution (4:4:4; for thin streaks in profiles).
    """
    if fmt == "webp":
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(image)).save(buf, format="WEBP", quality=quality, method=4)
        return buf.getvalue()
    import cv2

    if fmt == "jpeg":
        ext = ".jpg"
        params = [cv2.IMWRITE_JPEG_QUALITY, int(quality), cv2.IMWRITE_JPEG_OPTIMIZE, 1]
        if full_chroma:
            params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    elif fmt == "png":
        ext, params = ".png", [cv2.IMWRITE_PNG_COMPRESSION, 4]
    else:
        raise BenchError(f"unknown image format {fmt!r} for the HTML report; use webp, jpeg or png")
    ok, buf = cv2.imencode(ext, cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR), params)
    if not ok:
        raise BenchError(f"encoding a {image.shape[1]}x{image.shape[0]} image as {fmt} failed")
    return buf.tobytes()


def resize_to_width(image: np.ndarray, width: int) -> np.ndarray:
    """Downscale (never upscale) to at most ``width`` pixels wide, keeping the aspect ratio."""
    h, w = image.shape[:2]
    if width <= 0 or w <= width:
        return image
    import cv2

    return cv2.resize(image, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)


def source_digest(frames: Sequence[np.ndarray]) -> str:
    """The content digest of a source (its own ``digest()``; else every frame is hashed)."""
    own = getattr(frames, "digest", None)
    if callable(own):
        return str(own())
    h = hashlib.sha256(b"frames-v1")
    for frame in frames:
        h.update(f"{frame.shape}".encode())
        h.update(np.ascontiguousarray(frame).tobytes())
    return h.hexdigest()


def _key(*parts: Any) -> str:
    """A short digest naming a file by what made it."""
    return hashlib.sha256(json.dumps([ASSET_FORMAT, *parts]).encode()).hexdigest()[:12]


@dataclass
class ClipJob:
    """One clip's assets: the names the page links to, and the work still to do to make them."""

    assets: ClipAssets
    files: list[str]  # every file of the clip (relative to the files folder), the plan included
    tasks: list[Callable[[], None]]  # one per source with missing files; run them in any order


def plan_clip(
    sources: Sequence[tuple[str, Sequence[np.ndarray]]],
    kinds: Sequence[str],
    root: Path,
    rel: str,
    options: Any,
    keep_lines: Callable[[int, str, np.ndarray], None] | None = None,
) -> ClipJob:
    """Name every file of one clip under ``root`` (``rel``: its folder) and list what is missing.

    Nothing is decoded when every file exists; otherwise the middle frames when the clip's plan
    is missing (to find the size and zoom regions), then, per source with missing files, the
    frames those files need -- all of them for a missing profile.  ``keep_lines(i, label,
    profile)`` is then also given the middle-row profile (row H // 2, every frame, exact) of each
    source ``i`` whose frames are all decoded, for a caller that draws that profile too.
    """
    if not sources:
        raise BenchError(f"{rel}: no frames to show")
    n = len(sources[0][1])
    if n == 0:
        raise BenchError(f"{rel}: the clip has no frames")
    for label, seq in sources:
        if len(seq) != n:
            raise BenchError(f"{rel}: {label} has {len(seq)} frames, expected {n}")
    digests = [source_digest(seq) for _, seq in sources]
    frames = sample_frames(n, options.frames)
    middle = frames[len(frames) // 2]
    plan_key = _key("plan", [[label, kind, d] for (label, _), kind, d in zip(sources, kinds, digests, strict=True)],
                    n, middle, options.zoom_regions, options.zoom_size, options.profile_rows)
    plan_name = f"{rel}/plan-{plan_key}.json"
    probes: dict[int, np.ndarray] = {}
    plan = _read_plan(root / plan_name)
    if plan is None:
        probe = [np.asarray(seq[middle]) for _, seq in sources]
        size = probe[0].shape[:2]
        for (label, _), frame in zip(sources, probe, strict=True):
            if frame.shape[:2] != size:
                raise BenchError(f"{rel}: {label} has frames of {frame.shape[:2]}, expected {size}")
        reference = probe[0] if kinds[0] == "gt" else None
        compared = [p for p, kind in zip(probe, kinds, strict=True) if kind != "gt"] or probe
        regions = pick_regions(compared, reference, options.zoom_regions, options.zoom_size)
        plan = {"size": [int(size[0]), int(size[1])], "regions": [list(r) for r in regions],
                "rows": profile_rows(size[0], options.profile_rows)}
        write_file(root / plan_name, json.dumps(plan, sort_keys=True).encode())
        probes = dict(enumerate(probe))
    size = (int(plan["size"][0]), int(plan["size"][1]))
    regions = [tuple(int(v) for v in r) for r in plan["regions"]]
    rows = [int(r) for r in plan["rows"]]
    ext = "jpg" if options.preview_format == "jpeg" else options.preview_format

    out: list[SourceAssets] = []
    files = [plan_name]
    tasks: list[Callable[[], None]] = []
    for i, ((label, seq), kind, digest) in enumerate(zip(sources, kinds, digests, strict=True)):
        folder = f"{rel}/{kind}-{file_key(label)}"
        assets = SourceAssets(label, kind)
        todo_previews: dict[int, str] = {}
        todo_crops: dict[int, list[tuple[Box, str]]] = {}
        for t in frames:
            key = _key("preview", digest, t, options.preview_format, options.preview_width, options.quality)
            name = f"{folder}/f{t:05d}-{key}.{ext}"
            assets.previews.append(name)
            if not (root / name).is_file():
                todo_previews[t] = name
            crops = []
            for r, box in enumerate(regions):
                cname = f"{folder}/f{t:05d}_r{r}-{_key('crop', digest, t, list(box))}.png"
                crops.append(cname)
                if not (root / cname).is_file():
                    todo_crops.setdefault(t, []).append((box, cname))
            assets.crops.append(crops)
        todo_profiles: list[tuple[int, str]] = []
        for row in rows:
            key = _key("profile", digest, row, options.preview_format, options.profile_quality)
            name = f"{folder}/profile_row{row:05d}-{key}.{ext}"
            assets.profiles.append(name)
            if not (root / name).is_file():
                todo_profiles.append((row, name))
        files += assets.previews + [c for row in assets.crops for c in row] + assets.profiles
        out.append(assets)
        if todo_previews or todo_crops or todo_profiles:
            keep = partial(keep_lines, i, label) if keep_lines is not None else None
            tasks.append(partial(_encode_source, seq, probes.get(i), middle, root, options, size, todo_previews,
                                 todo_crops, todo_profiles, f"{label} on {rel}", keep))
    return ClipJob(ClipAssets(size, n, frames, regions, rows, out), files, tasks)


def _read_plan(path: Path) -> dict[str, Any] | None:
    try:
        plan = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return plan if isinstance(plan, dict) and {"size", "regions", "rows"} <= set(plan) else None


def _encode_source(
    seq: Sequence[np.ndarray],
    probe: np.ndarray | None,
    probe_index: int,
    root: Path,
    options: Any,
    size: tuple[int, int],
    previews: dict[int, str],
    crops: dict[int, list[tuple[Box, str]]],
    profiles: list[tuple[int, str]],
    what: str,
    keep: Callable[[np.ndarray], None] | None = None,
) -> None:
    """Decode the frames of one source that its missing files need (each once) and write those
    files; when every frame is decoded, hand ``keep`` the middle-row profile too."""
    needed = range(len(seq)) if profiles else sorted(set(previews) | set(crops))
    lines: list[list[np.ndarray]] = [[] for _ in profiles]
    middle: list[np.ndarray] = []
    for t in needed:
        frame = probe if t == probe_index and probe is not None else np.asarray(seq[t])
        if frame.shape[:2] != size:
            raise BenchError(f"{what}: frame {t} is {frame.shape[1]}x{frame.shape[0]}, expected {size[1]}x{size[0]}")
        for i, (row, _) in enumerate(profiles):
            lines[i].append(frame[row])
        if profiles and keep is not None:
            middle.append(frame[size[0] // 2])
        if t in previews:
            preview = resize_to_width(frame, options.preview_width)
            write_file(root / previews[t], encode(preview, options.preview_format, options.quality))
        for (x, y, bw, bh), cname in crops.get(t, []):
            write_file(root / cname, encode(frame[y : y + bh, x : x + bw], "png"))
    for (_, name), line in zip(profiles, lines, strict=True):
        profile = np.stack(line)  # (T, W, 3): native width, every frame
        write_file(root / name, encode(profile, options.preview_format, options.profile_quality, full_chroma=True))
    if middle and keep is not None:
        keep(np.stack(middle))


def run_tasks(tasks: Sequence[Callable[[], None]], workers: int) -> list[BaseException | None]:
    """Run ``tasks`` on a bounded pool of threads (decoding and encoding release the GIL); the
    error of each task, or None.  Each task writes only its own files, so the result does not
    depend on the order they finish in."""
    workers = max(1, min(workers or os.cpu_count() or 1, MAX_WORKERS, len(tasks) or 1))

    def guarded(task: Callable[[], None]) -> BaseException | None:
        try:
            task()
        except Exception as exc:  # reported against its clip by the caller
            return exc
        return None

    if workers == 1:
        return [guarded(t) for t in tasks]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(guarded, tasks))
