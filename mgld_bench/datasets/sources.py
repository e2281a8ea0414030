"""Opening a frame source given by path: a folder of frames or a video file."""

from __future__ import annotations

from pathlib import Path

from mgld_bench.datasets.layout import open_clip_folder
from mgld_bench.datasets.videofile import VIDEO_SUFFIXES, VideoFrames
from mgld_bench.errors import FrameError
from mgld_bench.frames import FrameSequence


def open_frames(path: Path, label: str) -> FrameSequence:
    """A lazily read frame sequence from a folder of images or a video file."""
    if path.is_dir():
        return open_clip_folder(path, label)
    if path.is_file():
        if path.suffix.lower() not in VIDEO_SUFFIXES:
            raise FrameError(
                f"{label}: {path} is neither a folder of frames nor a video file ({', '.join(VIDEO_SUFFIXES)})"
            )
        return VideoFrames(path, label)
    raise FrameError(f"{label}: {path} does not exist; expected a folder of frames or a video file")
