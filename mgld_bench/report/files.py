"""Atomic file writes for report outputs (temporary name in the same folder, then rename)."""

from __future__ import annotations

from pathlib import Path

from mgld_bench.store.cache import atomic_write_bytes


def write_text_atomic(path: Path | str, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` so that readers see the old file or the whole new one."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary file and a rename."""
    path = Path(path)
    atomic_write_bytes(path, data)
    return path
