"""The dataset interface."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from mgld_bench.errors import BenchError, UnknownNameError
from mgld_bench.frames import Clip
from mgld_bench.options import Configurable


class Dataset(Configurable):
    """A named set of clips.

    Subclasses set ``name``, ``has_gt`` and ``scale`` and implement :meth:`clip_names` and
    :meth:`load_clip`.  ``root`` is the folder the data lives in (``--data-root``); datasets
    that need no files (``synthetic``) ignore it.
    """

    has_gt: ClassVar[bool] = True
    scale: ClassVar[int] = 4
    #: The protocol this dataset is usually scored with (a name from mgld_bench.protocol).
    default_protocol: ClassVar[str] = "default"

    #: Options that say where the data is, not what it is: they never enter the label.
    location_options: ClassVar[tuple[str, ...]] = ("root", "path", "gt")

    @property
    def label(self) -> str:
        """The name results are filed under: the dataset name, the folder of ``NAME:PATH``
        datasets, and every option that differs from its default (``reds4[seed=1]``), so that
        two variants of one dataset never overwrite each other's rows.  A run may set
        ``label_override`` (another folder of the same name already in its store)."""
        override = getattr(self, "label_override", None)
        if override:
            return str(override)
        base = self.name
        if self.options.get("path"):
            base = f"{self.name}:{Path(str(self.options['path'])).name}"
        changed = [
            f"{k}={v}"
            for k, v in sorted(self.options.items())
            if k not in self.location_options and v != self.defaults.get(k)
        ]
        return f"{base}[{','.join(changed)}]" if changed else base

    def clip_names(self) -> list[str]:
        raise NotImplementedError

    def load_clip(self, name: str) -> Clip:
        raise NotImplementedError

    def clip(self, name: str) -> Clip:
        """The clip called ``name``; raise listing the valid clips when unknown."""
        names = self.clip_names()
        if name not in names:
            raise UnknownNameError(f"dataset {self.name!r} has no clip {name!r}; its clips are: {', '.join(names)}")
        clip = self.load_clip(name)
        clip.validate()
        return clip

    def clips(self, only: list[str] | None = None) -> Iterator[Clip]:
        """Every clip (or the named subset), loaded lazily one at a time."""
        for name in only or self.clip_names():
            yield self.clip(name)

    def availability(self) -> tuple[bool, str]:
        """(True, "") when the data is on disk; else (False, what is missing and how to get it)."""
        try:
            self.clip_names()
        except BenchError as exc:
            return False, str(exc)
        return True, ""

    def describe(self) -> dict[str, Any]:
        return {"has_gt": self.has_gt, "scale": self.scale, "protocol": self.default_protocol}
