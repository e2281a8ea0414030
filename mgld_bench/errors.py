"""User-facing errors.

Every failure a user can cause (a wrong name, a missing file, a mismatched frame count)
raises a :class:`BenchError` subclass whose message names the clip or file and says what to
do.  The CLI prints the message on one line and exits non-zero; nothing else is printed.
"""

from __future__ import annotations


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


class WeightsMissingError(BenchError):
    """A weight file a method or metric needs is not on disk and cannot be downloaded."""

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
