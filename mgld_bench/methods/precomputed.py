"""Outputs produced elsewhere: a folder of SR frames per clip.

This is how most VSR comparisons are made from released results.  ``path`` is a folder holding
one sub-folder per clip (``PATH/<clip>/``) or per dataset and clip (``PATH/<dataset>/<clip>/``).
The frames' content is part of the cache key, so replacing a file is noticed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mgld_bench.errors import BenchError, FrameError
from mgld_bench.frames import Clip, FolderFrames
from mgld_bench.methods.base import Method, RunContext


class Precomputed(Method):
    """Read SR frames from ``PATH/<clip>/`` (or ``PATH/<dataset>/<clip>/``)."""

    name = "precomputed"
    version = 1
    summary = "SR frames produced elsewhere, one folder per clip (use precomputed:PATH)"
    defaults: ClassVar[dict[str, Any]] = {"path": "", "label": ""}
    path_options: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if not self.options["path"]:
            raise BenchError("precomputed: give the folder of outputs, e.g. --methods precomputed:/data/mgld_outputs")
        self.root = Path(self.options["path"]).expanduser()

    @property
    def label(self) -> str:
        return str(self.options["label"] or f"precomputed:{self.root.name}")

    def availability(self) -> tuple[bool, str]:
        if not self.root.is_dir():
            return False, f"folder {self.root} does not exist"
        return True, ""

    def identity(self) -> dict[str, Any]:
        ident = super().identity()
        ident["options"] = {k: v for k, v in ident["options"].items() if k != "label"}
        return ident

    def clip_folder(self, clip: Clip) -> Path:
        for candidate in (self.root / clip.name, self.root / clip.dataset / clip.name):
            if candidate.is_dir():
                return candidate
        raise FrameError(
            f"precomputed outputs for clip {clip.label} not found: expected a folder "
            f"{self.root / clip.name} or {self.root / clip.dataset / clip.name}"
        )

    def frames(self, clip: Clip) -> FolderFrames:
        """The output frames of ``clip``.  When the dataset selected a frame ``range`` and the
        folder holds outputs for the whole clip, the same frames are picked from it."""
        folder = self.clip_folder(clip)
        frames = FolderFrames.from_folder(folder, f"precomputed outputs {folder}")
        if clip.source_frames is not None and len(frames.files) == clip.source_count != len(clip.lr):
            return FolderFrames([frames.files[i] for i in clip.source_frames], frames.label)
        return frames

    def frame_files(self, clip: Clip) -> list[Path]:
        return list(self.frames(clip).files)

    def extra_key(self, clip: Clip) -> str | None:
        return self.frames(clip).digest()

    def run(self, clip: Clip, ctx: RunContext) -> Iterator[np.ndarray]:
        yield from self.frames(clip)
