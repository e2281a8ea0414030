"""GT-side features across runs (``gt_cache``): a later run that adds one method to a clip.

Run: .venv/bin/python benchmarks/bench_gt_cache.py [--size 1280x720] [--frames 3] [--metrics lpips,dists]
     [--repeats 3]

For each metric: run 1 scores method A's output on a clip (the GT features are computed and, with
``gt_cache=on``, stored), run 2 scores a new method B's output on the same clip -- once with the
cache on (GT features read back, memory-mapped) and once with it off (computed again).  Prints
run 2's wall time both ways, the ratio, and the disk the stored features take.  The model is
loaded before timing (a real run adds the same load time to both).  Weights: the weights folder's
when present, else random weights of the same architecture (same work, other values).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def _random_weights(root: Path) -> None:
    import torch
    import torchvision

    from mgld_bench.weights import ALEXNET, DISTS_HEAD, LPIPS_ALEX_HEAD, VGG16

    torch.manual_seed(0)
    files = {
        ALEXNET: lambda: torchvision.models.alexnet(weights=None).state_dict(),
        LPIPS_ALEX_HEAD: lambda: {f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1)
                                  for k, c in enumerate([64, 192, 384, 256, 256])},
        VGG16: lambda: torchvision.models.vgg16(weights=None).state_dict(),
        DISTS_HEAD: lambda: {"alpha": torch.rand(1, 1475, 1, 1), "beta": torch.rand(1, 1475, 1, 1)},
    }
    for wf, make in files.items():
        if not wf.path(root).is_file():
            wf.path(root).parent.mkdir(parents=True, exist_ok=True)
            torch.save(make(), wf.path(root))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--frames", type=int, default=3)
    ap.add_argument("--metrics", default="lpips,dists")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))

    tmp = Path(tempfile.mkdtemp(prefix="bench-gtcache-"))
    from mgld_bench.weights import ALEXNET, DISTS_HEAD, LPIPS_ALEX_HEAD, VGG16, weights_dir

    real = all(wf.path().is_file() for wf in (ALEXNET, LPIPS_ALEX_HEAD, VGG16, DISTS_HEAD))
    if not real:
        os.environ["MGLD_BENCH_WEIGHTS"] = str(tmp / "weights")
        os.environ.setdefault("MGLD_BENCH_TRUST_FIRST_USE", "1")
        _random_weights(tmp / "weights")
        import mgld_bench.weight_trust as trust

        trust.CHECK_PUBLISHED_ON_LOAD = False  # random stand-ins under the released names
    from mgld_bench.frames import ArrayFrames, Clip
    from mgld_bench.metrics.backends.base import load_model
    from mgld_bench.protocol import DEFAULT
    from mgld_bench.registry import METRICS
    from mgld_bench.runner.device import configure_threads
    from mgld_bench.runner.jobs import run_score_job, score_job
    from mgld_bench.specs import InferJob, Ref
    from mgld_bench.store.cache import Cache

    threads = configure_threads()
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, size=(h, w + 4 * args.frames, 3), dtype=np.uint8)
    gt = [np.ascontiguousarray(base[:, 4 * i:4 * i + w]) for i in range(args.frames)]  # a moving texture
    out_a = [np.clip(f.astype(np.int16) + rng.integers(-20, 21, f.shape), 0, 255).astype(np.uint8) for f in gt]
    clip = Clip("bench", "c", ArrayFrames([f[::4, ::4] for f in gt]), ArrayFrames(gt), scale=4)
    infer = InferJob(Ref("method", "frames"), Ref("dataset", clip.dataset), clip.name, "{}", (), "null",
                     clip.lr.digest(), clip.scale, None)

    def score(cache: Cache, frames: list[np.ndarray], name: str, setting: str) -> tuple[float, list[float]]:
        metric = METRICS.create(name, gt_cache=setting)
        sr = ArrayFrames(frames)
        job = score_job(infer, sr.digest(), clip, DEFAULT, [metric])
        t0 = time.perf_counter()
        res = run_score_job(job, sr, clip, cache, DEFAULT, "cpu", [metric])
        return time.perf_counter() - t0, [res[name][0].frames[i] for i in range(len(frames))]

    print(f"clip: {args.frames} frames {w}x{h}, CPU, {threads} threads, "
          f"{'released' if real else 'random stand-in'} weights ({weights_dir()})")
    for name in args.metrics.split(","):
        load_model(METRICS.create(name).spec(), "pyiqa", "cpu")  # loaded before timing
        score(Cache(tmp / f"warm-{name}"), out_a, name, "off")  # first-call warm-up, untimed
        caches = {setting: Cache(tmp / f"cache-{name}-{setting}") for setting in ("off", "on")}
        times: dict[str, list[float]] = {"off": [], "on": []}
        values: dict[str, list[list[float]]] = {"off": [], "on": []}
        for setting, cache in caches.items():
            score(cache, out_a, name, setting)  # run 1: method A
        for r in range(args.repeats):  # run 2: adds a method B (a new output each repeat: no score hit)
            out_b = [np.clip(f.astype(np.int16) + rng.integers(-9 - r, 10 + r, f.shape), 0, 255).astype(np.uint8)
                     for f in gt]
            for setting in (("off", "on") if r % 2 == 0 else ("on", "off")):
                t, v = score(caches[setting], out_b, name, setting)
                times[setting].append(t)
                values[setting].append(v)
        disk = sum(p.stat().st_size for p in (caches["on"].root / "gtfeat").rglob("*.arrays"))
        off, on = float(np.median(times["off"])), float(np.median(times["on"]))
        print(f"{name}: run 2 (one method added), median of {args.repeats}: gt_cache=off {off:.2f} s, "
              f"on {on:.2f} s, on/off = {on / off:.2f}; gtfeat on disk {disk / 2**20:.1f} MiB "
              f"({disk / args.frames / 2**20:.1f} MiB per frame); values bit-identical: "
              f"{values['on'] == values['off']}")
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
