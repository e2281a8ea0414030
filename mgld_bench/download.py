"""The one resumable HTTP download: ``URL`` -> ``FILE.part``, continued with a Range request.

Weight files (:mod:`mgld_bench.weights_fetch`) and dataset archives
(:mod:`mgld_bench.datasets.fetch`) both use :func:`download_part`; each checks the finished
``.part`` (size, sha256) its own way and renames it into place.  Network errors are raised as
urllib raises them, so each caller words them for its users.
"""

from __future__ import annotations

import contextlib
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from mgld_bench.errors import writing

CHUNK = 1 << 20


def download_part(
    url: str, part: Path, *, desc: str, timeout: float, progress: bool | None = True,
    total: int | None = None, disk_label: str | None = None, **bar: Any,
) -> int:
    """Fetch ``url`` into ``part``, resuming a partial ``part`` with ``Range: bytes=N-``; return its size.

    A 206 answer is appended; any other success (the server ignored the Range) starts the file
    again; a 416 for a non-empty ``part`` means it is already complete.  ``total`` is the size
    shown when the server sends no ``Content-Length``; ``disk_label`` turns a full disk while
    writing into :class:`~mgld_bench.errors.DiskFullError`; ``progress=None`` shows the bar on a
    terminal only; ``bar`` goes to ``tqdm``.  Other HTTP and network errors propagate.
    """
    from tqdm import tqdm

    part.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.is_file() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "mgld-bench"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the range starts at the end: the .part is already complete
            return have
        raise
    guard = writing(part.parent, disk_label) if disk_label is not None else contextlib.nullcontext()
    with resp, guard:
        if have and getattr(resp, "status", 200) != 206:
            have = 0  # the server ignored the Range header: start again
        length = resp.headers.get("Content-Length")
        shown = have + int(length) if length is not None else total
        disable = None if progress is None else not progress
        with open(part, "ab" if have else "wb") as out, tqdm(
            total=shown, initial=have, unit="B", unit_scale=True, desc=desc, disable=disable,
            file=sys.stderr, **bar,
        ) as progress_bar:
            while block := resp.read(CHUNK):
                out.write(block)
                progress_bar.update(len(block))
    return part.stat().st_size
