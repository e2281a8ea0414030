"""Frames and clips: the data model everything else passes around.

A clip is an ordered sequence of uint8 RGB frames (H x W x 3).  Frames are read lazily, one at
a time, so a 100-frame 720p clip never has to sit in memory whole.  Every sequence can give a
content digest, which the cache uses as part of its keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError, FrameError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def read_image(path: Path) -> np.ndarray:
    """Read one image file as uint8 RGB (H, W, 3); raise :class:`FrameError` naming the file."""
    import cv2

    from mgld_bench.imagecheck import check_pixels

    data = np.fromfile(str(path), dtype=np.uint8) if Path(path).is_file() else None
    if data is None:
        raise FrameError(f"frame file {path} does not exist")
    check_pixels(data.tobytes(), path)  # from the header, before decoding
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise FrameError(f"cannot read frame {path}: not a readable image (corrupt or truncated?)")
    if img.dtype != np.uint8:
        raise FrameError(f"frame {path} has dtype {img.dtype}; only 8-bit images are supported")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    else:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(img)


def encode_png(frame: np.ndarray) -> bytes:
    """Encode a uint8 RGB frame as PNG bytes (lossless, deterministic)."""
    import cv2

    check_frame(frame, "frame to encode")
    ok, buf = cv2.imencode(".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise BenchError("PNG encoding failed")
    return buf.tobytes()


def write_image(path: Path, frame: np.ndarray) -> None:
    """Write a uint8 RGB frame; the format follows the suffix."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(path.suffix or ".png", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    if not ok:
        raise BenchError(f"cannot encode {path}")
    buf.tofile(str(path))


def check_frame(frame: Any, what: str) -> np.ndarray:
    """Check that ``frame`` is a uint8 H x W x 3 array; raise naming ``what`` otherwise."""
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[2] != 3:
        shape = getattr(frame, "shape", type(frame).__name__)
        raise FrameError(f"{what}: expected a uint8 H x W x 3 RGB array, got {shape}")
    if frame.dtype != np.uint8:
        raise FrameError(f"{what}: expected dtype uint8, got {frame.dtype}")
    return frame


