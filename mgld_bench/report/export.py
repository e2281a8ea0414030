"""Taking a run's SR outputs out of the cache, by human names.

The result store records, for every (dataset, method, clip), the inference cache key; the cache's
inference manifest for that key lists the frame blobs (PNG, named by their sha256).  Export
copies those PNG bytes unchanged (``png``) or encodes them into one video per clip (``mp4``,
PyAV, at the clip's fps; ``lossless`` = x264 RGB at constant quality 0, decoded bit-exact).

Layout under the target folder::

    DIR/<method>/<dataset>/<clip>/<frame>.png     (png)
    DIR/<method>/<dataset>/<clip>.mp4             (mp4)

Frame files are named by the clip's frame ids when the store holds one for every frame, else
by index (``00000000.png``).  Every file is written atomically.  Nothing is recomputed: outputs
missing from the cache are an error naming the run to repeat.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.report.store_read import query

#: Formats :func:`export_outputs` writes.
FORMATS = ("png", "mp4")

_UNSAFE = re.compile(r"[^A-Za-z0-9._=+,@\[\]-]+")


def safe_name(text: str) -> str:
    """A file-name-safe form of a dataset, method, clip or frame name (path separators replaced)."""
    name = _UNSAFE.sub("_", str(text)).strip("._") or "_"
    return name[:200]


@dataclass(frozen=True)
class ClipOutput:
    """One clip's SR frames in the cache: where they are and what they are called."""

    dataset: str
    method: str
    clip: str
    infer_key: str
    shas: tuple[str, ...]
    frame_names: tuple[str, ...]
    cache_root: Path


def _cached_output(cache_dirs: Sequence[str], key: str) -> tuple[Any, tuple[str, ...]] | None:
    """(cache, frame blob shas) of inference ``key`` in the first cache folder holding it whole."""
    from mgld_bench.store.cache import Cache
    from mgld_bench.store.outputs import load_infer

    for root in cache_dirs:
        if not key or not Path(root).is_dir():
            continue
        cache = Cache(root)
        hit = load_infer(cache, key)
        if hit is not None:
            return cache, tuple(hit.frames.shas)
    return None


def _frame_names(store: Path, dataset: str, method: str, clip: str, n: int) -> tuple[str, ...]:
    ids = query(
        store,
        "SELECT DISTINCT frame, frame_id FROM frame_scores WHERE dataset = ? AND method = ? AND clip = ?",
        (dataset, method, clip),
    )
    by_index: dict[int, str] = {}
    for frame, frame_id in zip(ids["frame"], ids["frame_id"], strict=True):
        by_index.setdefault(int(frame), safe_name(Path(str(frame_id)).stem))
    names = [by_index.get(i) for i in range(n)]
    if all(names) and len(set(names)) == n:
        return tuple(str(x) for x in names)
    return tuple(f"{i:08d}" for i in range(n))


def find_outputs(
    out: Path,
    methods: Sequence[str],
    clips: Sequence[str] | None = None,
    datasets: Sequence[str] | None = None,
    cache_dir: Path | None = None,
) -> list[ClipOutput]:
    """The cached SR outputs of ``methods`` in the run folder ``out`` (optionally some clips/datasets)."""
    from mgld_bench.report.frame_sources import run_info

    store = Path(out) / "results.sqlite"
    # one output per (dataset, method, clip): rows left by an earlier run into the same folder
    # (other metrics, older options) give way to the latest run's inference key
    rows = query(
        store,
        "SELECT c.dataset, c.method, c.clip, c.infer_key FROM clip_scores c LEFT JOIN runs r ON c.run_id = r.run_id "
        "ORDER BY r.started, r.rowid",
    )
    rows = rows.drop_duplicates(["dataset", "method", "clip"], keep="last").sort_values(["dataset", "method", "clip"])
    known = sorted(set(rows["method"]))
    unknown = [m for m in methods if m not in known]
    if unknown:
        raise BenchError(
            f"{store} holds no results of method(s) {', '.join(unknown)}; it has: {', '.join(known) or 'none'}"
        )
    rows = rows[rows["method"].isin(list(methods))]
    for col, wanted in (("clip", clips), ("dataset", datasets)):
        if wanted:
            missing = sorted(set(wanted) - set(rows[col]))
            if missing:
                raise BenchError(
                    f"no {col} {', '.join(missing)} among the results of {', '.join(methods)}; "
                    f"there are: {', '.join(sorted(set(rows[col])))}"
                )
            rows = rows[rows[col].isin(list(wanted))]
    info = run_info(store)
    cache_dirs = ([str(cache_dir)] if cache_dir is not None else []) + info.cache_dirs
    found: list[ClipOutput] = []
    for dataset, method, clip, key in rows[["dataset", "method", "clip", "infer_key"]].itertuples(index=False):
        hit = _cached_output(cache_dirs, str(key or ""))
        if hit is None:
            raise BenchError(
                f"the SR frames of {method} on {dataset}/{clip} are not in the cache ({', '.join(cache_dirs)}); "
                "rerun the same `mgld-bench run` to recreate them, or pass --cache-dir"
            )
        cache, shas = hit
        names = _frame_names(store, dataset, method, clip, len(shas))
        found.append(ClipOutput(dataset, method, clip, str(key), shas, names, cache.root))
    return found


