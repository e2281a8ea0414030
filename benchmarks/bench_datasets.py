"""Seconds per 720p frame of `mgld-bench data prepare` on CPU, per degradation.

Run: .venv/bin/python benchmarks/bench_datasets.py [FRAMES]
Builds a fake one-clip REDS4 layout of FRAMES (default 10) 1280x720 frames in a temporary folder,
runs `prepare` (read GT PNG -> degrade -> write LR PNG + sha256, atomic) for realbasicvsr, mgld
and bicubic, and prints seconds per frame next to a reference measured in the same run: reading
one 720p GT PNG and writing one 320x180 PNG (the I/O any prepare must do).  Peak memory is
printed too: frames stream through the pipeline, so it must not grow with the clip length.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np


def fake_clip(folder: Path, frames: int) -> None:
    import cv2

    from mgld_bench.frames import write_image

    rng = np.random.default_rng(0)
    base = cv2.resize(rng.uniform(0, 255, (200, 340, 3)).astype(np.float32), (1280 + 4 * frames, 720),
                      interpolation=cv2.INTER_CUBIC)
    folder.mkdir(parents=True)
    for i in range(frames):
        write_image(folder / f"{i:08d}.png", np.clip(base[:, 4 * i : 4 * i + 1280], 0, 255).astype(np.uint8))


def io_reference(folder: Path, out: Path) -> float:
    import cv2

    from mgld_bench.frames import encode_png, read_image

    files = sorted(folder.glob("*.png"))
    t0 = time.perf_counter()
    for f in files:
        img = read_image(f)
        (out / f.name).write_bytes(encode_png(cv2.resize(img, (320, 180), interpolation=cv2.INTER_AREA)))
    return (time.perf_counter() - t0) / len(files)


def main() -> None:
    import yaml

    from mgld_bench.datasets import manifest as manifest_mod
    from mgld_bench.datasets.prepare import prepare
    from mgld_bench.registry import DATASETS

    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    text = (Path(manifest_mod.__file__).parent / "manifests" / "reds4.yaml").read_text()
    data = yaml.safe_load(text)
    data.update(clips=["000"], frames=frames)
    small = manifest_mod.parse_manifest(data, "reds4 (bench)")
    with tempfile.TemporaryDirectory() as tmp, mock.patch(
        "mgld_bench.datasets.standard.load_manifest", lambda name: small
    ):
        root = Path(tmp)
        fake_clip(root / "REDS/train/train_sharp/000", frames)
        (root / "io").mkdir()
        ref = io_reference(root / "REDS/train/train_sharp/000", root / "io")
        print(f"reference (read 720p PNG + write 320x180 PNG): {ref:.3f} s/frame")
        for deg in ("bicubic", "mgld", "realbasicvsr"):
            per_frame = []
            for seed in (0, 1, 2):
                t0 = time.perf_counter()
                prepare(DATASETS.create("reds4", root=str(root)), degradation=deg, seed=seed, progress=False)
                per_frame.append((time.perf_counter() - t0) / frames)
            print(
                f"data prepare --degradation {deg:12s}: {np.mean(per_frame):.3f} s per 720p frame "
                f"(seeds 0-2: {', '.join(f'{v:.3f}' for v in per_frame)}; "
                f"{np.mean(per_frame) / ref:.1f}x the I/O reference)"
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MB for a {frames}-frame 720p clip")


if __name__ == "__main__":
    main()
