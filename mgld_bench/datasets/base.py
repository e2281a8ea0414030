"""The dataset interface."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from mgld_bench.errors import BenchError, UnknownNameError
from mgld_bench.frames import Clip, SelectFrames
from mgld_bench.options import Configurable

#: Options every dataset has (added to each subclass's ``defaults``): ``range`` selects frames.
COMMON_DEFAULTS: dict[str, Any] = {"range": ""}


def parse_range(text: Any, dataset: str) -> slice | None:
    """``"START:STOP"`` or ``"START:STOP:STEP"`` (Python slice semantics; each part may be
    empty, START/STOP may be negative) -> a slice; ``""`` -> None.  Raise naming ``dataset``."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):  # YAML reads an unquoted 1:30 as the number 90
        raise BenchError(
            f"dataset {dataset}: range must be text START:STOP[:STEP], got {text!r}; quote it in YAML "
            "(range: \"0:100:2\")"
        )
    parts = text.replace(" ", "").split(":")
    if len(parts) not in (2, 3):
        raise BenchError(
            f"dataset {dataset}: range {text!r} is not START:STOP or START:STOP:STEP (e.g. 0:100:2)"
        )
    try:
        start, stop, step = (int(p) if p else None for p in [*parts, "", ""][:3])
    except ValueError:
        raise BenchError(f"dataset {dataset}: range {text!r}: START, STOP and STEP must be integers") from None
    if step is not None and step <= 0:
        raise BenchError(f"dataset {dataset}: range {text!r}: STEP must be a positive integer")
    return slice(start, stop, step)


def range_indices(sel: slice, count: int, what: str, text: str) -> list[int]:
    """The frame indices ``sel`` picks from ``count`` frames; an empty selection or a START/STOP
    past the clip's end is an error naming ``what`` (the dataset and clip)."""
    for bound in (sel.start, sel.stop):
        if bound is not None and not -count <= bound <= count:
            raise BenchError(
                f"{what}: range {text} reaches past the clip's {count} frames (valid indices 0..{count - 1})"
            )
    if sel.start is not None and sel.start >= count:
        raise BenchError(f"{what}: range {text} starts at frame {sel.start} but the clip has {count} frames")
    indices = list(range(count))[sel]
    if not indices:
        raise BenchError(f"{what}: range {text} selects no frames of the clip's {count}")
    return indices


class Dataset(Configurable):
    """A named set of clips.

    Subclasses set ``name``, ``has_gt`` and ``scale`` and implement :meth:`clip_names` and
    :meth:`load_clip`.  ``root`` is the folder the data lives in (``--data-root``); datasets
    that need no files (``synthetic``) ignore it.
    """

    defaults: ClassVar[dict[str, Any]] = dict(COMMON_DEFAULTS)
    has_gt: ClassVar[bool] = True
    scale: ClassVar[int] = 4
    #: The protocol this dataset is usually scored with (a name from mgld_bench.protocol).
    default_protocol: ClassVar[str] = "default"

    #: Options that say where the data is, not what it is: they never enter the label.
    location_options: ClassVar[tuple[str, ...]] = ("root", "path", "gt")
    path_options: ClassVar[tuple[str, ...]] = ("root", "path", "gt")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # every dataset has the common options (``range``), declared here once
        cls.defaults = {**COMMON_DEFAULTS, **cls.defaults}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.frame_range = parse_range(self.options.get("range", ""), self.name)

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
        return self._select(clip) if self.frame_range is not None else clip

    def _select(self, clip: Clip) -> Clip:
        """``clip`` reduced to the frames of the ``range`` option (LR and GT alike)."""
        assert self.frame_range is not None
        text = str(self.options["range"])
        indices = range_indices(self.frame_range, len(clip.lr), f"dataset {self.label}, clip {clip.name}", text)
        step = self.frame_range.step or 1
        extras: dict[str, Any] = {}
        if step == 1:  # per-frame extras (true flows t -> t+1) stay valid, re-indexed
            first = indices[0]
            extras = {k: (lambda t, f=f: f(first + t)) if callable(f) else f for k, f in clip.extras.items()}
        where = f"[{text}]"
        return Clip(
            dataset=clip.dataset, name=clip.name,
            lr=SelectFrames(clip.lr, indices, f"{clip.lr.label}{where}"),
            gt=SelectFrames(clip.gt, indices, f"{clip.gt.label}{where}") if clip.gt is not None else None,
            fps=clip.fps / step if clip.fps else clip.fps, scale=clip.scale, extras=extras,
            source_frames=tuple(indices), source_count=len(clip.lr),
        )

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
