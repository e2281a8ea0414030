"""User-facing errors.

Every failure a user can cause (a wrong name, a missing file, a mismatched frame count)
raises a :class:`BenchError` subclass whose message names the clip or file and says what to
do.  The CLI prints the message on one line and exits non-zero; nothing else is printed.
Anything else that reaches the CLI (an ``OSError``, ``MemoryError``, a library's exception)
is turned into such a line by :func:`describe`.

Exit codes (one per kind): 0 success; 1 bad input (a frame, a folder, an option, a failed
job); 2 unknown name or bad command line; 3 missing or untrusted weight file; 4 environment
(disk full, permission denied, out of memory, a missing library); 5 internal error (a bug:
``MGLD_BENCH_DEBUG=1`` shows the traceback); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager


class BenchError(Exception):
    """An error the user can act on; the message is shown as-is."""

    exit_code: int = 1


class UnknownNameError(BenchError):
    """A dataset, method, metric or protocol name that is not registered."""

    exit_code = 2


class FrameError(BenchError):
    """A frame file that cannot be read, or frames of inconsistent size or count."""


class OutputMismatchError(BenchError):
    """A method produced outputs of the wrong count or size."""


class EnvironmentProblem(BenchError):
    """The machine, not the input: disk full, permission denied, out of memory, a missing library."""

    exit_code = 4


class DiskFullError(EnvironmentProblem):
    """A write failed because the disk holding ``folder`` is full (ENOSPC / EDQUOT)."""

    def __init__(self, folder: object, what: str = "") -> None:
        self.folder = folder
        doing = f" while {what}" if what else ""
        super().__init__(
            f"disk full: no space left in {folder}{doing}; free some space there (or point --cache-dir / --out "
            "elsewhere) and rerun -- completed jobs are kept"
        )


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered as an exception so that cleanup (child processes, temp folders) runs."""


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in DISK_FULL


@contextmanager
def writing(folder: object, what: str = "") -> Iterator[None]:
    """Turn a disk-full ``OSError`` raised inside into :class:`DiskFullError` naming ``folder``."""
    try:
        yield
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFullError(folder, what) from exc
        raise


class WeightsMissingError(BenchError):
    """A weight file a method or metric needs is not on disk and cannot be downloaded."""

    exit_code = 3

    def __init__(self, name: str, url: str | None, path: str, used_by: str = "") -> None:
        self.name = name
        self.url = url
        self.path = path
        self.used_by = used_by
        where = f" (needed by {used_by})" if used_by else ""
        url_part = f" from {url}" if url else ""
        super().__init__(
            f"weight file {name!r}{where} is missing: expected at {path}. "
            f"Get it with `mgld-bench weights fetch {name}`{url_part}, or copy it there and run "
            f"`mgld-bench weights import DIR`."
        )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def describe(exc: BaseException) -> tuple[str, int]:
    """One line for any exception that reached the user, and its exit code (see the module docstring)."""
    if isinstance(exc, BenchError):
        return str(exc), exc.exit_code
    if isinstance(exc, Terminated):
        return "terminated; completed jobs are cached, rerun to resume", 143
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted; completed jobs are cached, rerun to resume", 130
    name = type(exc).__name__
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else ""
        if is_disk_full(exc):
            from pathlib import Path

            folder = Path(str(where)).parent if where else "the output or cache folder"
            return str(DiskFullError(folder)), 4
        if isinstance(exc, FileNotFoundError):
            return f"{where or 'a file'} does not exist ({exc.strerror or name}); check the path", 1
        if isinstance(exc, PermissionError):
            return f"permission denied: {where or 'a file'}; check its owner and mode, or use another folder", 4
        reason = exc.strerror or _first_line(exc)
        return f"{str(where) + ': ' if where else ''}{reason} ({name}); check the disk and the path", 4
    if "database or disk is full" in str(exc) or "No space left on device" in str(exc):
        return str(DiskFullError("the output or cache folder")), 4
    if isinstance(exc, MemoryError):
        return "out of memory; use smaller frames or batch_size, or a machine with more memory", 4
    if isinstance(exc, ImportError):
        missing = getattr(exc, "name", None) or _first_line(exc)
        return f"a library is missing or broken ({missing}): {_first_line(exc)}; install the extra it belongs to", 4
    if name == "DecompressionBombError":
        return f"image too large to decode safely: {_first_line(exc)}; raise --max-pixels if the image is genuine", 1
    if isinstance(exc, UnicodeError):
        return f"text or a file name that is not valid UTF-8 ({_first_line(exc)}); rename the file", 1
    return (f"internal error: {name}: {_first_line(exc)}. This is a bug; rerun with MGLD_BENCH_DEBUG=1 for the "
            "traceback and report it"), 5
