"""``data fetch``: download a dataset's archives with resume and checksum, then extract them.

Archives go to ``ROOT/downloads/``.  A download is written to ``FILE.part`` and resumed with an
HTTP Range request; when complete its size and sha256 are checked (when the manifest knows
them) and it is renamed into place.  Extraction takes only the members the manifest names
(REDS4 needs 4 of the 240 clips in ``train_sharp.zip``) into a temporary folder, then moves
them into place.  Without a network the first connection fails fast with one error that says
where to put the files by hand.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from mgld_bench.datasets.manifest import Archive, Manifest
from mgld_bench.errors import BenchError

CHUNK = 1 << 20


def _sha256(path: Path) -> str:
    from mgld_bench.fileio import file_sha256

    return file_sha256(path, memo=False)


def _complete(path: Path, archive: Archive) -> bool:
    if not path.is_file():
        return False
    if archive.size is not None and path.stat().st_size != archive.size:
        return False
    return archive.sha256 is None or _sha256(path) == archive.sha256


def download(url: str, dest: Path, archive: Archive, timeout: float = 10.0, progress: bool = True) -> Path:
    """Download ``url`` to ``dest`` via ``dest.part`` (resumed with Range), check it, rename it."""
    from tqdm import tqdm

    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.is_file() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "mgld-bench"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        status = getattr(resp, "status", 200)
        if have and status != 206:
            have = 0  # the server ignored the Range header: start again
        length = resp.headers.get("Content-Length")
        total = (int(length) + have) if length is not None else archive.size
        with open(part, "ab" if have else "wb") as out, tqdm(
            total=total, initial=have, unit="B", unit_scale=True, desc=dest.name, disable=not progress or None
        ) as bar:
            while block := resp.read(CHUNK):
                out.write(block)
                bar.update(len(block))
    size = part.stat().st_size
    if archive.size is not None and size != archive.size:
        raise BenchError(f"download of {url} is {size} bytes, expected {archive.size}; run fetch again to resume")
    if archive.sha256 is not None:
        digest = _sha256(part)
        if digest != archive.sha256:
            part.unlink()
            raise BenchError(
                f"download of {url} has sha256 {digest}, expected {archive.sha256}; the partial file was "
                "removed, run fetch again"
            )
    os.replace(part, dest)
    return dest


def extract(archive_path: Path, dest: Path, members: tuple[str, ...]) -> int:
    """Extract the zip members matching ``members`` (all when empty) under ``dest``; return their count.

    Members go to a temporary folder first and are moved into place file by file, so an
    interrupted extraction never leaves a truncated frame at its final path.
    """
    dest.mkdir(parents=True, exist_ok=True)
    tmp = dest / f".extract-tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    count = 0
    try:
        with zipfile.ZipFile(archive_path) as zf:
            for info in zf.infolist():
                if info.is_dir() or (members and not any(fnmatch.fnmatch(info.filename, m) for m in members)):
                    continue
                target = Path(info.filename)
                if target.is_absolute() or ".." in target.parts:
                    raise BenchError(f"archive {archive_path} holds an unsafe path {info.filename!r}")
                zf.extract(info, tmp)
                count += 1
        for src in sorted(p for p in tmp.rglob("*") if p.is_file()):
            final = dest / src.relative_to(tmp)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, final)
    except zipfile.BadZipFile as exc:
        raise BenchError(f"{archive_path} is not a valid zip archive ({exc}); delete it and fetch again") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return count


def _offline_error(manifest: Manifest, root: Path, archive: Archive, reason: str) -> BenchError:
    where = root / "downloads" / archive.file
    manual = manifest.manual_download or f"download {archive.file} by hand"
    return BenchError(
        f"cannot download {archive.file} for {manifest.name} ({reason}). Put the file at {where} and run "
        f"`mgld-bench data fetch {manifest.name} --root {root}` again to check and extract it. {manual}"
    )


def fetch(
    manifest: Manifest, root: Path, mirror: str | None = None, timeout: float = 10.0, progress: bool = True,
    lr: str | None = None,
) -> list[str]:
    """Download (unless already present) and extract the archives of ``manifest``; return what was done.

    ``lr`` names the LR set wanted: archives that provide another LR set are skipped.
    """
    done = []
    for archive in manifest.archives:
        if archive.lr and lr is not None and archive.lr != lr:
            continue
        dest = root / "downloads" / archive.file
        if _complete(dest, archive):
            done.append(f"{archive.file}: already downloaded")
        else:
            urls = [f"{mirror.rstrip('/')}/{archive.file}"] if mirror else list(archive.urls)
            if not urls:
                raise _offline_error(manifest, root, archive, "it has no direct download link")
            errors = []
            for url in urls:
                try:
                    download(url, dest, archive, timeout=timeout, progress=progress)
                    break
                except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
                    errors.append(f"{url}: {getattr(exc, 'reason', exc)}")
            else:
                raise _offline_error(manifest, root, archive, "; ".join(errors))
            done.append(f"{archive.file}: downloaded")
        n = extract(dest, root / archive.extract_to, archive.members)
        if archive.members and n == 0:
            raise BenchError(f"{dest} holds none of the expected members ({', '.join(archive.members)})")
        done.append(f"{archive.file}: extracted {n} files into {root / archive.extract_to}")
    return done
