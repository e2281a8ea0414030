"""``data fetch``: download a dataset's archives with resume and checksum, then extract them.

Archives go to ``ROOT/downloads/``.  A download is written to ``FILE.part`` and resumed with an
HTTP Range request (:func:`mgld_bench.download.download_part`, shared with weight files); when
complete its size and sha256 are checked (when the manifest knows them) and it is renamed into
place.  Extraction takes only the members the manifest names
(REDS4 needs 4 of the 240 clips in ``train_sharp.zip``) into a temporary folder, then moves
them into place.  Without a network the first connection fails fast with one error that says
where to put the files by hand.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import urllib.error
import zipfile
from pathlib import Path

from mgld_bench.datasets.manifest import Archive, Manifest
from mgld_bench.download import download_part
from mgld_bench.errors import BenchError, writing


def _sha256(path: Path) -> str:
    from mgld_bench.fileio import file_sha256

    return file_sha256(path, memo=False)


#: First-fetch digests of archives without a published sha256, in ``ROOT/downloads/``.
DIGESTS_FILE = "mgld_bench_digests.json"


def recorded_digests(downloads: Path) -> dict[str, str]:
    """file name -> sha256 recorded when it was first fetched (trust on first use)."""
    import json

    try:
        data = json.loads((downloads / DIGESTS_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def record_digest(downloads: Path, name: str, sha: str) -> None:
    import json

    from mgld_bench.fileio import atomic_write_bytes

    data = recorded_digests(downloads)
    data[name] = sha
    atomic_write_bytes(downloads / DIGESTS_FILE, json.dumps(data, indent=1, sort_keys=True).encode())


def expected_digest(path: Path, archive: Archive) -> tuple[str | None, str]:
    """The sha256 an archive must have and where it comes from ("published", "recorded" or "")."""
    if archive.sha256 is not None:
        return archive.sha256, "published"
    sha = recorded_digests(path.parent).get(path.name)
    return (sha, "recorded on first fetch") if sha else (None, "")


def _complete(path: Path, archive: Archive) -> bool:
    if not path.is_file():
        return False
    if archive.size is not None and path.stat().st_size != archive.size:
        return False
    want, origin = expected_digest(path, archive)
    if want is None:
        record_digest(path.parent, path.name, _sha256(path))  # placed by hand: trusted on first use
        return True
    if origin == "published":
        return _sha256(path) == want  # a wrong file is downloaded again
    if _sha256(path) != want:
        raise BenchError(
            f"{path} has another sha256 than the one {expected_digest(path, archive)[1]} ({want[:16]}...); delete it "
            "and fetch again (if the upstream archive changed on purpose, also delete its line in "
            f"{path.parent / DIGESTS_FILE})"
        )
    return True


def download(url: str, dest: Path, archive: Archive, timeout: float = 10.0, progress: bool = True) -> Path:
    """Download ``url`` to ``dest`` via ``dest.part`` (resumed with Range), check it, rename it."""
    part = dest.with_name(dest.name + ".part")
    download_part(url, part, desc=dest.name, timeout=timeout, progress=None if progress else False,
                  total=archive.size, disk_label=f"downloading {dest.name}")
    size = part.stat().st_size
    if archive.size is not None and size != archive.size:
        if size > archive.size:
            part.unlink()
        raise BenchError(f"download of {url} is {size} bytes, expected {archive.size}; run fetch again to resume")
    digest = _sha256(part)
    want, origin = expected_digest(dest, archive)
    if want is not None and digest != want:
        part.unlink()
        raise BenchError(
            f"download of {url} has sha256 {digest}, expected {want} ({origin}); the partial file was removed, run "
            "fetch again"
        )
    os.replace(part, dest)
    if want is None:
        record_digest(dest.parent, dest.name, digest)  # trust on first fetch; checked from now on
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
                with writing(dest, f"extracting {archive_path.name}"):
                    zf.extract(info, tmp)
                count += 1
        for src in sorted(p for p in tmp.rglob("*") if p.is_file()):  # nothing reaches dest before all fit
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
