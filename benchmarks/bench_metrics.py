"""Speed of the metrics area on CPU.

1. Warping error per 1280x720 frame pair with DIS flow (forward + backward flow, warp, occlusion
   mask, error): target <= 0.1 s per pair.  Farneback is timed in the same run for reference.
2. NIQE and BRISQUE frames per second through mgld-bench (own NumPy code, ``backend=native``,
   and ``backend=pyiqa``) beside pyiqa's own per-image loop, measured in the same run on the
   same frames (target: native >= 3x pyiqa).  Weight files are stand-ins
   written to a temporary folder (timing does not depend on their values).

Run:  .venv/bin/python benchmarks/bench_metrics.py [--pairs 10] [--frames 8] [--only warping|nr]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def _clip_frames(n: int, h: int = 720, w: int = 1280) -> list[np.ndarray]:
    """A textured 720p sequence panning 3 px/frame right and 1 px/frame down."""
    import cv2

    rng = np.random.default_rng(0)
    big = rng.random((h + 4 * n + 8, w + 4 * n + 8, 3)).astype(np.float32)
    big = cv2.GaussianBlur(big, (0, 0), 3.0) * 0.7 + big * 0.3
    big = np.clip((big - big.min()) / (big.max() - big.min()) * 255, 0, 255).astype(np.uint8)
    return [np.ascontiguousarray(big[t : t + h, 3 * t : 3 * t + w]) for t in range(n)]


def bench_warping(pairs: int) -> None:
    from mgld_bench.flow import estimate_flow
    from mgld_bench.metrics.functional.warping import warp_error_pair

    frames = _clip_frames(pairs + 1)
    results = {}
    for backend in ("dis-ultrafast", "dis-fast", "dis-medium", "farneback"):
        estimate_flow(frames[0], frames[1], backend)  # warm-up
        t0 = time.perf_counter()
        for t in range(pairs):
            fwd = estimate_flow(frames[t], frames[t + 1], backend)
            bwd = estimate_flow(frames[t + 1], frames[t], backend)
            warp_error_pair(frames[t], frames[t + 1], fwd, bwd, exclude_outside=True)
        results[backend] = (time.perf_counter() - t0) / pairs
    ref = results["farneback"]
    print(f"warping error, 1280x720, {pairs} pairs, CPU threads: OpenCV default")
    for backend, s in results.items():
        print(f"  {backend:14s} {s * 1000:7.1f} ms/pair  ({s / 0.1:4.2f}x the 0.1 s budget, "
              f"{ref / s:5.2f}x faster than farneback)")


def bench_nr(frames_n: int, rounds: int = 3) -> None:
    import scipy.io
    import torch

    root = Path(tempfile.mkdtemp(prefix="mgld-bench-bench-"))
    os.environ["MGLD_BENCH_WEIGHTS"] = str(root)
    import pyiqa

    from mgld_bench.registry import METRICS
    from mgld_bench.weights import BRISQUE_SVM, NIQE_PARAMS

    rng = np.random.default_rng(1)
    a = rng.normal(size=(36, 36))
    NIQE_PARAMS.path().parent.mkdir(parents=True, exist_ok=True)
    params = {"mu_prisparam": rng.normal(size=(1, 36)), "cov_prisparam": a @ a.T + np.eye(36)}
    scipy.io.savemat(NIQE_PARAMS.path(), params)
    torch.save((torch.randn(700, 1, dtype=torch.float64), torch.rand(700, 36, dtype=torch.float64)), BRISQUE_SVM.path())
    frames = _clip_frames(frames_n)
    tensors = [torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255 for f in frames]
    print(f"no-reference metrics, 1280x720, {frames_n} frames, best of {rounds} rounds, "
          f"torch threads {torch.get_num_threads()}")
    for name, wf, kw in (("niqe", NIQE_PARAMS, {"color_space": "yiq"}), ("brisque", BRISQUE_SVM, {})):
        opts = {"color_space": "gray"} if name == "niqe" else {}
        ours = {"native": METRICS.create(name, **opts), "backend=pyiqa": METRICS.create(name, backend="pyiqa", **opts)}
        direct = pyiqa.create_metric(name, device="cpu", pretrained_model_path=str(wf.path()), **kw)
        for m in ours.values():
            m.score_batch(frames[:1], None)  # build the model once (not timed)
        direct(tensors[0])
        best: dict[str, float] = {}
        for _ in range(rounds):  # alternate the variants so that machine load hits them alike
            for b, m in ours.items():
                t0 = time.perf_counter()
                for f in frames:
                    m.score_batch([f], None)
                best[b] = max(best.get(b, 0.0), frames_n / (time.perf_counter() - t0))
            t0 = time.perf_counter()
            for x in tensors:
                direct(x)
            best["pyiqa"] = max(best.get("pyiqa", 0.0), frames_n / (time.perf_counter() - t0))
        ref = best.pop("pyiqa")
        line = "   ".join(f"mgld-bench {k}: {v:5.2f} fps ({v / ref:4.2f}x)" for k, v in best.items())
        print(f"  {name:8s} pyiqa per-image loop: {ref:5.2f} fps   {line}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=10)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--only", choices=("warping", "nr"), help="run one part")
    args = ap.parse_args()
    if args.only != "nr":
        bench_warping(args.pairs)
    if args.only != "warping":
        bench_nr(args.frames)


if __name__ == "__main__":
    main()
