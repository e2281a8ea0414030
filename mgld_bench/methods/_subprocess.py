"""A command line for :func:`mgld_bench.methods.external.run_command` (the suite's shared mechanism:
logs beside the cache entry, the whole process group killed on timeout, the log of a failed command
kept where the message points), with its working folder and environment, printable as one line.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path


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
