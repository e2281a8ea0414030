"""``video:PATH`` -- one video file (mp4/avi/mov/...) as an LR clip, keeping its frame rate.

``gt`` optionally names a GT video or folder of GT frames with the same frame count.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from mgld_bench.datasets.base import Dataset
from mgld_bench.datasets.sources import open_frames
from mgld_bench.datasets.videofile import VideoFrames
from mgld_bench.errors import BenchError, FrameError
from mgld_bench.frames import Clip


class VideoDataset(Dataset):
    """One video file decoded lazily with PyAV; the clip is named after the file."""

    name = "video"
    version = 1
    summary = "your own video: video:PATH (mp4/avi/mov; fps kept); --set video.gt=PATH for GT"
    has_gt: ClassVar[bool] = False
    defaults: ClassVar[dict[str, Any]] = {"path": "", "gt": "", "scale": 4}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if not self.options["path"]:
            raise BenchError("video: give the video file, e.g. --datasets video:/data/clip.mp4")
        self.path = Path(self.options["path"]).expanduser()
        self.gt_path = Path(self.options["gt"]).expanduser() if self.options["gt"] else None
        if int(self.options["scale"]) < 1:
            raise BenchError(f"video: scale must be a positive integer, got {self.options['scale']}")
        self.has_gt = self.gt_path is not None  # type: ignore[misc]
        self.scale = int(self.options["scale"])  # type: ignore[misc]

    def clip_names(self) -> list[str]:
        if not self.path.is_file():
            raise FrameError(f"video: {self.path} does not exist or is not a file")
        return [self.path.stem]

    def load_clip(self, name: str) -> Clip:
        lr = VideoFrames(self.path, f"video:{self.path}")
        gt = None
        if self.gt_path is not None:
            gt = open_frames(self.gt_path, f"video:{self.path} (GT {self.gt_path})")
        return Clip(dataset=self.name, name=name, lr=lr, gt=gt, fps=lr.fps, scale=self.scale)
