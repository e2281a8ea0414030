"""Collecting what killed runs left behind: staging and job folders of processes that are gone.

Job folders carry the owner's process id in their name (``<key>-<pid>-<rand>`` under
``CACHE/tmp``, ``mgld-bench-job-<pid>-...`` in the system temp folder).  A folder whose owner
no longer runs is deleted; a folder without a readable pid only once it is older than
:data:`STALE_AFTER_S`.  A live run's folders are never touched, so concurrent runs are safe.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

#: Folders without an owner pid are collected after this many seconds.
STALE_AFTER_S = 24 * 3600
#: Grace period for a folder whose owner is gone (its creator may be a process just starting).
GRACE_S = 5.0
_PID = re.compile(r"-(\d+)-[0-9A-Za-z_]+$")
TEMP_PREFIXES = ("mgld-bench-job-", "mgld-bench-external-")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _stale(path: Path, now: float) -> bool:
    try:
        age = now - path.stat().st_mtime
    except OSError:
        return False
    m = _PID.search(path.name)
    if m is not None:
        return age > GRACE_S and not _alive(int(m.group(1)))
    return age > STALE_AFTER_S


def collect_stale(cache_root: Path | None = None, temp_root: Path | None = None) -> list[Path]:
    """Delete stale job folders under ``CACHE/tmp`` and the temp folder; return what was deleted."""
    now = time.time()
    candidates: list[Path] = []
    if cache_root is not None and (Path(cache_root) / "tmp").is_dir():
        candidates += [p for p in (Path(cache_root) / "tmp").iterdir() if p.is_dir()]
    temp = Path(temp_root or tempfile.gettempdir())
    try:
        candidates += [p for p in temp.iterdir() if p.name.startswith(TEMP_PREFIXES) and p.is_dir()]
    except OSError:
        pass
    removed = []
    for path in candidates:
        if _stale(path, now):
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(path)
    return removed
