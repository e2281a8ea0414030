"""Finding and checking frame folders on disk.

Shared by every dataset read from files: where the data root is, which of several known
layouts a folder follows, and a frame sequence that checks each frame's size as it is read, so
a clip with mixed frame sizes fails naming the file instead of deep inside a method.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mgld_bench.errors import BenchError, FrameError
from mgld_bench.frames import IMAGE_SUFFIXES, FolderFrames, _natural_key

#: Environment variable naming the default data root (``--data-root`` wins over it).
DATA_ROOT_ENV = "MGLD_BENCH_DATA"

#: Files that may sit in a frame folder without being frames.
IGNORED_FILES = frozenset({"thumbs.db", "desktop.ini"})


def resolve_root(option: str | None, dataset: str) -> Path:
    """The data root from the ``root`` option, else ``$MGLD_BENCH_DATA``; raise when neither is set."""
    value = option or os.environ.get(DATA_ROOT_ENV, "")
    if not value:
        raise BenchError(
            f"dataset {dataset!r} is read from disk: give its folder with --data-root DIR "
            f"(or set {DATA_ROOT_ENV}); see docs/datasets.md for the expected layout"
        )
    return Path(value).expanduser()


def find_dir(root: Path, candidates: Sequence[str], what: str) -> Path:
    """The first of ``root/candidate`` that exists; raise listing every place looked at."""
    for cand in candidates:
        path = root / cand
        if path.is_dir():
            return path
    looked = ", ".join(str(root / c) for c in candidates)
    raise BenchError(f"{what} not found; looked for a folder at: {looked}")


def frame_files(folder: Path, label: str) -> list[Path]:
    """The image files of a clip folder in natural order.

    Raise naming the folder when it is missing or empty, and naming the file when the folder
    holds anything that is not an image (other than hidden files and OS thumbnails).
    """
    if not folder.is_dir():
        raise FrameError(f"{label}: clip folder {folder} does not exist")
    files: list[Path] = []
    for p in folder.iterdir():
        if p.name.startswith(".") or p.name.lower() in IGNORED_FILES:
            continue
        if p.is_dir():
            raise FrameError(
                f"{label}: {p} is a folder inside a clip folder; expected only frame images "
                f"({', '.join(IMAGE_SUFFIXES)})"
            )
        if p.suffix.lower() not in IMAGE_SUFFIXES:
            raise FrameError(
                f"{label}: {p} is not an image file; a clip folder must hold only frames "
                f"({', '.join(IMAGE_SUFFIXES)}); move it elsewhere"
            )
        files.append(p)
    if not files:
        raise FrameError(f"{label}: clip folder {folder} holds no frames ({', '.join(IMAGE_SUFFIXES)})")
    return sorted(files, key=_natural_key)


def image_size(path: Path) -> tuple[int, int]:
    """(H, W) of an image file read from its header only; raise naming the file if unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise FrameError(f"cannot read frame {path}: not a readable image ({exc})") from None
    return h, w


class CheckedFolderFrames(FolderFrames):
    """Folder frames that must all share one size (the first frame's, or ``expected_size``)."""

    def __init__(self, files: Sequence[Path], label: str, expected_size: tuple[int, int] | None = None) -> None:
        super().__init__(files, label)
        self.expected_size = tuple(expected_size) if expected_size else None

    def _read(self, index: int) -> np.ndarray:
        frame = super()._read(index)
        size = frame.shape[:2]
        if self.expected_size is None:
            self.expected_size = size
        elif size != self.expected_size:
            h, w = self.expected_size
            raise FrameError(
                f"{self.label}: frame {self.files[index]} is {size[1]}x{size[0]} but the clip's frames "
                f"are {w}x{h}; every frame of a clip must have the same size"
            )
        return frame


def open_clip_folder(
    folder: Path, label: str, expected_frames: int | None = None, expected_size: tuple[int, int] | None = None
) -> CheckedFolderFrames:
    """A lazily read, size-checked frame sequence for one clip folder.

    ``expected_frames`` (from a manifest) is checked now, so a wrong count fails before any work.
    """
    files = frame_files(folder, label)
    if expected_frames is not None and len(files) != expected_frames:
        raise FrameError(
            f"{label}: {folder} holds {len(files)} frames but {expected_frames} were expected; "
            f"run `mgld-bench data verify` to see what is missing"
        )
    return CheckedFolderFrames(files, label, expected_size)
