"""The CLI's one boundary: global options, SIGTERM as an exception, one line per error.

Every exception that reaches :func:`mgld_bench.cli.main` is printed by :func:`report` as one
line (``mgld-bench: error: ...``) with the exit code of its kind (see :mod:`mgld_bench.errors`).
``MGLD_BENCH_DEBUG=1`` also prints the traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mgld_bench.errors import Terminated, describe

#: Sub-commands that open weight files, and so take ``--allow-pickle``.
PICKLE_COMMANDS = ("run", "score", "weights")


def add_allow_pickle(sub: argparse._SubParsersAction) -> None:
    """Add ``--allow-pickle FILE`` to the commands that load weights (and every ``weights`` action)."""
    for name in PICKLE_COMMANDS:
        parser = sub.choices.get(name)
        if parser is None:
            continue
        targets = [parser]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                targets = list(action.choices.values())
        for p in targets:
            p.add_argument(
                "--allow-pickle", action="append", default=[], type=Path, metavar="FILE",
                help="load this weight file with plain pickle, which can run code from it: only for files you "
                "trust (repeatable)",
            )


def apply_global_options(args: argparse.Namespace) -> None:
    """Weights folder, trusted pickles and the pixel limit, before any command code runs."""
    if getattr(args, "weights_dir", None):
        from mgld_bench.weights import set_weights_dir

        set_weights_dir(args.weights_dir)
    if getattr(args, "allow_pickle", None):
        from mgld_bench.safeload import trust_pickle

        trust_pickle(args.allow_pickle)
    if getattr(args, "max_pixels", None) is not None:
        from mgld_bench.imagecheck import set_max_pixels

        set_max_pixels(args.max_pixels)


@contextmanager
def terminate_as_exception() -> Iterator[None]:
    """While active, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``), so the same
    cleanup as Ctrl-C runs: child process groups are killed, temporary folders removed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def printable(text: str) -> str:
    """``text`` safe for any terminal encoding (non-UTF-8 file names come out escaped)."""
    enc = getattr(sys.stderr, "encoding", None) or "utf-8"
    return text.encode(enc, "backslashreplace").decode(enc, "replace")


def report(exc: BaseException) -> int:
    """Print ``exc`` as one ``mgld-bench: error:`` line; return its exit code."""
    message, code = describe(exc)
    if os.environ.get("MGLD_BENCH_DEBUG"):
        traceback.print_exception(exc, file=sys.stderr)
    try:
        sys.stderr.write(printable(f"mgld-bench: error: {message}") + "\n")
        sys.stderr.flush()
    except OSError:
        pass
    return code
