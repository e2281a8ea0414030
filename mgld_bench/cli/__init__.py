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

#: Sub-command modules, in the order ``--help`` lists them.
COMMANDS = [
    "mgld_bench.cli.run_cmd",
    "mgld_bench.cli.score_cmd",
    "mgld_bench.cli.list_cmd",
    "mgld_bench.cli.weights_cmd",
    "mgld_bench.cli.table_cmd",
    "mgld_bench.cli.plot_cmd",
    "mgld_bench.cli.compare_cmd",
    "mgld_bench.cli.report_cmd",
    "mgld_bench.cli.data_cmd",
    "mgld_bench.cli.export_cmd",
    "mgld_bench.cli.cache_cmd",
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
    parser.add_argument(
        "--max-pixels", type=int, default=None, metavar="N",
        help="refuse images with more pixels than N, checked from the file header before decoding "
        "(default $MGLD_BENCH_MAX_PIXELS, else 2**26 = 67 Mpx)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module_name in COMMANDS:
        importlib.import_module(module_name).register(sub)
    from mgld_bench.cli.boundary import add_allow_pickle

    add_allow_pickle(sub)
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
    from mgld_bench.cli.boundary import apply_global_options, report, terminate_as_exception

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with terminate_as_exception():
            apply_global_options(args)
            return int(args.func(args) or 0)
    except BaseException as exc:  # the one boundary: every error becomes one line and an exit code
        if isinstance(exc, SystemExit | GeneratorExit | BrokenPipeError):  # a closed pipe: see main()
            raise
        return report(exc)
    finally:
        try:
            sys.stdout.flush()
        except OSError:
            pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
