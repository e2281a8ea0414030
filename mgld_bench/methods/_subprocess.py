"""Several external processes at once, on top of :func:`mgld_bench.methods.external.run_command`.

``run_command`` (the suite's shared mechanism: logs beside the cache entry, the whole process
group killed on timeout, the log of a failed command kept where the message points) runs one
command and waits; :func:`run_parallel` runs one per thread, e.g. one per GPU.
"""

from __future__ import annotations

import shlex
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from mgld_bench.methods.external import CommandError, CommandResult, run_command


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


def run_parallel(commands: list[Command], log_dir: Path, timeout: float | None, what: str) -> list[CommandResult]:
    """Run every command at once (output to ``log_dir/<name>.log``) and wait for all of them.

    Raises the first :class:`~mgld_bench.methods.external.CommandError` (failure or timeout)
    after every command has ended; the message names ``what`` and the part.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=max(len(commands), 1)) as pool:
        futures = [
            pool.submit(
                run_command,
                c.argv,
                log_path=log_dir / f"{c.name}.log",
                timeout=timeout,
                what=f"{what} ({c.name})",
                cwd=c.cwd,
                env=c.env,
            )
            for c in commands
        ]
        results: list[CommandResult] = []
        errors: list[CommandError] = []
        for future in futures:
            try:
                results.append(future.result())
            except CommandError as exc:
                errors.append(exc)
    if errors:
        raise errors[0]
    return results
