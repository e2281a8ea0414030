"""Method outputs kept in the cache: an inference manifest lists the PNG blobs of the SR frames.

Written by the runner's inference job; read by it (cache hits) and by reports (figures show
cached frames and never run a method).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.frames import FrameSequence
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
    if not manifest or manifest.get("format") != INFER_FORMAT:
        return None
    shas = manifest["frames"]
    if not all(cache.has_blob(s) for s in shas):
        return None
    return InferResult(key, CachedFrames(cache, shas, manifest["digest"], label or key), True, manifest)
