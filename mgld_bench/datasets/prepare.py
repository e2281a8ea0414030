"""``data prepare``: synthesise a seeded, versioned LR set from a dataset's GT.

Writes ``ROOT/prepared/NAME/DEG-vV-seedN/`` atomically: clips are written into ``*.partial/``
(each clip into a temporary folder renamed into place when complete, so an interrupted run
resumes at clip granularity), the manifest is written last, then the folder is renamed.  Nothing
half-prepared ever sits at the final path.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mgld_bench.datasets.prepared import PREPARED_MANIFEST, prepared_dir
from mgld_bench.datasets.standard import ManifestDataset
from mgld_bench.errors import BenchError
from mgld_bench.fileio import atomic_write_json

CLIP_RECORD = ".clip.json"


def library_versions() -> dict[str, Any]:
    """Versions of everything that can change the LR bytes (OpenCV, PyAV and its FFmpeg libraries, numpy)."""
    import av
    import cv2
    import numpy as np
    import scipy

    libs = {k: ".".join(map(str, v)) for k, v in getattr(av, "library_versions", {}).items()}
    return {
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "av": av.__version__,
        "scipy": scipy.__version__,
        "ffmpeg_libraries": libs,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


def pixel_digest(frame: Any) -> str:
    """sha256 of a uint8 RGB frame's shape and pixels: the identity of an LR frame independent of
    how its PNG was compressed (PNG bytes can differ between zlib builds for identical pixels)."""
    h = hashlib.sha256(f"{tuple(frame.shape)}".encode())
    h.update(frame.tobytes())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    from mgld_bench.fileio import file_sha256

    return file_sha256(path, memo=True)


def _write_json(path: Path, obj: Any) -> None:
    atomic_write_json(path, obj)


def prepare_clip(
    dataset: ManifestDataset,
    clip: str,
    out_dir: Path,
    degradation: str,
    seed: int,
    video_codecs: tuple[str, ...] | None = None,
    on_frame: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Degrade one clip's GT into ``out_dir/clip/`` (atomically) and return its record."""
    from mgld_bench.degrade.pipeline import degrade_clip
    from mgld_bench.frames import encode_png

    final = out_dir / clip
    record_path = final / CLIP_RECORD
    if record_path.is_file():
        return json.loads(record_path.read_text(encoding="utf-8"))
    if final.exists():
        shutil.rmtree(final)
    info = dataset.manifest.clip(clip)
    from mgld_bench.datasets.layout import open_clip_folder

    gt = open_clip_folder(dataset.gt_dir() / clip, f"{dataset.name} clip {clip} (GT)", info.frames, info.size)
    tmp = out_dir / f".{clip}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    frames = []
    lr_size = None
    try:
        lr = degrade_clip(iter(gt), gt.size, dataset.manifest_name, clip, seed, degradation, video_codecs)
        for gt_id, frame in zip(gt.ids, lr, strict=True):
            data = encode_png(frame)
            name = f"{gt_id}.png"
            (tmp / name).write_bytes(data)
            frames.append(
                {"file": name, "sha256": hashlib.sha256(data).hexdigest(), "pixels_sha256": pixel_digest(frame)}
            )
            lr_size = list(frame.shape[:2])
            if on_frame:
                on_frame()
        record = {
            "clip": clip,
            "frames": frames,
            "gt_size": list(gt.size),
            "lr_size": lr_size,
            "gt_digest": gt.digest(),
        }
        _write_json(tmp / CLIP_RECORD, record)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return record


def prepare(
    dataset: ManifestDataset,
    degradation: str = "realbasicvsr",
    seed: int = 0,
    force: bool = False,
    video_codecs: tuple[str, ...] | None = None,
    progress: bool = True,
) -> Path:
    """Make the seeded LR set for every clip of ``dataset``; return its folder."""
    from tqdm import tqdm

    from mgld_bench.datasets.manifest import manifest_digest
    from mgld_bench.degrade.pipeline import get_degradation

    if not dataset.manifest.has_gt:
        raise BenchError(f"{dataset.name} has no GT frames to degrade; prepare works on reds4, udm10 and spmcs")
    deg = get_degradation(degradation, video_codecs)
    root = dataset.root
    final = prepared_dir(root, dataset.manifest_name, degradation, seed)
    if (final / PREPARED_MANIFEST).is_file() and not force:
        return final
    partial = final.with_name(final.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    clips = dataset.clip_names()
    total = sum(dataset.manifest.clip(c).frames or 0 for c in clips) or None
    bar = tqdm(total=total, desc=f"prepare {dataset.manifest_name}", unit="frame", disable=not progress or None)
    records = {}
    started = time.time()
    for clip in clips:
        records[clip] = prepare_clip(dataset, clip, partial, degradation, seed, video_codecs, lambda: bar.update(1))
    bar.close()
    manifest = {
        "format": 1,
        "dataset": dataset.manifest_name,
        "manifest_version": dataset.manifest.version,
        "manifest_sha256": manifest_digest(dataset.manifest_name),
        "degradation": deg.describe(),
        "seed": seed,
        "scale": dataset.manifest.scale,
        "libraries": library_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "seconds": round(time.time() - started, 3),
        "clips": records,
    }
    _write_json(partial / PREPARED_MANIFEST, manifest)
    if final.exists():
        shutil.rmtree(final)
    os.replace(partial, final)
    return final
