"""Provenance of a run: package versions, git commit, device and time."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from mgld_bench import __version__

PACKAGES = (
    "torch", "torchvision", "numpy", "opencv-python-headless", "opencv-python", "pyiqa", "lpips",
    "piq", "diffusers", "transformers", "spandrel", "av", "scikit-image", "pillow",
)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that can change a number."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def git_state(path: Path | None = None) -> dict[str, Any]:
    """The commit and dirty flag of the mgld-bench checkout, when it is one."""
    root = path or Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if commit.returncode != 0:
            return {}
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5,
        )
        return {"commit": commit.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {}


def device_info(device: str) -> dict[str, Any]:
    """The device a run used; imports torch only when CUDA was asked for."""
    info: dict[str, Any] = {"device": device, "cpu": platform.processor() or platform.machine()}
    if device.startswith("cuda"):
        import torch

        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    return info


def collect(device: str, cache_dir: Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything recorded with a run."""
    return {
        "mgld_bench": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "git": git_state(),
        **device_info(device),
        "cache_dir": str(cache_dir),
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **(extra or {}),
    }
