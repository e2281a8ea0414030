"""RealBasicVSR throughput: frames per second at 180x320 LR input (x4 -> 720x1280).

Run: .venv/bin/python benchmarks/bench_baselines.py [--frames 3] [--threads N]
Random weights (same cost as the official ones), the full network (20+20 blocks), batch 1,
the whole clip in one sequence.  Prints fps on CPU; when torch sees a GPU, also fp32 and fp16
(autocast) fps on CUDA with the peak GPU memory.  The reference measured in the same run is
bicubic x4 (PIL, the ``bicubic`` method's kernel) on the same frames, so the ratio says how
many times slower than bicubic RealBasicVSR is on this machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def bicubic_fps(frames: np.ndarray) -> float:
    from baselines.bicubic import upscale

    t0 = time.perf_counter()
    for f in frames:
        upscale(f, 4, "pil")
    return len(frames) / (time.perf_counter() - t0)


def rbv_fps(frames: np.ndarray, device: str, fp16: bool) -> tuple[float, float | None]:
    """(fps, peak GPU memory in GiB or None) of one timed pass after one warm-up pass."""
    import torch

    from baselines.realbasicvsr.adapter import RealBasicVSR
    from baselines.realbasicvsr.arch import RealBasicVSRNet

    torch.manual_seed(0)
    net = RealBasicVSRNet(is_sequential_cleaning=True).eval().to(device)
    method = RealBasicVSR(fp16=fp16)
    warm = frames[:2] if device == "cpu" else frames
    for _ in method._forward_iter(net, warm, device):
        pass
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    n = sum(1 for _ in method._forward_iter(net, frames, device))
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None
    return n / seconds, peak


def main() -> None:
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=3, help="frames per clip on CPU (default 3)")
    p.add_argument("--cuda-frames", type=int, default=30, help="frames per clip on CUDA (default 30)")
    p.add_argument("--height", type=int, default=180)
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (max(args.frames, args.cuda_frames), args.height, args.width, 3), dtype=np.uint8)
    ref = bicubic_fps(frames[: args.frames])
    print(f"input {args.height}x{args.width} -> x4; torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    print(f"reference: bicubic x4 (PIL)            {ref:9.3f} fps")
    fps, _ = rbv_fps(frames[: args.frames], "cpu", False)
    print(f"RealBasicVSR CPU fp32 ({args.frames} frames)      {fps:9.4f} fps   ({ref / fps:,.0f}x slower than bicubic)")
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name(0)}")
        for fp16 in (False, True):
            fps, peak = rbv_fps(frames[: args.cuda_frames], "cuda", fp16)
            kind = "fp16" if fp16 else "fp32"
            print(
                f"RealBasicVSR CUDA {kind} ({args.cuda_frames} frames)   {fps:9.3f} fps   peak {peak:.2f} GiB   "
                f"({ref / fps:,.1f}x bicubic's time)"
            )
    else:
        print("CUDA: not available here (fp32/fp16 GPU figures need a GPU machine)")


if __name__ == "__main__":
    main()
