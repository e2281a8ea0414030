"""Install extras: the core path runs with the optional packages blocked, a missing extra reads as one
line naming the ``pip install``, and every import of an optional package goes through ``import_extra``."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mgld_bench.extras import EXTRAS, MissingExtraError, import_extra, install_hint

ROOT = Path(__file__).resolve().parents[1]

#: Runs in a fresh interpreter: a meta-path finder makes every optional package unimportable, and
#: records each attempt; then the given mgld-bench commands run through the CLI entry point.
BLOCKED_RUNNER = textwrap.dedent(
    """
    import json, sys
    BLOCKED = set(json.loads(sys.argv[1]))
    attempts = []

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                attempts.append(name)
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
            return None

    sys.meta_path.insert(0, Block())
    from mgld_bench.cli import main
    codes, tried = [], []
    for argv in json.loads(sys.argv[2]):
        codes.append(main(argv))
        tried.append(sorted(set(attempts)))
        attempts.clear()
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print("RESULT " + json.dumps({"codes": codes, "attempts": tried, "loaded": loaded}))
    """
)


def _run_blocked(commands: list[list[str]], tmp_path: Path) -> tuple[dict, str, str]:
    blocked = sorted(set(EXTRAS) | {"huggingface_hub"})
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKED_RUNNER, json.dumps(blocked), json.dumps(commands)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, proc.stderr
    return json.loads(lines[-1][7:]), proc.stdout, proc.stderr


def test_core_demo_runs_with_every_optional_package_blocked(tmp_path: Path) -> None:
    small = ["--set", "synthetic.frames=2", "--set", "synthetic.size=32", "--no-progress"]
    commands = [
        # the demo (psnr, ssim) plus the temporal metrics with OpenCV flows
        ["run", "--metrics", "psnr,ssim,warping-error,tof", "--out", str(tmp_path / "demo"), *small],
        # musiq through pyiqa (its default backend is mgld-bench's own network)
        ["run", "--metrics", "psnr,musiq", "--set", "musiq.backend=pyiqa", "--out", str(tmp_path / "l"), *small],
        ["run", "--metrics", "psnr,musiq", "--set", "musiq.backend=pyiqa", "--out", str(tmp_path / "s"), "--strict",
         *small],
        ["list", "metrics", "--verbose"],
        ["list", "methods", "--verbose"],
    ]
    result, out, err = _run_blocked(commands, tmp_path)
    assert result["codes"] == [0, 0, 1, 0, 0], err
    assert "Traceback" not in err, err
    assert result["loaded"] == []
    # the core path never even looks for an optional package
    assert result["attempts"][0] == [], result["attempts"]
    assert (tmp_path / "demo" / "results.csv").is_file()
    # a requested metric whose extra is missing: recorded as unavailable with the install line
    assert "pyiqa is not installed (needed by musiq): pip install 'mgld-bench[learned]'" in out + err
    assert "--strict" in err
    # list says what to install
    assert "pip install 'mgld-bench[diffusion]'" in out  # mgld-sd / sd-x4
    assert "spandrel is not installed (needed by realesrgan)" in out


def test_missing_extra_is_one_line_naming_the_install() -> None:
    assert install_hint("pyiqa") == "pip install 'mgld-bench[learned]'"
    assert install_hint("diffusers.utils") == "pip install 'mgld-bench[diffusion]'"
    with pytest.raises(MissingExtraError) as exc:
        import_extra("ray_not_a_module_xyz", "the ray executor")
    assert "\n" not in str(exc.value)
    assert "needed by the ray executor" in str(exc.value)


def _optional_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in EXTRAS]
    return found


def test_optional_packages_are_imported_only_through_import_extra() -> None:
    files = [*sorted((ROOT / "mgld_bench").rglob("*.py")), *sorted((ROOT / "baselines").rglob("*.py"))]
    # mgld_bench/testing builds test fixtures (the tests install every extra)
    bare = [hit for f in files if "testing" not in f.parts for hit in _optional_imports(f)]
    assert bare == []


def test_pyproject_core_dependencies_leave_the_extras_out() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(reqs: list[str]) -> set[str]:
        import re

        return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in reqs}

    core = names(project["dependencies"])
    extras = {k: names(v) for k, v in project["optional-dependencies"].items()}
    dist = {"skimage": "scikit-image"}
    for module, extra in EXTRAS.items():
        assert dist.get(module, module) in extras[extra], (module, extra)
        assert dist.get(module, module) not in core, module
