"""The ``mgld-bench`` command line.

Each sub-command lives in its own module exposing ``register(subparsers)``, which adds its
parser and sets ``func`` (a callable taking the parsed args and returning an exit code).
To add a sub-command, add its module name to ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from mgld_bench import __version__
from mgld_bench.errors import BenchError

#: Sub-command modules, in the order ``--help`` lists them.
COMMANDS = [
    "mgld_bench.cli.run_cmd",
    "mgld_bench.cli.score_cmd",
    "mgld_bench.cli.list_cmd",
    "mgld_bench.cli.weights_cmd",
    "mgld_bench.cli.table_cmd",
    "mgld_bench.cli.plot_cmd",
    "mgld_bench.cli.compare_cmd",
    "mgld_bench.cli.data_cmd",
    "mgld_bench.cli.export_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mgld-bench",
        description="Evaluate and benchmark video super-resolution methods reproducibly.",
    )
    parser.add_argument("--version", action="version", version=f"mgld-bench {__version__}")
    parser.add_argument(
        "--weights-dir",
        help="folder holding weight files (TORCH_HOME layout); default $MGLD_BENCH_WEIGHTS, "
        "else $TORCH_HOME, else ~/.cache/torch",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module_name in COMMANDS:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mgld-bench`` console script."""
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (`mgld-bench list metrics | head`): stop quietly, as cat does.
        _silence_stdout()
        return 141


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (captured in tests)
        pass


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.weights_dir:
        from mgld_bench.weights import set_weights_dir

        set_weights_dir(args.weights_dir)
    try:
        code = int(args.func(args) or 0)
    except BenchError as exc:
        print(f"mgld-bench: error: {exc}", file=sys.stderr)
        code = exc.exit_code
    except KeyboardInterrupt:
        print("mgld-bench: interrupted; completed jobs are cached, rerun to resume", file=sys.stderr)
        code = 130
    sys.stdout.flush()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
