"""``folder:PATH`` -- any folder of frames, with an optional folder of GT frames.

``PATH`` is either one clip (a folder of images) or a folder of clips (one sub-folder of images
per clip).  ``gt`` names the matching GT folder (same structure, same frame count); without it
the dataset is LR-only and only no-reference metrics run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from mgld_bench.datasets.base import Dataset
from mgld_bench.datasets.layout import open_clip_folder
from mgld_bench.errors import BenchError, FrameError
from mgld_bench.frames import IMAGE_SUFFIXES, Clip


def _has_images(folder: Path) -> bool:
    return any(p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir())


class FolderDataset(Dataset):
    """Frames in a folder (one clip) or a folder of clip folders; GT optional."""

    name = "folder"
    version = 1
    summary = "your own frames: folder:PATH (one clip, or one sub-folder per clip); --set folder.gt=DIR"
    has_gt: ClassVar[bool] = False
    defaults: ClassVar[dict[str, Any]] = {"path": "", "gt": "", "scale": 4, "fps": 0.0}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if not self.options["path"]:
            raise BenchError("folder: give the frame folder, e.g. --datasets folder:/data/my_clips")
        self.path = Path(self.options["path"]).expanduser().resolve()
        self.gt_path = Path(self.options["gt"]).expanduser() if self.options["gt"] else None
        if int(self.options["scale"]) < 1:
            raise BenchError(f"folder: scale must be a positive integer, got {self.options['scale']}")
        # Instance attributes shadow the class defaults: GT presence depends on the options.
        self.has_gt = self.gt_path is not None  # type: ignore[misc]
        self.scale = int(self.options["scale"])  # type: ignore[misc]

    def _single_clip(self) -> bool:
        if not self.path.is_dir():
            raise FrameError(f"folder: {self.path} does not exist or is not a folder")
        return _has_images(self.path)

    def clip_names(self) -> list[str]:
        if self._single_clip():
            return [self.path.name]
        names = sorted(p.name for p in self.path.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not names:
            raise FrameError(
                f"folder: {self.path} holds neither frames ({', '.join(IMAGE_SUFFIXES)}) nor clip sub-folders"
            )
        return names

    def _clip_dir(self, base: Path, name: str) -> Path:
        return base if self._single_clip() else base / name

    def load_clip(self, name: str) -> Clip:
        lr = open_clip_folder(self._clip_dir(self.path, name), f"folder:{self.path} clip {name} (LR)")
        gt = None
        if self.gt_path is not None:
            gt_dir = self.gt_path if self._single_clip() else self.gt_path / name
            gt = open_clip_folder(gt_dir, f"folder:{self.path} clip {name} (GT)", expected_frames=len(lr))
        fps = float(self.options["fps"]) or None
        return Clip(dataset=self.name, name=name, lr=lr, gt=gt, fps=fps, scale=self.scale)

    def availability(self) -> tuple[bool, str]:
        if not self.path.is_dir():
            return False, f"folder {self.path} does not exist"
        return super().availability()
