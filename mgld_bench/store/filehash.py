"""File content hashing, memoised on (path, size, mtime) within a process."""

from __future__ import annotations

import hashlib
from pathlib import Path

_MEMO: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path, chunk: int = 1 << 20, memo: bool = True) -> str:
    """sha256 hex digest of a file's bytes.

    With ``memo`` the digest is remembered for the file's (path, size, mtime); checks that must
    see every byte again (``data verify``) pass ``memo=False``.
    """
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    cached = _MEMO.get(key) if memo else None
    if cached is not None:
        return cached
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    digest = h.hexdigest()
    _MEMO[key] = digest
    return digest
