"""Speed and memory of ``mgld`` (in-process MGLD) and of ``mgld-sd`` against ``sd-x4``.

``--mgld``: the in-process ``mgld`` method, each configuration in a fresh process, printing
seconds per frame and peak memory, and the ratio guided / unguided (``mgld.guidance=off``, the
cost of the motion guidance).  Without ``--weights`` it writes tiny random checkpoints and runs
the tiny configuration; with ``--weights DIR`` (holding ``mgldvsr_unet.ckpt`` and
``video_vae_cfw.ckpt``) the full model.  Sizes are output sizes (4x the LR):

    python benchmarks/bench_mgld.py --mgld                                      # tiny, CPU
    python benchmarks/bench_mgld.py --mgld --weights W --device cuda --out-sizes 512x512,1280x720 \
        --precisions fp16,fp32                                                  # full size, GPU

``--full-memory``: the released network sizes with random weights on the CPU (no checkpoint
needed), each phase in a fresh process: one UNet + LR-encoder step on one latent tile of the
size the pipeline uses (5 frames x 4 x 64 x 64, a 512-px region), and the SD-VAE encode, video-VAE
feature encode and CFW decode of 5-frame pixel tiles (``--vae-sides``, default 128,256).  It
prints the parameter bytes, the peak RSS and its growth over the built model per phase, and the
decode figures scaled by area to the 736x960 outer tile of a 1280x720 output (activations grow
with the area: the two VAE sides show how closely):

    nice python benchmarks/bench_mgld.py --full-memory --threads 2

Without ``--mgld``: ``mgld-sd`` against ``sd-x4``.

Runs both methods on the same synthetic clip with the tiny random upscaler of
``mgld_bench.testing`` (or a real model folder with ``--model``), each in a fresh process, and
prints seconds per frame, peak memory and the ratio mgld-sd / sd-x4 (the cost of the guidance:
flow estimation, occlusion masks and one gradient step per denoising step).

    python benchmarks/bench_mgld.py                      # tiny model, CPU
    python benchmarks/bench_mgld.py --device cuda        # CUDA, fp16 weights
    python benchmarks/bench_mgld.py --model stabilityai/stable-diffusion-x4-upscaler --device cuda --size 128

Peak memory is the GPU's ``max_memory_allocated`` on CUDA; on CPU the process's peak resident
set size (``ru_maxrss``) and its growth during the run (after the model is loaded).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _measure(method_name: str, args: dict, queue: mp.Queue) -> None:
    import numpy as np
    import torch

    from mgld_bench.frames import ArrayFrames, Clip
    from mgld_bench.methods.mgld.sd import MGLDGuidedSD, SDx4Upscaler

    torch.set_num_threads(args["threads"])
    rng = np.random.default_rng(0)
    n, size = args["frames"], args["size"]
    big = rng.integers(0, 255, size=(size, size + 2 * n, 3), dtype=np.uint8)
    frames = [np.ascontiguousarray(big[:, 2 * (n - i) : 2 * (n - i) + size]) for i in range(n)]
    clip = Clip("bench", "moving", ArrayFrames(frames, "bench LR"), scale=4)
    cls = MGLDGuidedSD if method_name == "mgld-sd" else SDx4Upscaler
    method = cls(model=args["model"], steps=args["steps"], tile=args["tile"], fp16=True)
    device = args["device"]
    method.pipeline(device)  # load outside the timing
    queue.put(_timed_run(method, clip, device))


def _measure_mgld(args: dict, queue: mp.Queue) -> None:
    import numpy as np
    import torch

    from mgld_bench.frames import ArrayFrames, Clip
    from mgld_bench.methods.mgld.method import MGLD

    torch.set_num_threads(args["threads"])
    h, w = args["out_size"]
    n = args["frames"]
    rng = np.random.default_rng(0)
    big = rng.integers(0, 255, size=(h // 4, w // 4 + 2 * n, 3), dtype=np.uint8)
    frames = [np.ascontiguousarray(big[:, 2 * (n - i) : 2 * (n - i) + w // 4]) for i in range(n)]
    clip = Clip("bench", "moving", ArrayFrames(frames, "bench LR"), scale=4)
    method = MGLD(config=args["config"], steps=args["steps"], precision=args["precision"],
                  guidance=args["guidance"], unet_ckpt=args["unet"], vae_ckpt=args["vae"])
    device = args["device"]
    method.load(device)  # outside the timing
    queue.put(_timed_run(method, clip, device))


def _timed_run(method, clip, device: str) -> dict:
    """Seconds per frame and peak memory of one ``method.run`` (the model is already loaded)."""
    import torch

    from mgld_bench.methods.base import RunContext

    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    out = list(method.run(clip, RunContext(device=device, seed=0)))
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    result = {"seconds_per_frame": seconds / len(out), "frames": len(out)}
    if device.startswith("cuda"):
        result.update(peak_mb=torch.cuda.max_memory_allocated() / 2**20, memory="GPU max_memory_allocated")
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        result.update(peak_mb=peak, growth_mb=max(peak - rss_before, 0.0), memory="process peak RSS")
    return result


def _full_phase(args: dict, queue: mp.Queue) -> None:
    """One ``--full-memory`` phase with the released sizes and random weights, on the CPU."""
    import torch

    from mgld_bench.methods.mgld.config import MGLDConfig
    from mgld_bench.methods.mgld.layout import build

    torch.set_num_threads(args["threads"])
    torch.manual_seed(0)
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args["precision"]]
    cfg = MGLDConfig.full()
    names = ("unet", "encoder") if args["phase"] == "unet" else ("vae", "video_vae")
    mods = {}
    for name in names:
        m = build(name, cfg, "cpu").to(dtype).requires_grad_(False)
        for t in m.state_dict().values():  # parameters the constructors leave undefined
            if t.is_floating_point():
                torch.nan_to_num_(t, 0.0, 0.0, 0.0)
        mods[name] = m
    param_bytes = sum(t.numel() * t.element_size() for m in mods.values() for t in m.state_dict().values())
    built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    with torch.no_grad():
        if args["phase"] == "unet":
            n, lat = 5, 64
            x = torch.randn(n, 4, lat, lat, dtype=dtype)
            lr = torch.randn(n, 4, lat, lat, dtype=dtype)
            tt = torch.full((n,), 500, dtype=torch.long)
            ctx = torch.randn(1, 77, 1024, dtype=dtype)
            struct = mods["encoder"](lr, tt)
            mods["unet"](x, tt, ctx, struct, n)
        else:
            side = args["side"]
            img = torch.rand(5, 3, side, side, dtype=dtype) * 2 - 1
            mean, _ = mods["vae"].encode_moments(img)
            feats = mods["video_vae"].encode_features(img)
            mods["video_vae"].decode(mean / 0.18215, feats, 1.0, 5)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"param_mb": param_bytes / 2**20, "built_mb": built, "peak_mb": peak,
               "growth_mb": max(peak - built, 0.0), "seconds": seconds})


def main_full_memory(args: argparse.Namespace) -> int:
    """``--full-memory``: see the module docstring."""
    sides = [int(v) for v in args.vae_sides.split(",")]
    conf = {"threads": args.threads, "precision": args.precision}
    print(f"mgld full size, random weights, CPU {args.precision}, {args.threads} thread(s); "
          "memory = process peak RSS (growth = over the built networks)")
    unet = _run_in_child(_full_phase, {**conf, "phase": "unet"})
    print(f"  UNet + LR encoder, one step on 5x4x64x64: params {unet['param_mb']:.0f} MB, "
          f"peak {unet['peak_mb']:.0f} MB, growth {unet['growth_mb']:.0f} MB, {unet['seconds']:.1f} s")
    rows = {"unet": unet}
    tile = 736 * 960  # the outer tile of a 1280x720 output (padded to 1312x736)
    for side in sides:
        r = _run_in_child(_full_phase, {**conf, "phase": "vae", "side": side})
        scaled = r["growth_mb"] * tile / side**2
        print(f"  SD-VAE encode + video-VAE features + CFW decode, 5x{side}x{side}: params {r['param_mb']:.0f} MB, "
              f"peak {r['peak_mb']:.0f} MB, growth {r['growth_mb']:.0f} MB, {r['seconds']:.1f} s; "
              f"growth scaled to a 5x736x960 tile: {scaled / 1024:.1f} GB")
        rows[f"vae{side}"] = {**r, "growth_scaled_720p_tile_mb": scaled}
    print(json.dumps(rows))
    return 0


def _run_in_child(target, conf: dict) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(conf, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main_mgld(args: argparse.Namespace) -> int:
    sizes = [tuple(int(v) for v in s.lower().split("x"))[::-1] for s in args.out_sizes.split(",")]  # WxH -> (h, w)
    with tempfile.TemporaryDirectory() as tmp:
        if args.weights:
            unet, vae = Path(args.weights) / "mgldvsr_unet.ckpt", Path(args.weights) / "video_vae_cfw.ckpt"
            config = "full"
        else:
            from mgld_bench.testing.tiny_mgld import write_tiny_checkpoints

            unet, vae = write_tiny_checkpoints(Path(tmp) / "weights")
            config = "tiny"
        print(f"mgld ({config}), {args.device}, {args.frames} frames, {args.steps} steps, {args.threads} thread(s)")
        rows = []
        for size in sizes:
            for precision in args.precisions.split(","):
                res = {}
                for guidance in (True, False):
                    conf = {"out_size": size, "frames": args.frames, "steps": args.steps, "threads": args.threads,
                            "device": args.device, "precision": precision, "guidance": guidance, "config": config,
                            "unet": str(unet), "vae": str(vae)}
                    res[guidance] = _run_in_child(_measure_mgld, conf)
                g, p = res[True], res[False]
                extra = f", growth {g['growth_mb']:.0f} MB" if "growth_mb" in g else ""
                ratio = g["seconds_per_frame"] / p["seconds_per_frame"]
                print(f"  {size[1]}x{size[0]} {precision}: {g['seconds_per_frame']:.2f} s/frame, peak "
                      f"{g['peak_mb']:.0f} MB ({g['memory']}{extra}); without guidance "
                      f"{p['seconds_per_frame']:.2f} s/frame; ratio {ratio:.2f}x")
                rows.append({"size": size, "precision": precision, "guided": g, "unguided": p})
    print(json.dumps(rows))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="diffusers folder or hub id (default: the tiny random upscaler)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--frames", type=int, default=10)
    p.add_argument("--size", type=int, default=32, help="LR frame side (px)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--tile", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--mgld", action="store_true", help="benchmark the in-process mgld method instead")
    p.add_argument("--weights", help="(--mgld) folder with the two released checkpoints (default: tiny random ones)")
    p.add_argument("--out-sizes", default="512x512", help="(--mgld) output sizes WxH, comma-separated")
    p.add_argument("--precisions", default="auto", help="(--mgld) auto,fp32,fp16,bf16 (comma-separated)")
    p.add_argument("--full-memory", action="store_true",
                   help="peak CPU memory of the released network sizes (random weights), see above")
    p.add_argument("--vae-sides", default="128,256", help="(--full-memory) pixel sides of the VAE tiles")
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"), help="(--full-memory) weights dtype")
    args = p.parse_args()
    if args.full_memory:
        return main_full_memory(args)
    if args.mgld:
        if args.steps == 20:
            args.steps = 2 if args.weights is None else 50
        if args.frames == 10:
            args.frames = 5
        return main_mgld(args)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            from mgld_bench.testing.tiny_upscaler import save_tiny_upscaler

            model = str(save_tiny_upscaler(Path(tmp) / "tiny-x4"))
        conf = {**vars(args), "model": model}
        ctx = mp.get_context("spawn")
        results = {}
        for name in ("sd-x4", "mgld-sd"):
            queue = ctx.Queue()
            proc = ctx.Process(target=_measure, args=(name, conf, queue))
            proc.start()
            results[name] = queue.get()
            proc.join()
    label = "tiny random upscaler" if args.model is None else args.model
    print(
        f"{label}, {args.device}, {args.frames} frames of {args.size}x{args.size} LR, {args.steps} steps, "
        f"{args.threads} thread(s)"
    )
    for name, r in results.items():
        extra = f", growth during run {r['growth_mb']:.0f} MB" if "growth_mb" in r else ""
        print(f"  {name:8s} {r['seconds_per_frame']:.3f} s/frame, peak {r['peak_mb']:.0f} MB ({r['memory']}){extra}")
    ratio = results["mgld-sd"]["seconds_per_frame"] / results["sd-x4"]["seconds_per_frame"]
    print(f"  ratio mgld-sd / sd-x4 (cost of the motion guidance): {ratio:.2f}x")
    print(json.dumps({"results": results, "ratio": ratio}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