def list_frame_files(folder: Path) -> list[Path]:
    """Image files of a folder in natural (numeric-aware) order; raise if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FrameError(f"frame folder {folder} does not exist")
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise FrameError(
            f"frame folder {folder} holds no image files ({', '.join(IMAGE_SUFFIXES)})"
        )
    return sorted(files, key=_natural_key)


def _natural_key(path: Path) -> list[Any]:
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


class FrameSequence(Sequence[np.ndarray]):
    """An ordered, lazily read sequence of uint8 RGB frames.

    Subclasses implement :meth:`_read` and :meth:`_compute_digest`; ``ids`` names each frame
    (a file stem, or a zero-padded index).
    """

    def __init__(self, ids: Sequence[str], label: str) -> None:
        self.ids = list(ids)
        self.label = label
        self._digest: str | None = None
        self._size: tuple[int, int] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> np.ndarray:  # type: ignore[override]
        if not isinstance(index, int | np.integer):
            raise TypeError("frame sequences are indexed by int")
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"frame {index} out of range for {self.label} ({n} frames)")
        frame = check_frame(self._read(int(index)), f"{self.label}, frame {self.ids[index]}")
        if self._size is None:
            self._size = frame.shape[:2]
        return frame

    def __iter__(self) -> Iterator[np.ndarray]:
        for i in range(len(self)):
            yield self[i]

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the frames: the first frame's, from its file header when the sequence has
        one (nothing decoded), else from the decoded frame."""
        if self._size is None:
            self._size = self._header_size(0) if len(self) else None
        if self._size is None:
            self._size = self[0].shape[:2]
        return self._size

    def _header_size(self, index: int) -> tuple[int, int] | None:
        """(H, W) of frame ``index`` without decoding it, or None when only decoding tells."""
        return None

    def digest(self) -> str:
        """A sha256 hex digest of the sequence's content (cached)."""
        if self._digest is None:
            self._digest = self._compute_digest()
        return self._digest

    def _read(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def _compute_digest(self) -> str:
        h = hashlib.sha256()
        for frame in self:
            h.update(f"{frame.shape}".encode())
            h.update(frame.tobytes())
        return h.hexdigest()


class FolderFrames(FrameSequence):
    """Frames stored as image files in a folder (or given as an explicit file list)."""

    def __init__(self, files: Sequence[Path], label: str | None = None) -> None:
        self.files = [Path(f) for f in files]
        if not self.files:
            raise FrameError(f"{label or 'frame list'}: no frames")
        super().__init__([f.stem for f in self.files], label or str(self.files[0].parent))

    @classmethod
    def from_folder(cls, folder: Path, label: str | None = None) -> FolderFrames:
        return cls(list_frame_files(folder), label or str(folder))

    def _read(self, index: int) -> np.ndarray:
        return read_image(self.files[index])

    def _header_size(self, index: int) -> tuple[int, int] | None:
        from mgld_bench.imagecheck import header_size

        size = header_size(self.files[index]) if self.files[index].is_file() else None
        return (size[1], size[0]) if size is not None else None

    def _compute_digest(self) -> str:
        from mgld_bench.fileio import file_sha256

        h = hashlib.sha256(b"files-v1")
        for f in self.files:
            if not f.is_file():
                raise FrameError(f"{self.label}: frame file {f} does not exist")
            h.update(file_sha256(f).encode())
        return h.hexdigest()


class SliceFrames(FrameSequence):
    """Frames ``[start, stop)`` of another sequence, read through it."""

    def __init__(self, base: FrameSequence, start: int, stop: int) -> None:
        self.base = base
        self.start = start
        super().__init__(base.ids[start:stop], f"{base.label}[{start}:{stop}]")

    def _read(self, index: int) -> np.ndarray:
        return self.base[self.start + index]

    def _header_size(self, index: int) -> tuple[int, int] | None:
        return self.base._header_size(self.start + index)

    def _compute_digest(self) -> str:
        return hashlib.sha256(f"slice-v1:{self.base.digest()}:{self.start}:{len(self)}".encode()).hexdigest()


class SelectFrames(FrameSequence):
    """The frames of another sequence at ``indices`` (ascending), read through it; frame ids
    stay those of the base sequence (a sub-range keeps the original frame names)."""

    def __init__(self, base: FrameSequence, indices: Sequence[int], label: str | None = None) -> None:
        self.base = base
        self.indices = [int(i) for i in indices]
        super().__init__([base.ids[i] for i in self.indices], label or f"{base.label} (frames selected)")

    def _read(self, index: int) -> np.ndarray:
        return self.base[self.indices[index]]

    def _header_size(self, index: int) -> tuple[int, int] | None:
        return self.base._header_size(self.indices[index])

    def _compute_digest(self) -> str:
        h = hashlib.sha256(f"select-v1:{self.base.digest()}:".encode())
        h.update(",".join(map(str, self.indices)).encode())
        return h.hexdigest()


class ArrayFrames(FrameSequence):
    """Frames held in memory (tests, small synthetic clips)."""

    def __init__(self, frames: Sequence[np.ndarray], label: str = "frames") -> None:
        self.frames = list(frames)
        super().__init__([f"{i:08d}" for i in range(len(self.frames))], label)

    def _read(self, index: int) -> np.ndarray:
        return self.frames[index]


class GeneratedFrames(FrameSequence):
    """Frames computed on demand by ``make(index)``; ``key`` identifies the generator exactly."""

    def __init__(self, count: int, make: Callable[[int], np.ndarray], key: str, label: str) -> None:
        self._make = make
        self._key = key
        super().__init__([f"{i:08d}" for i in range(count)], label)

    def _read(self, index: int) -> np.ndarray:
        return self._make(index)

    def _compute_digest(self) -> str:
        return hashlib.sha256(f"generated-v1:{self._key}".encode()).hexdigest()


@dataclass
class Clip:
    """One video clip: LR input frames, optional GT frames, and what is known about them."""

    dataset: str
    name: str
    lr: FrameSequence
    gt: FrameSequence | None = None
    fps: float | None = None
    scale: int = 4
    extras: dict[str, Any] = field(default_factory=dict)
    #: The indices of the loaded clip's frames this clip holds, when a dataset ``range`` selected
    #: some (``None``: all of them), and how many frames the loaded clip had.  A method whose
    #: outputs were made elsewhere for the whole clip (``precomputed``) picks the same frames.
    source_frames: tuple[int, ...] | None = None
    source_count: int | None = None

    @property
    def label(self) -> str:
        return f"{self.dataset}/{self.name}"

    def expected_sr_size(self) -> tuple[int, int]:
        """The (H, W) a method's output must have: the GT size, else scale x LR."""
        if self.gt is not None:
            return self.gt.size
        h, w = self.lr.size
        return h * self.scale, w * self.scale

    def chunk(self, start: int, stop: int) -> Clip:
        """The clip of frames ``[start, stop)`` (same name; ``extras`` are not carried over,
        since they are indexed by frame of the whole clip)."""
        gt = SliceFrames(self.gt, start, stop) if self.gt is not None else None
        return Clip(self.dataset, self.name, SliceFrames(self.lr, start, stop), gt, self.fps, self.scale)

    def validate(self) -> None:
        """Check that LR and GT agree in frame count; raise naming the clip otherwise."""
        if self.gt is not None and len(self.gt) != len(self.lr):
            raise FrameError(
                f"clip {self.label}: {len(self.lr)} LR frames but {len(self.gt)} GT frames; "
                "both folders must hold the same frames"
            )


# -- frames to tensors on a device ----------------------------------------------------------
_UNIT_LUTS: dict[str, Any] = {}


def unit_lut(device: Any) -> Any:
    """The 256 float32 values ``v / 255`` computed on the CPU (the CPU path's own expression),
    copied to ``device``: looking them up gives the CPU conversion bit for bit on any device."""
    import torch

    key = str(device)
    if key not in _UNIT_LUTS:
        _UNIT_LUTS[key] = (torch.arange(256, dtype=torch.uint8).float() / 255.0).to(device)
    return _UNIT_LUTS[key]


def uint8_to_unit(t: Any) -> Any:
    """uint8 (N, H, W, 3) tensor on any device -> float32 (N, 3, H, W) in [0, 1] on the same
    device, equal bit for bit to ``t.cpu().float() / 255`` (a table lookup, no division there)."""
    import torch

    u = t.permute(0, 3, 1, 2).contiguous()  # uint8: a quarter of the float copy's bytes
    return unit_lut(t.device).index_select(0, u.reshape(-1).to(torch.int32)).reshape(u.shape)
