"""Dataset manifests: what a standard dataset holds and where it comes from.

One YAML file per dataset ships inside the package (``mgld_bench/datasets/manifests/``, found
through :mod:`importlib.resources`, so a wheel install finds them too).  A manifest lists the
clips with their frame counts and sizes, the folders the GT and each official LR set may be
found in (several layouts are in use), the archives to download with their known locations,
and licence notes.  ``verify`` records checksums of what it finds next to the data
(``ROOT/.mgld-bench/``), never in the installed package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from mgld_bench.errors import BenchError, UnknownNameError


@dataclass(frozen=True)
class ClipInfo:
    """One clip of a manifest: its name, frame count and GT size (None where unknown)."""

    name: str
    frames: int | None = None
    size: tuple[int, int] | None = None  # (H, W) of the GT frames


@dataclass(frozen=True)
class FrameSet:
    """A set of frames (GT or one LR variant): candidate folders under the root and the frame size."""

    dirs: tuple[str, ...]
    size: tuple[int, int] | None = None  # (H, W), when every clip shares it
    scale: int = 1  # size divisor relative to the GT


@dataclass(frozen=True)
class Archive:
    """A downloadable archive and what to take from it."""

    file: str
    urls: tuple[str, ...] = ()
    size: int | None = None
    sha256: str | None = None
    #: Folder under the root to extract into.
    extract_to: str = "."
    #: fnmatch patterns of the members to extract (all when empty).
    members: tuple[str, ...] = ()
    #: The LR set this archive provides (``bicubic``, ``bi``, ...); empty for GT / everything.
    lr: str = ""
    note: str = ""


@dataclass(frozen=True)
class Manifest:
    """A parsed dataset manifest."""

    name: str
    version: int
    title: str
    has_gt: bool
    scale: int
    clips: tuple[ClipInfo, ...]
    gt: FrameSet | None
    lr: dict[str, FrameSet]
    archives: tuple[Archive, ...] = ()
    licence: str = ""
    homepage: str = ""
    manual_download: str = ""
    notes: str = ""
    #: True when the clip names are not listed and are read from the GT (or LR) folder.
    discover: bool = False
    #: Expected number of clips when they are discovered (None: unknown).
    clip_count: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def clip_names(self) -> list[str]:
        return [c.name for c in self.clips]

    def clip(self, name: str) -> ClipInfo:
        """What the manifest says about clip ``name`` (defaults when clips are discovered)."""
        for c in self.clips:
            if c.name == name:
                return c
        if self.discover:
            return ClipInfo(name, self.raw.get("frames"), _size(self.raw.get("size"), self.name))
        raise UnknownNameError(
            f"dataset {self.name!r} has no clip {name!r}; its clips are: {', '.join(self.clip_names())}"
        )


def _size(value: Any, where: str) -> tuple[int, int] | None:
    if value is None:
        return None
    if not (isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise BenchError(f"manifest {where}: size must be [H, W], got {value!r}")
    return int(value[0]), int(value[1])


def _frameset(value: dict[str, Any], where: str) -> FrameSet:
    dirs = value.get("dirs")
    if not dirs or not isinstance(dirs, list):
        raise BenchError(f"manifest {where}: 'dirs' must be a non-empty list of folders")
    return FrameSet(tuple(str(d) for d in dirs), _size(value.get("size"), where), int(value.get("scale", 1)))


def parse_manifest(data: dict[str, Any], source: str) -> Manifest:
    """Build a :class:`Manifest` from parsed YAML, raising naming ``source`` on a bad field."""
    try:
        clips = []
        discover = data["clips"] == "discover"
        for c in [] if discover else data["clips"]:
            if isinstance(c, dict):
                clips.append(
                    ClipInfo(str(c["name"]), c.get("frames"), _size(c.get("size"), f"{source} clip {c['name']}"))
                )
            else:
                clips.append(ClipInfo(str(c)))
        default_frames = data.get("frames")
        default_size = _size(data.get("size"), source)
        clips = [
            ClipInfo(c.name, c.frames if c.frames is not None else default_frames, c.size or default_size)
            for c in clips
        ]
        archives = tuple(
            Archive(
                file=str(a["file"]),
                urls=tuple(a.get("urls") or ()),
                size=a.get("size"),
                sha256=a.get("sha256"),
                extract_to=str(a.get("extract_to", ".")),
                members=tuple(a.get("members") or ()),
                lr=str(a.get("lr", "")),
                note=str(a.get("note", "")),
            )
            for a in data.get("archives") or ()
        )
        return Manifest(
            name=str(data["name"]),
            version=int(data["version"]),
            title=str(data.get("title", "")),
            has_gt=bool(data.get("has_gt", True)),
            scale=int(data.get("scale", 4)),
            clips=tuple(clips),
            gt=_frameset(data["gt"], f"{source} gt") if data.get("gt") else None,
            lr={k: _frameset(v, f"{source} lr.{k}") for k, v in (data.get("lr") or {}).items()},
            archives=archives,
            licence=str(data.get("licence", "")),
            homepage=str(data.get("homepage", "")),
            manual_download=str(data.get("manual_download", "")),
            notes=str(data.get("notes", "")),
            discover=discover,
            clip_count=data.get("clip_count") if discover else len(clips),
            raw=data,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BenchError(f"manifest {source} is malformed: {type(exc).__name__}: {exc}") from None


def manifest_names() -> list[str]:
    """Names of the manifests shipped with the package."""
    folder = resources.files("mgld_bench.datasets") / "manifests"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


@cache
def load_manifest(name: str) -> Manifest:
    """The shipped manifest called ``name`` (``reds4``, ``videolq``, ``udm10``, ``spmcs``)."""
    import yaml

    res = resources.files("mgld_bench.datasets") / "manifests" / f"{name}.yaml"
    if not res.is_file():
        raise UnknownNameError(f"no dataset manifest {name!r}; manifests: {', '.join(manifest_names())}")
    text = res.read_text(encoding="utf-8")
    return parse_manifest(yaml.safe_load(text), f"{name}.yaml")


def manifest_digest(name: str) -> str:
    """sha256 of the manifest file's bytes (recorded with prepared sets)."""
    import hashlib

    res = resources.files("mgld_bench.datasets") / "manifests" / f"{name}.yaml"
    return hashlib.sha256(res.read_bytes()).hexdigest()
