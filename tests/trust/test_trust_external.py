"""``external`` passes values so that no quoting can break them (issue 11, point 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mgld_bench.cli import main
from mgld_bench.errors import BenchError
from mgld_bench.methods.external import External, build_command, quoted_placeholders
from tests.fakes import write_frames

UPSCALE = """
import sys
from pathlib import Path
import cv2
src, dst, scale = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
for f in sorted(src.glob("*.png")):
    img = cv2.imread(str(f))
    cv2.imwrite(str(dst / f.name), img.repeat(scale, axis=0).repeat(scale, axis=1))
"""

EVIL = "a$(touch M)b`touch M`;touch M"


@pytest.fixture
def evil_dataset(tmp_path: Path) -> Path:
    root = tmp_path / "clips"
    rng = np.random.default_rng(0)
    write_frames(root / EVIL, [rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(2)])
    (tmp_path / "up.py").write_text(UPSCALE)
    return root


def _run(tmp_path: Path, root: Path, command: str) -> int:
    return main([
        "run", "--datasets", f"folder:{root}", "--methods", "external", "--metrics", "psnr", "--no-progress",
        "--set", "external.shell=true", "--set", f"external.cwd={tmp_path}", "--set", f"external.command={command}",
        "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"),
    ])


def test_quoted_placeholders_under_shell_are_refused(tmp_path: Path, evil_dataset: Path, capsys) -> None:
    cmd = f'"{sys.executable}" up.py "{{input}}" "{{output}}" {{scale}} && echo "{{clip}}"'
    assert _run(tmp_path, evil_dataset, cmd) == 1
    err = capsys.readouterr().err
    assert "placeholder {input} is inside quotes" in err and "$MGLD_BENCH_INPUT" in err
    assert not (tmp_path / "M").exists()


def test_unquoted_placeholders_and_env_vars_keep_names_inert(tmp_path: Path, evil_dataset: Path) -> None:
    cmd = f'"{sys.executable}" up.py {{input}} {{output}} {{scale}} && echo {{clip}} "$MGLD_BENCH_CLIP" > seen.txt'
    assert _run(tmp_path, evil_dataset, cmd) == 0
    assert not (tmp_path / "M").exists()
    assert (tmp_path / "seen.txt").read_text() == f"{EVIL} {EVIL}\n"


@pytest.mark.parametrize(
    ("template", "inside"),
    [
        ('run "{clip}"', ["clip"]),
        ("run '{clip}' {input}", ["clip"]),
        ("run \"a\" {clip} 'b'", []),
        ('run "it\'s" {clip}', []),
        ('run \\"{clip}\\"', []),  # escaped quotes are literal characters: the value stays quoted
        ("run \"x'\" '{a}' \"{b}\"", ["a", "b"]),
    ],
)
def test_quote_detection(template: str, inside: list[str]) -> None:
    assert quoted_placeholders(template) == inside


@settings(max_examples=40, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=30))
def test_no_value_breaks_out_of_its_argument(value: str) -> None:
    cmd = build_command("printf %s {clip}", {"clip": value}, shell=True)
    out = subprocess.run(cmd, shell=True, capture_output=True, check=True)  # shell=True is the point of the test
    assert out.stdout.decode("utf-8", "surrogateescape") == value


def test_timeout_must_be_finite() -> None:
    for bad in ("nan", "inf", "-1", "0"):
        with pytest.raises(BenchError, match="timeout must be a positive, finite"):
            External(command="t {input} {output}", timeout=bad)