def _decode(data: bytes) -> np.ndarray:
    import cv2

    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise BenchError("a cached frame is not a readable PNG; delete the cache entry and rerun")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def write_pngs(item: ClipOutput, folder: Path) -> list[Path]:
    """Copy the clip's PNG blobs unchanged to ``folder/<frame>.png``."""
    from mgld_bench.fileio import atomic_write_bytes
    from mgld_bench.store.cache import Cache

    cache = Cache(item.cache_root)
    paths = []
    for sha, name in zip(item.shas, item.frame_names, strict=True):
        path = folder / f"{name}.png"
        atomic_write_bytes(path, cache.read_blob(sha))
        paths.append(path)
    return paths


def write_mp4(item: ClipOutput, path: Path, fps: float, lossless: bool = False, crf: int = 18) -> Path:
    """Encode the clip's frames into ``path`` (H.264 in mp4) at ``fps``.

    Lossy: yuv420p (yuv444p for odd sizes) at constant quality ``crf``.  Lossless: ``libx264rgb``
    at ``crf`` 0 in RGB, which decodes to the same pixels.
    """
    import av

    from mgld_bench.fileio import atomic_write_bytes
    from mgld_bench.store.cache import Cache

    if not fps or fps <= 0:
        raise BenchError(f"{item.method} on {item.dataset}/{item.clip}: no frame rate known; pass --fps")
    cache = Cache(item.cache_root)
    rate = Fraction(fps).limit_denominator(1001)
    buf = io.BytesIO()
    try:
        with av.open(buf, "w", format="mp4") as container:
            codec = "libx264rgb" if lossless else "libx264"
            options = {"crf": "0" if lossless else str(int(crf)), "preset": "medium"}
            stream = container.add_stream(codec, rate=rate, options=options)
            first = True
            for i, sha in enumerate(item.shas):
                frame = _decode(cache.read_blob(sha))
                if first:
                    h, w = frame.shape[:2]
                    stream.height, stream.width = h, w
                    stream.pix_fmt = "rgb24" if lossless else ("yuv420p" if h % 2 == 0 and w % 2 == 0 else "yuv444p")
                    first = False
                vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
                vf.pts = i  # in the codec's time base, 1/fps
                for packet in stream.encode(vf):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    except av.error.FFmpegError as exc:
        raise BenchError(f"cannot encode {item.method} on {item.dataset}/{item.clip} as mp4: {exc}") from None
    atomic_write_bytes(path, buf.getvalue())
    return path


def clip_fps(out: Path, item: ClipOutput, data_root: str | None = None) -> float | None:
    """The clip's fps, from its dataset rebuilt as the run built it (None when it has none)."""
    from mgld_bench.report.frame_sources import open_dataset, run_info

    ds = open_dataset(item.dataset, run_info(Path(out) / "results.sqlite"), data_root)
    return ds.clip(item.clip).fps


def export_outputs(
    out: Path,
    methods: Sequence[str],
    to: Path,
    fmt: str = "png",
    clips: Sequence[str] | None = None,
    datasets: Sequence[str] | None = None,
    cache_dir: Path | None = None,
    fps: float | None = None,
    lossless: bool = False,
    data_root: str | None = None,
    on_file: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Write the SR outputs of ``methods`` in run ``out`` under ``to``; return the files written.

    ``fps`` overrides the clip's own frame rate for mp4 (needed when the clip has none).
    """
    if fmt not in FORMATS:
        raise BenchError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    items = find_outputs(Path(out), methods, clips, datasets, cache_dir)
    written: list[Path] = []
    for item in items:
        base = Path(to) / safe_name(item.method) / safe_name(item.dataset)
        if fmt == "png":
            files = write_pngs(item, base / safe_name(item.clip))
        else:
            rate = fps or clip_fps(Path(out), item, data_root)
            if not rate:
                raise BenchError(
                    f"clip {item.dataset}/{item.clip} has no frame rate; pass --fps to export it as mp4"
                )
            files = [write_mp4(item, base / f"{safe_name(item.clip)}.mp4", rate, lossless)]
        for f in files:
            if on_file is not None:
                on_file(f)
        written.extend(files)
    return written
