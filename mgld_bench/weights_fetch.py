"""Getting weight files onto a machine: download (resumable, checked) and import from a folder.

* :func:`fetch` downloads one declared file (:func:`mgld_bench.download.download_part`): it
  resumes a ``.part`` file with an HTTP Range request, shows a progress bar, checks the size and
  sha256 (or the sha256 prefix torch hub encodes in names such as ``alexnet-owt-7be5be79.pth``),
  and renames into place only when the check passes.
* :func:`import_folder` copies files carried over from another machine into the weights folder,
  recognising them by name or, for files with a known sha256, by content.

Files without a published digest get theirs recorded on fetch or import (trust on first use,
see :mod:`mgld_bench.weight_trust`); a later download that differs from the record is refused.
"""

from __future__ import annotations

import os
import urllib.error
from collections.abc import Iterable
from pathlib import Path

from mgld_bench.download import download_part
from mgld_bench.errors import BenchError
from mgld_bench.fileio import atomic_copy
from mgld_bench.weight_trust import file_sha256, published_digest, record, recorded
from mgld_bench.weights import WeightFile, known_weights


def expected_hash(wf: WeightFile) -> str | None:
    """The full sha256 if declared, else the prefix torch hub puts in the file name, else None."""
    return published_digest(wf)


def verify(wf: WeightFile, path: Path, recorded_too: bool = False, root: Path | None = None) -> str | None:
    """None when ``path`` matches what is published about ``wf`` (and, with ``recorded_too``, the
    digest recorded on first use); else the reason it does not."""
    if wf.size is not None and path.stat().st_size != wf.size:
        return f"{path} has {path.stat().st_size} bytes, expected {wf.size}"
    want = expected_hash(wf)
    if want:
        got = file_sha256(path)
        if not got.startswith(want):
            return f"{path} has sha256 {got[:16]}..., expected {want[:16]}..."
    if recorded_too:
        entry = recorded(root).get(wf.name)
        got = file_sha256(path) if entry and not want else ""
        if got and got != entry["sha256"]:  # type: ignore[index]
            return (f"{path} has sha256 {got[:16]}..., but {entry['sha256'][:16]}... was recorded on "  # type: ignore[index]
                    f"{entry.get('recorded', '?')[:10]} (first use)")  # type: ignore[union-attr]
    return None


def resolve_url(url: str) -> str:
    """Apply ``$HF_ENDPOINT`` (a Hugging Face mirror, as pyiqa's README suggests) to hub URLs."""
    endpoint = os.environ.get("HF_ENDPOINT")
    if endpoint and url.startswith("https://huggingface.co/"):
        return endpoint.rstrip("/") + url[len("https://huggingface.co") :]
    return url


def fetch(wf: WeightFile, root: Path | None = None, progress: bool = True, timeout: float = 30.0) -> Path:
    """Download ``wf`` into the weights folder (or ``root``); return its path.

    A present file that passes :func:`verify` is kept.  An interrupted download resumes from
    ``<name>.part``.  Raises :class:`BenchError` naming the file and URL on any failure.
    """
    target = wf.path(root)
    if target.is_file() and verify(wf, target, recorded_too=True, root=root) is None:
        record(wf, target, file_sha256(target), "fetch", root)
        return target
    if not wf.url:
        where = f" (get it from {wf.source})" if wf.source else ""
        raise BenchError(f"weight file {wf.name} has no download URL; copy it to {target} by hand{where}")
    url = resolve_url(wf.url)
    part = target.with_name(target.name + ".part")
    try:
        download_part(url, part, desc=wf.name, timeout=timeout, progress=progress,
                      disk_label=f"downloading {wf.name}", leave=False, unit_divisor=1024)
    except urllib.error.HTTPError as exc:
        raise BenchError(f"cannot download {wf.name} from {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BenchError(
            f"cannot download {wf.name} from {url}: {reason}. Without network access, fetch it on a connected "
            f"machine and copy it over with `mgld-bench weights import DIR`"
        ) from None
    problem = verify(wf, part, recorded_too=True, root=root)
    if problem is not None:
        part.unlink(missing_ok=True)
        raise BenchError(
            f"download of {wf.name} from {url} is corrupt or not the expected file ({problem}); it was deleted. Run "
            "fetch again; if the upstream file changed on purpose, import it with `mgld-bench weights import DIR`"
        )
    os.replace(part, target)
    record(wf, target, file_sha256(target), "fetch", root)
    return target


def _copy_atomic(src: Path, target: Path) -> None:
    atomic_copy(src, target)


def import_folder(folder: Path, root: Path | None = None, files: Iterable[WeightFile] | None = None
                  ) -> list[tuple[str, str]]:
    """Copy known weight files found under ``folder`` into place; return (file, what happened).

    A file is recognised by its name, or by size and sha256 when the declaration has both
    (so ``lpips/weights/v0.1/alex.pth`` from the lpips wheel becomes
    ``LPIPS_v0.1_alex-df73285e.pth``).  Files that fail verification are reported, not copied.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise BenchError(f"weights import: {folder} is not a folder")
    decl = {wf.name: wf for wf in (files if files is not None else known_weights().values())}
    by_size: dict[int, list[WeightFile]] = {}
    for wf in decl.values():
        if wf.size is not None and wf.sha256:
            by_size.setdefault(wf.size, []).append(wf)
    report: list[tuple[str, str]] = []
    for src in sorted(p for p in folder.rglob("*") if p.is_file()):
        wf = decl.get(src.name)
        if wf is None:
            candidates = by_size.get(src.stat().st_size, [])
            if candidates:
                digest = file_sha256(src)
                wf = next((c for c in candidates if c.sha256 == digest), None)
        if wf is None:
            continue
        problem = verify(wf, src)
        if problem is not None:
            report.append((wf.name, f"skipped: {problem}"))
            continue
        target = wf.path(root)
        entry = recorded(root).get(wf.name)
        sha = file_sha256(src)
        note = ""
        if entry and entry["sha256"] != sha and not expected_hash(wf):
            note = f" (replaces the file recorded on {entry.get('recorded', '?')[:10]}; its new sha256 is recorded)"
        if target.resolve() == src.resolve():
            record(wf, target, sha, "import", root)
            report.append((wf.name, f"already in place{note}"))
            continue
        _copy_atomic(src, target)
        record(wf, target, sha, "import", root)
        report.append((wf.name, f"imported from {src}{note}"))
    return report
