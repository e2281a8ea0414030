"""``list``: a table that fits 100 columns, with CUDA and weight marks read from declared facts."""

from __future__ import annotations

import pytest

from mgld_bench.cli import main
from mgld_bench.registry import METHODS


@pytest.mark.parametrize("what", ["methods", "metrics", "datasets"])
def test_every_line_fits_100_columns(what: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["list", what]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 3
    assert max(len(line) for line in lines) <= 100


def _row(lines: list[str], name: str) -> str:
    return next(line for line in lines if line.split()[:1] == [name])


def test_methods_that_declare_cuda_are_marked(capsys: pytest.CaptureFixture) -> None:
    assert main(["list", "methods"]) == 0
    lines = capsys.readouterr().out.splitlines()
    declared = [e.name for e in METHODS.entries()
                if getattr(e.load(), "needs_cuda", False) or getattr(e.load(), "requires_cuda", False)]
    assert "mgld-official" in declared
    for name in declared:
        assert "CUDA" in _row(lines, name)
    assert "CUDA" not in _row(lines, "bicubic")
    assert "weights" in _row(lines, "mgld") and "weights" not in _row(lines, "bicubic")


def test_verbose_gives_the_reason_and_the_cuda_fact(capsys: pytest.CaptureFixture) -> None:
    assert main(["list", "methods", "--verbose"]) == 0
    text = capsys.readouterr().out
    block = text.split("\nmgld-official ")[1].split("\n\n")[0]
    assert "needs CUDA: yes" in block and "why not / how to get it:" in block
