"""Frames decoded lazily from a video file (mp4, avi, mov, mkv, ...) with PyAV.

Frames are decoded in order as they are asked for; asking for an earlier frame reopens the
file.  Only one decoded frame is held at a time, so a long 720p video never sits in memory.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import FrameError
from mgld_bench.frames import FrameSequence

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv")


def _open(path: Path, label: str) -> Any:
    import av

    if not path.is_file():
        raise FrameError(f"{label}: video file {path} does not exist")
    try:
        container = av.open(str(path))
    except Exception as exc:  # PyAV raises several error types for unreadable files
        raise FrameError(
            f"{label}: cannot open video {path}: {exc}. Expected a video file PyAV/FFmpeg can read"
        ) from None
    if not container.streams.video:
        container.close()
        raise FrameError(f"{label}: {path} holds no video stream")
    return container


def probe_video(path: Path, label: str) -> tuple[int, float | None]:
    """(frame count, fps) of a video file; frames are counted by demuxing when the header has no count."""
    container = _open(path, label)
    try:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(Fraction(rate)) if rate else None
        count = 0
        try:
            for packet in container.demux(stream):
                if packet.size:
                    count += 1
        except Exception as exc:
            raise FrameError(f"{label}: video {path} is unreadable after {count} frames: {exc}") from None
        if count == 0:
            count = int(stream.frames or 0)
    finally:
        container.close()
    if count == 0:
        raise FrameError(f"{label}: video {path} holds no frames")
    return count, fps


class VideoFrames(FrameSequence):
    """A video file's frames as uint8 RGB, decoded on demand."""

    def __init__(self, path: Path, label: str | None = None) -> None:
        self.path = Path(path)
        label = label or str(self.path)
        count, self.fps = probe_video(self.path, label)
        super().__init__([f"{i:08d}" for i in range(count)], label)
        self._container: Any = None
        self._frames: Any = None
        self._next = 0

    def _restart(self) -> None:
        self.close()
        self._container = _open(self.path, self.label)
        self._frames = self._container.decode(video=0)
        self._next = 0

    def _read(self, index: int) -> np.ndarray:
        if self._frames is None or index < self._next:
            self._restart()
        frame = None
        try:
            while self._next <= index:
                frame = next(self._frames)
                self._next += 1
        except StopIteration:
            self.close()
            raise FrameError(
                f"{self.label}: video {self.path} ended after {self._next} decoded frames, "
                f"but its container lists {len(self)}"
            ) from None
        except Exception as exc:
            self.close()
            raise FrameError(f"{self.label}: cannot decode frame {index} of {self.path}: {exc}") from None
        return np.ascontiguousarray(frame.to_ndarray(format="rgb24"))

    def close(self) -> None:
        """Release the decoder (it is reopened when a frame is next asked for)."""
        if self._container is not None:
            self._container.close()
        self._container = None
        self._frames = None
        self._next = 0

    def _compute_digest(self) -> str:
        from mgld_bench.fileio import file_sha256

        return hashlib.sha256(f"video-v1:{file_sha256(self.path)}".encode()).hexdigest()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass
