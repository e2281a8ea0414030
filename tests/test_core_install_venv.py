"""A fresh virtualenv holding only the core install runs the demo.

Offline and honest: the venv gets exactly the distributions in the closure of the core
``dependencies`` of ``pyproject.toml`` (resolved through their own metadata, extras left out),
linked from this interpreter's site-packages, plus mgld-bench built as a wheel.  ``pip check``
proves that closure is complete as declared; pyiqa, diffusers, transformers, lpips, spandrel and
scikit-image are absent, and the demo runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OPTIONAL = ("pyiqa", "diffusers", "transformers", "accelerate", "lpips", "piq", "spandrel", "skimage")


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _closure(requirements: list[str]) -> dict:
    from packaging.requirements import Requirement

    found: dict = {}
    stack = [Requirement(r) for r in requirements]
    while stack:
        req = stack.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = _canon(req.name)
        if name in found:
            continue
        # the first installed copy that satisfies the requirement (a venv may shadow an older one)
        fits = [d for d in distributions(name=req.name) if req.specifier.contains(d.version, prereleases=True)]
        if not fits:
            pytest.skip(f"no installed {req} here; cannot assemble the core closure offline")
        dist = fits[0]
        found[name] = dist
        stack.extend(Requirement(r) for r in dist.requires or [])
    return found


def _link_distribution(dist, site: Path) -> None:
    """Symlink every top-level entry (package folders, modules, .dist-info) of ``dist`` into ``site``."""
    base = Path(dist.locate_file(""))
    tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
    for top in tops:
        src, dst = base / top, site / top
        if src.exists() and not dst.exists():
            dst.symlink_to(src)


def _build_env(tmp_path: Path) -> dict[str, str]:
    """An environment whose PYTHONPATH puts a setuptools able to build wheels (>= 70.1) first."""
    from packaging.version import Version

    usable = [d for d in distributions(name="setuptools") if Version(d.version) >= Version("70.1")]
    if not usable:
        pytest.skip("no setuptools >= 70.1 here to build the wheel offline")
    build = tmp_path / "build-tools"
    build.mkdir()
    _link_distribution(usable[0], build)
    return {**os.environ, "PYTHONPATH": str(build)}


@pytest.mark.slow
def test_core_install_runs_the_demo(tmp_path: Path) -> None:
    tomllib = pytest.importorskip("tomllib")
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    dists = _closure(core)
    assert not {_canon(m) for m in OPTIONAL} & set(dists), "an optional package is in the core closure"

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    for dist in dists.values():
        _link_distribution(dist, site)
    # mgld-bench itself, as a wheel built from this checkout (no network, no build isolation)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(wheels), str(ROOT)], check=True, timeout=300, capture_output=True,
                   env=_build_env(tmp_path))
    (wheel,) = wheels.glob("mgld_bench-*.whl")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = [sys.executable, "-m", "pip", "--python", str(py)]
    subprocess.run([*pip, "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True, timeout=300, env=env)
    check = subprocess.run([*pip, "check"], capture_output=True, text=True, timeout=300, env=env)
    assert check.returncode == 0, check.stdout + check.stderr  # the core closure is complete as declared

    for module in ("pyiqa", "diffusers", "transformers", "skimage"):
        probe = subprocess.run([str(py), "-c", f"import {module}"], capture_output=True, env=env, cwd=tmp_path)
        assert probe.returncode != 0, f"{module} is importable in the core venv"

    demo = subprocess.run(
        [str(venv / "bin" / "mgld-bench"), "run", "--out", str(tmp_path / "demo"), "--cache-dir",
         str(tmp_path / "cache"), "--no-progress"],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )
    assert demo.returncode == 0, demo.stderr
    assert "bicubic" in demo.stdout and (tmp_path / "demo" / "results.csv").is_file()
    listed = subprocess.run([str(venv / "bin" / "mgld-bench"), "list", "metrics", "--verbose"], capture_output=True,
                            text=True, timeout=300, env=env, cwd=tmp_path)
    assert listed.returncode == 0 and "pip install 'mgld-bench[learned]'" in listed.stdout
