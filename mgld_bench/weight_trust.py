"""Which weight files to trust: published digests, digests recorded on first use, and pickles.

* A declared file with a published sha256 (or the sha256 prefix torch hub puts in names such as
  ``alexnet-owt-7be5be79.pth``) is checked against it.
* Any other declared file has its sha256 recorded the first time the suite meets it (import,
  fetch or first load: *trust on first use*) in ``DIGESTS_FILE`` in the weights folder, and is
  checked against that record afterwards.  ``weights import`` of a file records it anew.
* The record also keeps each file's size and mtime, so an unchanged file is not hashed again.

A mismatch raises :class:`WeightsMismatchError` naming the file and what to do.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError, DiskFullError
from mgld_bench.fileio import atomic_write_json
from mgld_bench.weights import WeightFile, weights_dir

#: The record of first-use digests, inside the weights folder.
DIGESTS_FILE = "mgld_bench_digests.json"
#: Tests that write random weights under the real names turn this off (then first use applies).
CHECK_PUBLISHED_ON_LOAD = True
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,64})\.[A-Za-z0-9]+$")
_CHUNK = 1 << 20


class WeightsMismatchError(BenchError):
    """A weight file whose content differs from its published or recorded digest."""

    exit_code = 3


def file_sha256(path: Path) -> str:
    """sha256 hex digest of every byte of a file (not memoised: a trust check reads it again)."""
    from mgld_bench.fileio import file_sha256 as sha256_of_file

    return sha256_of_file(path, memo=False)


def published_digest(wf: WeightFile) -> str | None:
    """The full published sha256, else the prefix in the file name, else None."""
    if wf.sha256:
        return wf.sha256.lower()
    m = _HASH_IN_NAME.search(wf.name)
    return m.group(1) if m else None


def _record_path(root: Path | None) -> Path:
    return (root or weights_dir()) / DIGESTS_FILE


def recorded(root: Path | None = None) -> dict[str, dict[str, Any]]:
    """The first-use records (name -> sha256, size, mtime_ns, recorded, how); {} when none or unreadable."""
    try:
        data = json.loads(_record_path(root).read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and isinstance(v.get("sha256"), str)} \
        if isinstance(data, dict) else {}


def known_sha256(wf: WeightFile, path: Path, root: Path | None = None) -> str | None:
    """The recorded sha256 of ``wf`` when the file at ``path`` still has the recorded size and
    mtime (the shortcut :func:`check` takes), else None; records nothing."""
    entry = recorded(root).get(wf.name)
    if not entry:
        return None
    st = path.stat()
    return entry["sha256"] if entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns else None


def record(wf: WeightFile, path: Path, sha: str, how: str, root: Path | None = None) -> None:
    """Remember ``sha`` as the trusted digest of ``wf`` (atomic rewrite of the record file)."""
    target = _record_path(root)
    data = recorded(root)
    st = path.stat()
    data[wf.name] = {
        "sha256": sha, "size": st.st_size, "mtime_ns": st.st_mtime_ns, "how": how,
        "recorded": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        atomic_write_json(target, data, indent=1)
    except (OSError, DiskFullError):
        pass  # a read-only weights folder: the check still ran, only the record is not kept


def status(wf: WeightFile, root: Path | None = None) -> str:
    """How ``wf`` is trusted: ``published sha256``, ``recorded <date> (first use)`` or ``not recorded``."""
    if wf.sha256:
        return "published sha256"
    if published_digest(wf):
        return "sha256 prefix in name"
    entry = recorded(root).get(wf.name)
    return f"recorded {entry.get('recorded', '?')[:10]} (first use)" if entry else "not recorded"


def check(wf: WeightFile, path: Path | None = None, root: Path | None = None, how: str = "first use") -> str:
    """Verify the file of ``wf`` against its published or recorded digest; return its sha256.

    A file without either is recorded now (trust on first use).  Raises
    :class:`WeightsMismatchError` naming the file when the content differs.
    """
    path = Path(path) if path is not None else wf.path(root)
    st = path.stat()
    entry = recorded(root).get(wf.name)
    same_stat = bool(entry) and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns
    sha = entry["sha256"] if (entry and same_stat) else file_sha256(path)
    want = published_digest(wf) if CHECK_PUBLISHED_ON_LOAD else None
    if want is not None:
        if not sha.startswith(want):
            raise WeightsMismatchError(
                f"weight file {path} has sha256 {sha[:16]}..., but its published sha256 is {want[:16]}...; it is not "
                f"the released file (corrupt, or replaced). Delete it and run `mgld-bench weights fetch {wf.name}`"
            )
        if not same_stat:
            record(wf, path, sha, "published digest checked", root)
        return sha
    if entry and entry["sha256"] != sha:
        raise WeightsMismatchError(
            f"weight file {path} changed since its sha256 was recorded on {entry.get('recorded', '?')[:10]} "
            f"({entry['sha256'][:16]}... then, {sha[:16]}... now). If you replaced it on purpose, record the new "
            f"file with `mgld-bench weights import {path.parent}`; otherwise fetch it again"
        )
    if not same_stat:
        record(wf, path, sha, how if entry is None else entry.get("how", how), root)
    return sha


def check_all(files: list[WeightFile]) -> None:
    """:func:`check` every file of ``files`` that is on disk."""
    for wf in files:
        path = wf.path()
        if path.is_file():
            check(wf, path)
