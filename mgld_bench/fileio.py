"""The two file primitives every layer uses: sha256 of a file, and atomic writes.

An atomic write goes to a temporary name in the target's folder, is flushed to disk and renamed
into place, so readers see either the old file or the whole new one, and a killed process
leaves no half-written target (at most a ``.NAME.*.tmp`` file, removed on failure).  The file
gets the permissions ``open()`` would give it (the umask's), so a report folder can be served.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from mgld_bench.errors import writing

_MEMO: dict[tuple[str, int, int], str] = {}
CHUNK = 1 << 20
_UMASK_LOCK = threading.Lock()


def new_file_mode() -> int:
    """The mode ``open()`` gives a new file under the process's umask (0644 under umask 022)."""
    with _UMASK_LOCK:  # reading the umask means setting it; the lock keeps the two together
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def temp_beside(path: Path) -> tuple[int, str]:
    """A temporary file next to ``path`` (for an atomic rename into place), with the mode a plain
    ``open()`` would give it -- ``mkstemp`` alone makes every file 0600."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, new_file_mode())
    except OSError:  # a file system without modes: keep mkstemp's
        pass
    return fd, tmp


def file_sha256(path: Path | str, memo: bool = True) -> str:
    """sha256 hex digest of a file's bytes.

    With ``memo`` the digest is remembered for the file's (path, size, mtime) within this
    process; checks that must see every byte again pass ``memo=False``.
    """
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    cached = _MEMO.get(key) if memo else None
    if cached is not None:
        return cached
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            h.update(block)
    digest = h.hexdigest()
    _MEMO[key] = digest
    return digest


def atomic_write_bytes(path: Path | str, data: bytes, sync: bool = True) -> Path:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename.

    ``sync=False`` skips the flush to disk: for derived files that the next run rewrites anyway
    (a report's thousand previews), where a crash may lose the file but never half-write it.
    """
    path = Path(path)
    with atomic_writer(path, sync) as fh:
        fh.write(data)
    return path


@contextmanager
def atomic_writer(path: Path | str, sync: bool = True) -> Iterator[BinaryIO]:
    """A binary file to stream into; on a clean exit it replaces ``path`` in one rename (flushed
    to disk first unless ``sync=False``), on an error it is deleted -- ``path`` is never seen
    half-written.  A full disk raises DiskFullError naming the folder."""
    path = Path(path)
    with writing(path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = temp_beside(path)
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
                if sync:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def atomic_write_text(path: Path | str, text: str) -> Path:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path | str, obj: Any, indent: int | None = 2) -> Path:
    """:func:`atomic_write_bytes` of ``obj`` as sorted JSON."""
    return atomic_write_text(path, json.dumps(obj, indent=indent, sort_keys=True))


def atomic_copy(src: Path | str, target: Path | str) -> Path:
    """Copy ``src`` to ``target`` atomically (a large file is streamed, not read into memory)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_beside(target)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)  # keeps tmp's mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
