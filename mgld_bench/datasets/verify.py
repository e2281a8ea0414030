"""``data verify``: check a dataset on disk against its manifest and recorded checksums.

Reports missing and extra clips, wrong frame counts, unreadable and non-image files, mixed or
unexpected frame sizes, and frames whose sha256 differs from the one recorded.  Checksums of
official data are recorded next to the data (``ROOT/.mgld-bench/checksums/``) by
``verify --record``; prepared sets carry theirs in their own manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mgld_bench.datasets.layout import IGNORED_FILES, image_size
from mgld_bench.datasets.prepared import PREPARED_MANIFEST
from mgld_bench.datasets.standard import ManifestDataset
from mgld_bench.errors import BenchError, FrameError
from mgld_bench.fileio import atomic_write_json
from mgld_bench.frames import IMAGE_SUFFIXES, _natural_key


@dataclass
class VerifyReport:
    """What verify found: problems (each naming a path) and informational lines."""

    problems: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256(path: Path) -> str:
    from mgld_bench.fileio import file_sha256

    return file_sha256(path, memo=False)


def _scan_clip(
    folder: Path, report: VerifyReport, what: str, frames: int | None, size: tuple[int, int] | None
) -> list[Path]:
    """Check one clip folder; return its frame files."""
    if not folder.is_dir():
        report.problems.append(f"{what}: missing clip folder {folder}")
        return []
    files = []
    for p in folder.iterdir():
        if p.name.startswith(".") or p.name.lower() in IGNORED_FILES:
            continue
        if p.is_dir() or p.suffix.lower() not in IMAGE_SUFFIXES:
            report.problems.append(f"{what}: extra non-frame entry {p}")
            continue
        files.append(p)
    files.sort(key=_natural_key)
    if frames is not None and len(files) != frames:
        report.problems.append(f"{what}: {folder} holds {len(files)} frames, expected {frames}{_gaps(files, frames)}")
    first: tuple[int, int] | None = None
    for f in files:
        try:
            hw = image_size(f)
        except FrameError as exc:
            report.problems.append(f"{what}: {exc}")
            continue
        if size is not None and hw != tuple(size):
            report.problems.append(f"{what}: {f} is {hw[1]}x{hw[0]}, expected {size[1]}x{size[0]}")
        elif first is not None and hw != first:
            report.problems.append(
                f"{what}: {f} is {hw[1]}x{hw[0]} but the clip's first frame is {first[1]}x{first[0]}"
            )
        first = first or hw
    return files


def _checksum_file(root: Path, name: str, frame_set: str) -> Path:
    return root / ".mgld-bench" / "checksums" / f"{name}-{frame_set}.json"


def _check_sums(
    root: Path, base: Path, files: list[Path], recorded: dict[str, str], report: VerifyReport, what: str
) -> dict[str, str]:
    found = {}
    for f in files:
        rel = f.relative_to(base).as_posix()
        digest = _sha256(f)
        found[rel] = digest
        if recorded and rel in recorded and recorded[rel] != digest:
            report.problems.append(f"{what}: {f} has changed (sha256 {digest[:12]}…, recorded {recorded[rel][:12]}…)")
    for rel in sorted(set(recorded) - set(found)):
        if (base / rel).parent.is_dir() or True:
            if not (base / rel).exists():
                report.problems.append(f"{what}: frame {base / rel} is missing (it was recorded)")
    return found


def verify_frame_set(
    ds: ManifestDataset, frame_set: str, base: Path, report: VerifyReport, record: bool, scale: int
) -> None:
    """Verify one official frame set (``gt`` or an LR set) of a manifest dataset."""
    m = ds.manifest
    root = ds.root
    names = ds.clip_names()
    if m.discover and m.clip_count is not None and len(names) != m.clip_count:
        report.problems.append(f"{frame_set}: {base} holds {len(names)} clip folders, expected {m.clip_count}")
    sums_path = _checksum_file(root, m.name, frame_set)
    recorded: dict[str, str] = {}
    if sums_path.is_file():
        recorded = json.loads(sums_path.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    total = 0
    if not m.discover and not m.raw.get("shared_dirs"):
        extra = sorted(
            p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in names
        )
        report.problems.extend(f"{frame_set}: extra clip folder {base / e} (not in the manifest)" for e in extra)
    for clip in names:
        info = m.clip(clip)
        size = (info.size[0] // scale, info.size[1] // scale) if info.size else None
        files = _scan_clip(base / clip, report, f"{frame_set} clip {clip}", info.frames, size)
        total += len(files)
        if recorded or record:
            found.update(_check_sums(root, base, files, recorded, report, f"{frame_set} clip {clip}"))
    expected_total = m.raw.get("total_frames")
    if expected_total and total != expected_total:
        report.info.append(f"{frame_set}: {total} frames in all; other users report {expected_total}")
    present = sum(1 for clip in names if (base / clip).is_dir())
    clips = f"{present} clips" if present == len(names) else f"{present} of {len(names)} clips"
    report.info.append(
        f"{frame_set}: {clips}, {total} frames in {base}" + (f"; checked against {sums_path}" if recorded else "")
    )
    if record and not recorded:
        sums_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(sums_path, found, indent=1)
        report.info.append(f"{frame_set}: recorded {len(found)} checksums in {sums_path}")


def _gaps(files: list[Path], frames: int, shown: int = 5) -> str:
    """``; missing 00000042.png`` when the frames are numbered and some numbers are absent ('' otherwise)."""
    stems = [f.stem for f in files]
    if not files or not all(s.isdigit() for s in stems):
        return ""
    have = {int(s) for s in stems}
    start = 1 if min(have) == 1 else 0
    width, suffix = len(stems[0]), files[0].suffix
    missing = [i for i in range(start, start + frames) if i not in have]
    extra = sorted(i for i in have if not start <= i < start + frames)
    parts = []
    if missing:
        more = f" (+{len(missing) - shown} more)" if len(missing) > shown else ""
        parts.append("missing " + ", ".join(f"{i:0{width}d}{suffix}" for i in missing[:shown]) + more)
    if extra:
        parts.append("unexpected " + ", ".join(f"{i:0{width}d}{suffix}" for i in extra[:shown]))
    return "; " + "; ".join(parts) if parts else ""


def _same_pixels(path: Path, expected: str | None) -> bool:
    """True when ``path`` decodes to the recorded pixels (the PNG was only re-encoded)."""
    if expected is None:
        return False
    from mgld_bench.datasets.prepare import pixel_digest
    from mgld_bench.frames import read_image

    try:
        return pixel_digest(read_image(path)) == expected
    except FrameError:
        return False


def verify_prepared(folder: Path, report: VerifyReport) -> None:
    """Check a prepared LR set: every frame present, with the sha256 its manifest records, nothing extra."""
    try:
        data: dict[str, Any] = json.loads((folder / PREPARED_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        report.problems.append(f"prepared set {folder}: manifest unreadable ({exc})")
        return
    n = 0
    for clip, rec in data.get("clips", {}).items():
        clip_dir = folder / clip
        listed = {f["file"]: f["sha256"] for f in rec["frames"]}
        pixels = {f["file"]: f.get("pixels_sha256") for f in rec["frames"]}
        for name, digest in listed.items():
            path = clip_dir / name
            n += 1
            if not path.is_file():
                report.problems.append(f"prepared set {folder.name}: frame {path} is missing")
            elif _sha256(path) != digest and not _same_pixels(path, pixels.get(name)):
                report.problems.append(
                    f"prepared set {folder.name}: frame {path} is corrupted (sha256 differs from the manifest)"
                )
        if clip_dir.is_dir():
            for p in clip_dir.iterdir():
                if not p.name.startswith(".") and p.name not in listed:
                    report.problems.append(f"prepared set {folder.name}: extra file {p}")
    from mgld_bench.datasets.prepare import library_versions

    if data.get("libraries") != library_versions():
        report.info.append(
            f"prepared set {folder.name}: made with other library versions ({data.get('libraries')}); "
            "regenerating it here may give other bytes"
        )
    deg = data.get("degradation", {})
    report.info.append(
        f"prepared set {folder.name}: {len(data.get('clips', {}))} clips, {n} frames, degradation "
        f"{deg.get('name')} v{deg.get('version')}, seed {data.get('seed')}"
    )


def verify(ds: ManifestDataset, record: bool = False) -> VerifyReport:
    """Verify the GT, every official LR set present, and every prepared set of ``ds``."""
    report = VerifyReport()
    m = ds.manifest
    root = ds.root
    if not root.is_dir():
        raise BenchError(f"{ds.name}: data root {root} does not exist")
    sets: list[tuple[str, Any, int]] = []
    if m.gt is not None:
        sets.append(("gt", m.gt, 1))
    sets.extend((name, fs, fs.scale) for name, fs in m.lr.items())
    for name, fs, scale in sets:
        base = next((root / d for d in fs.dirs if (root / d).is_dir()), None)
        if base is None:
            msg = f"{name}: not found under {root} (looked in {', '.join(fs.dirs)})"
            (report.problems if name in ("gt", "official") else report.info).append(msg)
            continue
        verify_frame_set(ds, name, base, report, record, scale)
    prepared_root = root / "prepared" / m.name
    if prepared_root.is_dir():
        for folder in sorted(prepared_root.iterdir()):
            if folder.name.endswith(".partial"):
                report.info.append(f"prepared set {folder.name}: incomplete (rerun prepare to finish it)")
            elif (folder / PREPARED_MANIFEST).is_file():
                verify_prepared(folder, report)
    return report
