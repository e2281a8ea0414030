"""Builders of fake dataset layouts (tiny synthetic frames) shared by the dataset tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from mgld_bench.datasets import manifest as manifest_mod


def smooth_frames(n: int, h: int, w: int, seed: int) -> list[np.ndarray]:
    """``n`` smooth, slowly moving uint8 RGB frames (textured enough for compression to matter)."""
    import cv2

    rng = np.random.default_rng(seed)
    base = rng.uniform(0, 255, size=(h // 4 + 2, w // 4 + 2, 3)).astype(np.float32)
    base = cv2.resize(base, (w + 8 * n, h + 8), interpolation=cv2.INTER_CUBIC)
    return [np.clip(base[4 : 4 + h, 2 * i : 2 * i + w], 0, 255).astype(np.uint8) for i in range(n)]


def write_clip(folder: Path, frames: list[np.ndarray], pattern: str = "{:08d}.png") -> None:
    from mgld_bench.frames import write_image

    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        write_image(folder / pattern.format(i), f)


def shrink_manifest(monkeypatch: pytest.MonkeyPatch, name: str, **changes: object) -> manifest_mod.Manifest:
    """Patch the shipped manifest ``name`` with smaller frame counts/sizes for fast tests."""
    from importlib import resources

    text = (resources.files("mgld_bench.datasets") / "manifests" / f"{name}.yaml").read_text()
    data = yaml.safe_load(text)
    data.update(changes)
    if "gt_size" in changes:
        data["gt"]["size"] = changes["gt_size"]
        data["size"] = changes["gt_size"]
    parsed = manifest_mod.parse_manifest(data, f"{name}.yaml (test)")
    original = manifest_mod.load_manifest

    def fake(n: str) -> manifest_mod.Manifest:
        return parsed if n == name else original(n)

    monkeypatch.setattr("mgld_bench.datasets.standard.load_manifest", fake)
    return parsed


def make_reds4(root: Path, frames: int = 3, h: int = 32, w: int = 48, bicubic: bool = True) -> None:
    """A fake REDS layout: REDS/train/train_sharp/<clip>/00000000.png (+ X4 bicubic LR)."""
    import cv2

    for k, clip in enumerate(["000", "011", "015", "020"]):
        gt = smooth_frames(frames, h, w, seed=k)
        write_clip(root / "REDS/train/train_sharp" / clip, gt)
        if bicubic:
            lr = [cv2.resize(f, (w // 4, h // 4), interpolation=cv2.INTER_AREA) for f in gt]
            write_clip(root / "REDS/train/train_sharp_bicubic/X4" / clip, lr)


def make_videolq(root: Path, clips: int = 50, frames: int = 2) -> None:
    for k in range(clips):
        write_clip(root / "VideoLQ" / f"{k:03d}", smooth_frames(frames, 16, 24, seed=100 + k))
