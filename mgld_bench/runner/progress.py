"""What a run shows on the console while it works.

Jobs stay pure: :func:`~mgld_bench.runner.jobs.run_infer_job` and
:func:`~mgld_bench.runner.jobs.run_score_job` take an optional ``progress`` callback,
``progress(step, done, total)``, called as frames are made or scored (``step`` is the method's
label while inferring, the metric's name while scoring).  :class:`Console` turns those calls into

* on a terminal (``tty``): one status line redrawn at most :data:`REDRAW_S` apart -- the
  dataset, job k/n, the step, frames done, frames/s and the step's ETA;
* elsewhere (``plain``: CI, a pipe, ``--no-progress``): a plain line at most every
  ``interval`` seconds (``MGLD_BENCH_PROGRESS_S``, default 30) and one line per dataset at its end,
  so short runs print one line per dataset and long ones a few lines a minute;
* ``off``: nothing but :meth:`Console.notice` lines.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TextIO

#: ``progress(step, frames done, frames total)``.
FrameProgress = Callable[[str, int, int], None]

#: A terminal's status line is redrawn at most this often (seconds).
REDRAW_S = 0.1
#: Plain mode prints at most one progress line this often (seconds) unless
#: ``MGLD_BENCH_PROGRESS_S`` says otherwise.
PLAIN_INTERVAL_S = 30.0
MODES = ("auto", "tty", "plain", "off")


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get("MGLD_BENCH_PROGRESS_S", PLAIN_INTERVAL_S)))
    except ValueError:
        return PLAIN_INTERVAL_S


class Console:
    """Progress and notices of one run, on ``stream`` (stderr by default)."""

    def __init__(self, mode: str = "auto", stream: TextIO | None = None, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if mode == "auto":
            mode = "tty" if getattr(self.stream, "isatty", lambda: False)() else "plain"
        if mode not in MODES:
            raise ValueError(f"progress mode {mode!r}; use one of {', '.join(MODES)}")
        self.mode = mode
        self.interval = _interval() if interval is None else interval
        self.clock = clock
        self._drawn = 0  # characters of the status line now on screen (tty)
        self._last_draw = float("-inf")
        self._last_line = clock()
        self.dataset_label, self.jobs, self.job_index, self.what = "", 0, 0, ""
        self._dataset_start = clock()
        self._step, self._step_start, self._done, self._total = "", clock(), 0, 0

    # -- notices ------------------------------------------------------------------------------
    def notice(self, line: str) -> None:
        """A line the user must see (what is skipped and why, a warning): printed in every mode."""
        self._clear()
        print(f"mgld-bench: {line}", file=self.stream, flush=True)

    @contextlib.contextmanager
    def phase(self, text: str) -> Iterator[None]:
        """``text …`` while the block runs, then how long it took (not in ``off`` mode)."""
        start = self.clock()
        if self.mode != "off":
            self._clear()
            print(f"mgld-bench: {text} ...", file=self.stream, end="" if self.mode == "tty" else "\n", flush=True)
        try:
            yield
        finally:
            took = self.clock() - start
            if self.mode == "tty":
                print(f" {took:.1f} s", file=self.stream, flush=True)
            elif self.mode == "plain":
                print(f"mgld-bench: {text}: done in {took:.1f} s", file=self.stream, flush=True)

    # -- progress -----------------------------------------------------------------------------
    def dataset(self, label: str, jobs: int) -> None:
        """A dataset with ``jobs`` jobs (method x clip) starts."""
        self.dataset_label, self.jobs, self.job_index, self.what = label, jobs, 0, ""
        self._dataset_start = self.clock()

    def job(self, what: str) -> None:
        """The next job (``bicubic on synthetic/pan``) starts."""
        self.job_index += 1
        self.what = what
        self._step, self._done, self._total = "", 0, 0
        self._show(force=self.mode == "tty")

    def frames(self, step: str, done: int, total: int) -> None:
        """The :data:`FrameProgress` callback: ``done`` of ``total`` frames of ``step``."""
        now = self.clock()
        if done < self._done or total != self._total:  # a new pass over the frames: a new rate
            self._step_start = now
        self._step, self._done, self._total = step, done, total
        self._show(force=False, now=now)

    def dataset_done(self, failed: int = 0) -> None:
        """The dataset's jobs are over: one line saying so (not in ``off`` mode)."""
        if self.mode == "off":
            return
        self._clear()
        took = self.clock() - self._dataset_start
        tail = f", {failed} failed" if failed else ""
        print(f"mgld-bench: {self.dataset_label}: {self.job_index}/{self.jobs} jobs in {took:.1f} s{tail}",
              file=self.stream, flush=True)
        self._last_line = self.clock()

    def close(self) -> None:
        self._clear()

    # -- drawing ------------------------------------------------------------------------------
    def status(self, now: float | None = None) -> str:
        """The progress line as it stands."""
        now = self.clock() if now is None else now
        parts = [f"{self.dataset_label} job {self.job_index}/{self.jobs}"]
        if self.what:
            parts[0] += f" {self.what}"
        if self._total:
            step = f"{self._step}: {self._done}/{self._total} frames"
            spent = now - self._step_start
            if self._done and spent > 0:
                rate = self._done / spent
                step += f", {rate:.3g} frames/s, ETA {_clock((self._total - self._done) / rate)}"
            parts.append(step)
        return " | ".join(parts)

    def _show(self, force: bool, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        if self.mode == "tty":
            if force or now - self._last_draw >= REDRAW_S or self._done == self._total:
                self._draw(self.status(now))
                self._last_draw = now
        elif self.mode == "plain" and now - self._last_line >= self.interval and self.interval >= 0:
            print(f"mgld-bench: {self.status(now)}", file=self.stream, flush=True)
            self._last_line = now

    def _width(self) -> int:
        """The terminal's width: $COLUMNS, else the size of the terminal the line goes to, else 100."""
        if os.environ.get("COLUMNS", "").isdigit():
            return int(os.environ["COLUMNS"])
        try:
            cols = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, AttributeError, ValueError):
            cols = 0
        return cols if cols > 0 else shutil.get_terminal_size((100, 24)).columns

    def _draw(self, line: str) -> None:
        width = max(20, self._width() - 1)
        if len(line) > width:
            line = line[: max(0, width - 1)] + "…"
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()
        self._drawn = len(line)

    def _clear(self) -> None:
        if self.mode == "tty" and self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = 0


def console_for(progress: Any) -> Console:
    """A :class:`Console` from what a caller passed: a Console, a mode name, or a bool
    (True: ``auto``, False: ``off``)."""
    if isinstance(progress, Console):
        return progress
    if isinstance(progress, str):
        return Console(progress)
    return Console("auto" if progress else "off")
