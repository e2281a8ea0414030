"""Datasets described by a shipped manifest: REDS4, VideoLQ, UDM10, SPMCS.

The GT frames are read from the first existing folder the manifest lists under ``--data-root``
(several layouts are in use).  The LR frames come from one of the manifest's official LR sets
(``lr=bicubic``, ``bi``, ``bd``, ``official``) or from a prepared synthetic set (``lr=prepared``,
made by ``mgld-bench data prepare`` with ``degradation`` and ``seed``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from mgld_bench.datasets.base import Dataset
from mgld_bench.datasets.layout import find_dir, open_clip_folder, resolve_root
from mgld_bench.datasets.manifest import Manifest, load_manifest
from mgld_bench.errors import BenchError, FrameError
from mgld_bench.frames import Clip

PREPARED = "prepared"


class ManifestDataset(Dataset):
    """A dataset whose clips, sizes and folders come from ``manifests/<manifest_name>.yaml``."""

    manifest_name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {"root": "", "lr": PREPARED, "degradation": "realbasicvsr", "seed": 0}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        m = self.manifest
        choices = [*m.lr, *([PREPARED] if m.has_gt else [])]
        if self.options["lr"] not in choices:
            raise BenchError(f"{self.name}: lr={self.options['lr']!r} is not one of {', '.join(choices)}")
        if self.options["lr"] == PREPARED:
            from mgld_bench.degrade.pipeline import get_degradation

            get_degradation(str(self.options["degradation"]))
        self.has_gt = m.has_gt  # type: ignore[misc]
        self.scale = m.scale  # type: ignore[misc]

    @property
    def manifest(self) -> Manifest:
        return load_manifest(self.manifest_name)

    @property
    def root(self) -> Path:
        return resolve_root(self.options["root"] or None, self.name)

    def gt_dir(self) -> Path:
        m = self.manifest
        assert m.gt is not None
        return find_dir(self.root, m.gt.dirs, f"{self.name}: the GT frames ({m.title})")

    def prepared_manifest(self) -> tuple[Path, dict[str, Any]]:
        """The prepared LR folder chosen by ``degradation``/``seed`` and its manifest."""
        from mgld_bench.datasets.prepared import prepared_dir, read_prepared_manifest

        seed = int(self.options["seed"])
        deg = str(self.options["degradation"])
        folder = prepared_dir(self.root, self.manifest_name, deg, seed)
        return folder, read_prepared_manifest(folder, self.manifest_name, self.root, seed, deg)

    def lr_dir(self) -> Path:
        lr = self.options["lr"]
        if lr == PREPARED:
            return self.prepared_manifest()[0]
        return find_dir(self.root, self.manifest.lr[lr].dirs, f"{self.name}: the {lr} LR frames")

    def _listing_dir(self) -> Path:
        return self.gt_dir() if self.manifest.gt is not None else self.lr_dir()

    def clip_names(self) -> list[str]:
        m = self.manifest
        if not m.discover:
            return m.clip_names()
        base = self._listing_dir()
        names = sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not names:
            raise FrameError(f"{self.name}: {base} holds no clip folders")
        return names

    def load_clip(self, name: str) -> Clip:
        info = self.manifest.clip(name)
        gt = None
        gt_size = info.size
        if self.manifest.gt is not None:
            gt = open_clip_folder(self.gt_dir() / name, f"{self.name} clip {name} (GT)", info.frames, info.size)
            gt_size = gt_size or gt.size
        lr_scale = self.scale if self.options["lr"] == PREPARED else self.manifest.lr[self.options["lr"]].scale
        lr_size = (gt_size[0] // lr_scale, gt_size[1] // lr_scale) if gt_size else None
        lr = open_clip_folder(
            self.lr_dir() / name,
            f"{self.name} clip {name} (LR, {self.options['lr']})",
            len(gt) if gt is not None else info.frames,
            lr_size,
        )
        if self.options["lr"] == PREPARED and gt is not None:
            self._check_prepared_source(name, gt.digest())
        return Clip(dataset=self.name, name=name, lr=lr, gt=gt, fps=None, scale=self.scale)

    def _check_prepared_source(self, clip: str, gt_digest: str) -> None:
        """Refuse a prepared clip made from other GT frames than those on disk now."""
        folder, data = self.prepared_manifest()
        record = data["clips"].get(clip)
        if record is None:
            raise BenchError(f"{self.name}: clip {clip} is not in the prepared set {folder}; run prepare with --force")
        if record.get("gt_digest") != gt_digest:
            raise BenchError(
                f"{self.name}: the GT frames of clip {clip} changed after the LR set {folder} was prepared; "
                f"run `mgld-bench data prepare {self.manifest_name} --root {self.root} --seed {self.options['seed']} "
                f"--degradation {self.options['degradation']} --force`"
            )

    def availability(self) -> tuple[bool, str]:
        """Whether the GT and the chosen LR folders are on disk (cheap: no frame is read)."""
        try:
            if not self.root.is_dir():
                return False, f"data root {self.root} does not exist"
            if self.manifest.gt is not None:
                self.gt_dir()
            self.lr_dir()
            self.clip_names()
        except BenchError as exc:
            return False, str(exc)
        return True, ""

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(
            {"manifest": self.manifest_name, "manifest_version": self.manifest.version, "lr": self.options["lr"]}
        )
        if self.options["lr"] == PREPARED:
            out.update({"degradation": self.options["degradation"], "seed": self.options["seed"]})
        return out
