"""Small fakes shared by the tests: clips, frame folders, dataset layouts, a method and a metric.

Import from here (``from tests.fakes import make_clip``), never from ``conftest.py``, which
holds fixtures only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import yaml

from mgld_bench.datasets import manifest as manifest_mod
from mgld_bench.frames import ArrayFrames, Clip
from mgld_bench.methods.base import Method, RunContext
from mgld_bench.metrics.base import FrameMetric
from mgld_bench.specs import MetricFacts, Tolerance


def random_frames(rng: np.random.Generator, n: int, h: int, w: int, high: int = 256) -> list[np.ndarray]:
    """``n`` uint8 RGB frames of uniform noise in ``[0, high)``."""
    return [rng.integers(0, high, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def noise_frames(n: int, h: int, w: int, seed: int = 0, high: int = 256) -> list[np.ndarray]:
    """:func:`random_frames` from a fresh generator seeded with ``seed``."""
    return random_frames(np.random.default_rng(seed), n, h, w, high)


def clip_of(
    lr: list[np.ndarray], gt: list[np.ndarray] | None = None, scale: int = 4, dataset: str = "toy", name: str = "c"
) -> Clip:
    """A clip of the given LR (and GT) frames."""
    truth = ArrayFrames(gt, f"{name} GT") if gt is not None else None
    return Clip(dataset, name, ArrayFrames(lr, f"{name} LR"), truth, scale=scale)


def make_clip(
    rng: np.random.Generator,
    n: int = 3,
    h: int = 10,
    w: int = 12,
    scale: int = 4,
    gt: bool = False,
    name: str = "c0",
) -> Clip:
    """A clip of ``n`` random LR frames of h x w (and, with ``gt``, GT frames ``scale`` x larger)."""
    lr = ArrayFrames(random_frames(rng, n, h, w))
    truth = ArrayFrames(random_frames(rng, n, h * scale, w * scale)) if gt else None
    return Clip("toy", name, lr, truth, scale=scale)


def clip_from_gt(gt: list[np.ndarray], scale: int = 4, name: str = "c") -> Clip:
    """A clip whose LR frames are the GT frames subsampled by ``scale``."""
    return clip_of([f[::scale, ::scale] for f in gt], gt, scale, name=name)


def write_frames(folder: Path, frames: list[np.ndarray], fmt: str = "png") -> list[Path]:
    """Write uint8 RGB frames as 00000000.png, 00000001.png, ... and return their paths."""
    from mgld_bench.methods.external import write_input_frames

    return write_input_frames(frames, folder, fmt)  # type: ignore[arg-type]


class NearestMethod(Method):
    """A deterministic method: nearest-neighbour upscaling by the clip's scale."""

    name = "fake-nearest"
    summary = "nearest-neighbour upscaling (tests only)"

    def run(self, clip: Clip, ctx: RunContext) -> Iterable[np.ndarray]:
        s = clip.scale
        for frame in clip.lr:
            yield frame.repeat(s, axis=0).repeat(s, axis=1)


class MeanAbsDiff(FrameMetric):
    """A full-reference metric that declares its facts as a plugin would: mean |SR - GT|."""

    name = "fake-mad"
    summary = "mean absolute difference (tests only)"
    facts: ClassVar[MetricFacts] = MetricFacts(  # type: ignore[misc]
        "MAD", "full-reference", False, ("sr", "gt"), decimals=3,
        tolerance=Tolerance(1e-9, 0.0, "exact arithmetic on uint8 frames"),
    )
    defaults: ClassVar[dict[str, Any]] = {}

    def score_batch(self, srs: list[np.ndarray], gts: list[np.ndarray] | None) -> list[float]:
        assert gts is not None
        return [float(np.mean(np.abs(s.astype(float) - g.astype(float)))) for s, g in zip(srs, gts, strict=True)]


