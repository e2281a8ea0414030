"""Running external commands with a timeout, their output captured into log files.

A small private runner for the ``mgld`` adapter (the generic external-command mechanism of
``mgld_bench/methods/external.py`` was not on main when this was written).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from mgld_bench.errors import BenchError


@dataclass
class Command:
    """One process to start: argv, working folder, environment additions, log file stem."""

    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    name: str = "process"

    def shell_line(self) -> str:
        """The command as one copy-pasteable shell line (environment additions first)."""
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items()))
        line = f"cd {shlex.quote(str(self.cwd))} && "
        return line + (env + " " if env else "") + shlex.join(self.argv)


@dataclass
class Finished:
    """What a finished process left: exit code, seconds, and its log files."""

    command: Command
    returncode: int
    seconds: float
    stdout: Path
    stderr: Path

    def tail(self, lines: int = 15) -> str:
        text = self.stderr.read_text(errors="replace").strip() or self.stdout.read_text(errors="replace").strip()
        return "\n".join(text.splitlines()[-lines:])


def run_parallel(commands: list[Command], log_dir: Path, timeout: float | None = None) -> list[Finished]:
    """Start every command at once, wait for all, return how each ended (in order).

    stdout/stderr go to ``log_dir/<name>.stdout.log`` / ``.stderr.log``.  When ``timeout``
    seconds pass, the processes still running are killed and a :class:`BenchError` is raised.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    started: list[tuple[Command, subprocess.Popen[bytes], Path, Path, float]] = []
    handles = []
    try:
        for cmd in commands:
            out_path = log_dir / f"{cmd.name}.stdout.log"
            err_path = log_dir / f"{cmd.name}.stderr.log"
            out_f, err_f = open(out_path, "wb"), open(err_path, "wb")
            handles += [out_f, err_f]
            env = {**os.environ, **cmd.env}
            try:
                proc = subprocess.Popen(
                    cmd.argv, cwd=str(cmd.cwd), env=env, stdout=out_f, stderr=err_f, stdin=subprocess.DEVNULL
                )
            except OSError as exc:
                raise BenchError(f"cannot start {cmd.argv[0]}: {exc}") from exc
            started.append((cmd, proc, out_path, err_path, time.monotonic()))
        deadline = time.monotonic() + timeout if timeout else None
        results: list[Finished] = []
        for cmd, proc, out_path, err_path, t0 in started:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                code = proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                raise BenchError(
                    f"{cmd.name} did not finish within {timeout:g} s and was stopped; logs in {log_dir}"
                ) from None
            results.append(Finished(cmd, code, time.monotonic() - t0, out_path, err_path))
        return results
    finally:
        for _, proc, *_ in started:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for h in handles:
            h.close()
