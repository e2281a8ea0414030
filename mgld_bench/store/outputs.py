"""Method outputs kept in the cache: an inference manifest lists the PNG blobs of the SR frames.

Written by the runner's inference job; read by it (cache hits) and by reports (figures show
cached frames and never run a method).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError, OutputMismatchError
from mgld_bench.frames import FrameSequence, check_frame, encode_png
from mgld_bench.store.cache import Cache

INFER_FORMAT = 1


class CachedFrames(FrameSequence):
    """SR frames stored in the cache as PNG blobs, decoded lazily."""

    def __init__(self, cache: Cache, shas: list[str], digest: str, label: str) -> None:
        self.cache = cache
        self.shas = shas
        super().__init__([f"{i:08d}" for i in range(len(shas))], label)
        self._digest = digest

    def _read(self, index: int) -> np.ndarray:
        import cv2

        data = np.frombuffer(self.cache.read_blob(self.shas[index]), dtype=np.uint8)
        img = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if img is None:
            raise BenchError(f"cache blob {self.shas[index]} is not a PNG; delete it and rerun")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def path(self, index: int) -> Path:
        return self.cache.blob_path(self.shas[index])


@dataclass
class InferResult:
    key: str
    frames: CachedFrames
    cached: bool
    manifest: dict[str, Any] = field(default_factory=dict)


def load_infer(cache: Cache, key: str, label: str = "") -> InferResult | None:
    """The cached output of an inference key, or None (also when a blob has gone missing)."""
    manifest = cache.get_json("infer", key)
    if not isinstance(manifest, dict) or manifest.get("format") != INFER_FORMAT:
        return None
    shas, digest = manifest.get("frames"), manifest.get("digest")
    if not (isinstance(shas, list) and all(isinstance(s, str) and len(s) == 64 for s in shas)
            and digest == hashlib.sha256("".join(shas).encode()).hexdigest()):
        return None  # a hand-edited or foreign entry counts as absent: recomputed and replaced
    if not all(cache.has_blob(s) for s in shas):
        return None
    return InferResult(key, CachedFrames(cache, shas, digest, label or key), True, manifest)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_rgb8_size(data: bytes) -> tuple[int, int] | None:
    """(H, W) of an 8-bit truecolour (RGB) PNG from its IHDR chunk, else None (no decoding).

    A file that does not end with the IEND chunk (truncated) also gives None."""
    if len(data) < 45 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    if not data.endswith(b"IEND\xaeB`\x82"):
        return None
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    bit_depth, colour_type = data[24], data[25]
    return (height, width) if bit_depth == 8 and colour_type == 2 else None


def save_infer_files(
    cache: Cache, key: str, files: list[Path], count: int, size: tuple[int, int], label: str,
    manifest: dict[str, Any],
) -> InferResult:
    """:func:`save_infer` for outputs that already are image files: an 8-bit RGB PNG of the
    right size is stored byte for byte (hashed and copied, not decoded: its pixels are what
    decoding it gives); any other file is decoded, checked and stored as PNG."""
    from mgld_bench.frames import read_image

    if len(files) != count:
        raise OutputMismatchError(
            f"{label}: the method produced {len(files)} frames but the clip has {count} LR frames"
        )

    def frames() -> Iterable[np.ndarray | bytes]:
        for path in files:
            data = path.read_bytes()
            yield data if png_rgb8_size(data) == size else read_image(path)

    return save_infer(cache, key, frames(), count, size, label, manifest)


def save_infer(
    cache: Cache, key: str, frames: Iterable[np.ndarray | bytes], count: int, size: tuple[int, int], label: str,
    manifest: dict[str, Any],
) -> InferResult:
    """Store a method's output under ``key``: exactly ``count`` uint8 RGB frames of ``size``
    (H, W), each checked as it arrives (``bytes`` items are PNG files already checked by
    :func:`save_infer_files`, stored as they are).  Frames are staged aside and committed together, and the
    manifest is written last (atomically), so a failure at any frame leaves nothing in the cache.
    """
    with cache.staged_blobs() as stage:
        for i, frame in enumerate(frames):
            if isinstance(frame, bytes):
                if i >= count:
                    raise OutputMismatchError(f"{label}: the method produced more than the clip's {count} frames")
                stage.put(frame)
                continue
            check_frame(frame, f"{label}: output frame {i}")
            if frame.shape[:2] != size:
                raise OutputMismatchError(
                    f"{label}: output frame {i} is {frame.shape[1]}x{frame.shape[0]} but the clip "
                    f"needs {size[1]}x{size[0]} (the GT size, or scale x LR)"
                )
            if i >= count:
                raise OutputMismatchError(f"{label}: the method produced more than the clip's {count} frames")
            data = encode_png(frame)
            stage.put(data)
        if len(stage.shas) != count:
            raise OutputMismatchError(
                f"{label}: the method produced {len(stage.shas)} frames but the clip has {count} LR frames"
            )
        shas = stage.commit()
    digest = hashlib.sha256("".join(shas).encode()).hexdigest()
    manifest = {"format": INFER_FORMAT, "frames": shas, "digest": digest, "size": list(size), **manifest}
    cache.put_json("infer", key, manifest)
    return InferResult(key, CachedFrames(cache, shas, digest, label), False, manifest)