# -- dataset layouts ---------------------------------------------------------------------------
def smooth_frames(n: int, h: int, w: int, seed: int) -> list[np.ndarray]:
    """``n`` smooth, slowly moving uint8 RGB frames (textured enough for compression to matter)."""
    import cv2

    rng = np.random.default_rng(seed)
    base = rng.uniform(0, 255, size=(h // 4 + 2, w // 4 + 2, 3)).astype(np.float32)
    base = cv2.resize(base, (w + 8 * n, h + 8), interpolation=cv2.INTER_CUBIC)
    return [np.clip(base[4 : 4 + h, 2 * i : 2 * i + w], 0, 255).astype(np.uint8) for i in range(n)]


def textured_frames(n: int, h: int, w: int, seed: int, sigma: float = 2.0) -> list[np.ndarray]:
    """``n`` independent uint8 RGB frames: white noise mixed with its Gaussian blur (``sigma``),
    so learned metrics see both texture and structure."""
    import cv2

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        noise = rng.random((h, w, 3)).astype(np.float32)
        smooth = cv2.GaussianBlur(noise, (0, 0), sigma) * 0.6 + noise * 0.4
        out.append(np.clip(smooth * 255, 0, 255).astype(np.uint8))
    return out


def unit_tensor(frames: list[np.ndarray]) -> Any:
    """uint8 RGB frames -> float32 (N, 3, H, W) in [0, 1], as a user calls pyiqa or lpips directly."""
    import torch

    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255.0


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


def rrdbnet_state(nf: int = 8, gc: int = 32, seed: int = 0) -> dict[str, Any]:
    """A Real-ESRGAN RRDBNet x4 state dict (BasicSR key names), 1 block, 8 features, random weights.

    spandrel infers every size from the shapes but assumes 32 growth channels, as all releases use.
    """
    import torch

    g = torch.Generator().manual_seed(seed)

    def conv(cout: int, cin: int) -> dict[str, Any]:
        return {"weight": torch.randn(cout, cin, 3, 3, generator=g) * 0.05, "bias": torch.zeros(cout)}

    sd: dict[str, Any] = {}

    def put(name: str, cout: int, cin: int) -> None:
        for k, v in conv(cout, cin).items():
            sd[f"{name}.{k}"] = v

    put("conv_first", nf, 3)
    for r in (1, 2, 3):
        for i in range(1, 5):
            put(f"body.0.rdb{r}.conv{i}", gc, nf + (i - 1) * gc)
        put(f"body.0.rdb{r}.conv5", nf, nf + 4 * gc)
    for name in ("conv_body", "conv_up1", "conv_up2", "conv_hr"):
        put(name, nf, nf)
    put("conv_last", 3, nf)
    return sd


def write_lpips_alex_weights(wdir: Path, seed: int = 0) -> None:
    """Random LPIPS v0.1 AlexNet weights (torchvision trunk + linear heads) under their real file
    names in the weights folder ``wdir``: what the learned-metric tests score with."""
    import torch
    import torchvision

    from mgld_bench.weights import ALEXNET, LPIPS_ALEX_HEAD

    torch.manual_seed(seed)
    heads = {f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate([64, 192, 384, 256, 256])}
    for obj, wf in ((torchvision.models.alexnet(weights=None).state_dict(), ALEXNET), (heads, LPIPS_ALEX_HEAD)):
        wf.path(wdir).parent.mkdir(parents=True, exist_ok=True)
        torch.save(obj, wf.path(wdir))


def noisy_frames(frames: list[np.ndarray], seed: int, amp: int = 20) -> list[np.ndarray]:
    """``frames`` plus uniform integer noise in [-amp, amp], clipped to uint8: a stand-in output."""
    rng = np.random.default_rng(seed)
    return [np.clip(f.astype(np.int16) + rng.integers(-amp, amp + 1, f.shape), 0, 255).astype(np.uint8)
            for f in frames]


class PickledTouch:
    """Unpickling this calls ``Path.touch`` on ``path``: a weight file holding it must be refused
    before anything runs (the marker file stays absent)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.path,))
