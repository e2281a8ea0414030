"""Local executor vs Ray executor (2 workers) on a CPU-bound run, in one process.

Run: .venv/bin/python benchmarks/bench_executor.py [--workload bicubic-flow|realbasicvsr]
         [--clips N] [--size GT] [--frames N] [--skip-pinned]
Workloads, each on ``--clips`` clips written as a folder dataset (synthetic scenes, several
seeds), each run from an empty cache:

* ``bicubic-flow`` (default): bicubic + PSNR + warping error (DIS flow on the CPU); defaults 16
  clips x 16 frames of 384x384 GT, about 0.8 s of CPU per clip;
* ``realbasicvsr``: RealBasicVSR x4 at its released size (20 + 20 residual blocks) with random
  weights written under the real file name in a temporary weights folder, + PSNR; defaults 8
  clips x 6 frames of 256x256 GT (64x64 LR, the smallest it takes unpadded), several CPU
  seconds per clip, as a real VSR method is.

The defaults make each job long enough that its own work, not Ray's per-task cost, decides the
time.  Target: Ray with 2 workers at least 1.6x faster than the local loop on 2 idle cores.

Timed runs: the local loop as users run it (OpenCV/torch threads = every core), the local loop
pinned to one OpenCV/torch thread (``MGLD_BENCH_THREADS=1``; left out with ``--skip-pinned``),
and Ray with 2 one-CPU workers (one thread each).  Printed: the wall times and their ratios;
start-up (imports, ``ray.init``, Ray's worker processes starting and importing) outside the
timings and then the ratio with it included; the CPU seconds of each run (this process and
everything under it, Ray's workers and daemons included: figures that hold better than wall
times on a loaded machine), the cores each run kept busy and the ceiling they imply,
``2 x T_local / CPU_local`` (Ray's 2 workers can at best split the local run's work in two; the
local loop already runs DIS flow / torch's convolutions on both cores); the Ray overhead per
job, in wall time beyond that perfect split and in CPU; the empty-task round trip.
No GPU is lent in this session: no 1-GPU figure.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from pathlib import Path


def write_clips(root: Path, n_clips: int, size: int, frames: int) -> None:
    from mgld_bench.frames import write_image
    from mgld_bench.registry import DATASETS

    made = 0
    for seed in range(100):
        ds = DATASETS.create("synthetic", frames=frames, size=size, seed=seed)
        for name in ds.clip_names():
            clip = ds.clip(name)
            for kind, seq in (("lr", clip.lr), ("gt", clip.gt)):
                folder = root / kind / f"{name}-s{seed}"
                folder.mkdir(parents=True)
                for i, frame in enumerate(seq):
                    write_image(folder / f"{i:04d}.png", frame)
            made += 1
            if made == n_clips:
                return


#: workload -> (methods, metrics, default clips, frames, GT size)
WORKLOADS = {
    "bicubic-flow": (["bicubic"], ["psnr", "warping-error"], 16, 16, 384),
    "realbasicvsr": (["realbasicvsr"], ["psnr"], 8, 6, 256),
}
#: The random RealBasicVSR checkpoint: a file of the user's in the weights folder (trusted on
#: first use; the released name would be checked against the released sha256 in every worker).
RANDOM_REALBASICVSR = "RealBasicVSR_x4_random.pth"


def write_random_realbasicvsr(weights: Path) -> None:
    """RealBasicVSR's released architecture with random weights (seeded), as
    :data:`RANDOM_REALBASICVSR` in ``weights`` (the folder ``MGLD_BENCH_WEIGHTS`` points at)."""
    import torch

    from baselines.realbasicvsr.arch import RealBasicVSRNet

    torch.manual_seed(0)
    state = RealBasicVSRNet().state_dict()
    path = weights / "mgld_bench" / RANDOM_REALBASICVSR
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {f"{b}.{k}": v for b in ("generator", "generator_ema") for k, v in state.items()}},
               path)


def warm() -> None:
    """Import what the jobs import (so that start-up is not timed in either executor)."""
    import cv2  # noqa: F401

    import baselines.bicubic
    import baselines.realbasicvsr.adapter
    import baselines.realbasicvsr.arch
    import baselines.realbasicvsr.checkpoint  # noqa: F401
    import mgld_bench.metrics.fidelity
    import mgld_bench.metrics.temporal
    import mgld_bench.runner.jobs  # noqa: F401
    from mgld_bench.runner.device import resolve_device

    resolve_device("auto")  # imports torch (seconds): every job resolves --device auto


def run(executor: object, root: Path, tag: str, workload: str, **kw: object) -> tuple[float, object]:
    from mgld_bench.runner.plan import build_plan
    from mgld_bench.store.cache import Cache
    from mgld_bench.store.results import ResultStore

    methods, metrics = WORKLOADS[workload][:2]
    options: dict[str, dict[str, str]] = {f"folder:{root / 'lr'}": {"gt": str(root / "gt")}}
    if "realbasicvsr" in methods:
        options["realbasicvsr"] = {"weights": RANDOM_REALBASICVSR}
    plan = build_plan([f"folder:{root / 'lr'}"], methods, metrics, options)
    with ResultStore(root / f"{tag}.sqlite") as store:
        run_id = store.start_run(["bench"], {})
        t0 = time.perf_counter()
        summary = executor(plan, Cache(root / f"cache-{tag}"), store, run_id, progress=False, **kw)  # type: ignore[operator]
        wall = time.perf_counter() - t0
        rows = sorted((r["clip"], r["metric"], r["value"]) for r in store.clip_rows())
    return wall, (summary, rows)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and every process under it (a local Ray's GCS,
    raylet and workers are started under the driver): the work done, whatever the load."""
    return sum(cpu_by_part().values())


def main_thread_cpu() -> float:
    """CPU seconds of this process's main thread: the local loop's serial path.  On idle cores the
    loop's wall time is about this (it runs it one after another; the other threads run beside
    it), which gives an estimate for idle cores that holds on a loaded machine -- when threads
    do not spin while they wait (``--omp-wait passive``)."""
    import psutil

    me = psutil.Process()
    return sum(t.user_time + t.system_time for t in me.threads() if t.id == me.pid)


def cpu_by_part() -> dict[str, float]:
    """:func:`cpu_seconds` split into this process (the driver), Ray's worker processes (their
    task thread; Ray's own threads in them; threads that have ended: the score passes'
    decode-ahead threads) and the rest (Ray's daemons)."""
    import psutil

    me = psutil.Process()
    parts = {"driver": sum(me.cpu_times()[:2]), "task": 0.0, "ray threads": 0.0, "ended threads": 0.0,
             "daemons": 0.0}
    for child in me.children(recursive=True):
        try:
            total = sum(child.cpu_times()[:2])
            if not child.name().startswith("ray::") and "default_worker" not in " ".join(child.cmdline()):
                parts["daemons"] += total
                continue
            threads = child.threads()
        except psutil.Error:  # exited meanwhile
            continue
        main = sum(t.user_time + t.system_time for t in threads if t.id == child.pid)
        live = sum(t.user_time + t.system_time for t in threads)
        parts["task"] += main
        parts["ray threads"] += live - main
        parts["ended threads"] += max(0.0, total - live)
    return parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=sorted(WORKLOADS), default="bicubic-flow")
    ap.add_argument("--clips", type=int, help="clips (default: 16 for bicubic-flow, 8 for realbasicvsr)")
    ap.add_argument("--size", type=int, help="GT size of the synthetic scenes (default: 384 / 256)")
    ap.add_argument("--frames", type=int, help="frames per clip (default: 16 / 6; bicubic runs 16-frame chunks)")
    ap.add_argument("--skip-pinned", action="store_true", help="leave out the local run pinned to 1 thread")
    ap.add_argument("--omp-wait", choices=("default", "passive"), default="default",
                    help="OMP_WAIT_POLICY of every process (passive: torch's OpenMP threads sleep at barriers "
                    "instead of spinning; on a loaded machine the spinning burns CPU other processes hold)")
    ap.add_argument("--threads", type=int, default=0,
                    help="pin OpenCV/OpenMP threads per process (0: the executors' own setting: the local run "
                    "uses every core, each Ray task as many threads as CPUs it was given)")
    args = ap.parse_args()
    _, _, clips, frames, size = WORKLOADS[args.workload]
    args.clips, args.frames, args.size = args.clips or clips, args.frames or frames, args.size or size
    if args.threads:  # before cv2/numpy load; a local Ray's workers inherit the environment
        for var in ("OPENCV_FOR_THREADS_NUM", "OMP_NUM_THREADS", "MGLD_BENCH_THREADS"):
            os.environ[var] = str(args.threads)
    if args.omp_wait == "passive":  # before torch loads libgomp
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"

    import ray

    from mgld_bench.runner import local, ray_exec
    from mgld_bench.runner.device import configure_threads

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        warm()  # imports out of the timings (each Ray worker gets the same below)
        t_imports = time.perf_counter() - t0
        if args.workload == "realbasicvsr":  # before ray.init: the local Ray's workers inherit it
            os.environ["MGLD_BENCH_WEIGHTS"] = str(root / "weights")
            write_random_realbasicvsr(root / "weights")
        write_clips(root, args.clips, args.size, args.frames)
        load = os.getloadavg()
        threads = configure_threads()
        c0, m0 = cpu_seconds(), main_thread_cpu()
        t_local, (s_local, rows_local) = run(local.execute, root, "local", args.workload)
        c_local, m_local = cpu_seconds() - c0, main_thread_cpu() - m0

        t_local1 = c_local1 = math.nan
        rows_local1 = rows_local
        if not args.skip_pinned:
            configure_threads(1)
            c0 = cpu_seconds()
            t_local1, (_, rows_local1) = run(local.execute, root, "local1", args.workload)
            c_local1 = cpu_seconds() - c0
            configure_threads(threads)

        t0 = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
        t_init = time.perf_counter() - t0
        t0 = time.perf_counter()
        ray.get([ray.remote(num_cpus=1)(warm).remote() for _ in range(2)])  # start both workers, import
        t_workers = time.perf_counter() - t0
        noop = ray.remote(num_cpus=1)(lambda: None)
        t0 = time.perf_counter()
        n_noop = 100
        for _ in range(n_noop):
            ray.get(noop.remote())
        t_noop = (time.perf_counter() - t0) / n_noop
        p0 = cpu_by_part()
        t_ray, (_, rows_ray) = run(ray_exec.execute, root, "ray", args.workload)
        p1 = cpu_by_part()
        ray_parts = {k: p1[k] - p0.get(k, 0.0) for k in p1}
        c_ray = sum(ray_parts.values())
        ray.shutdown()

    jobs = s_local.inferred + args.clips  # one inference job and one score job per clip
    same = rows_local == rows_ray == rows_local1
    setting = (f"{args.threads} thread(s) per process" if args.threads
               else f"local: {threads} threads, Ray: 1 per worker")
    ceiling = 2 * t_local / c_local
    startup = t_init + t_workers
    methods, metrics = WORKLOADS[args.workload][:2]
    print(f"workload: {' + '.join(methods + metrics)}, {args.clips} clips x {args.frames} frames, "
          f"GT {args.size}x{args.size}, {setting}; load average before: {load[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'':33s} wall s   CPU s  cores")
    for name, t, c in (("local executor", t_local, c_local), ("local executor, 1 thread", t_local1, c_local1),
                       ("ray executor, 2 workers", t_ray, c_ray)):
        if not math.isnan(t):
            print(f"{name:33s} {t:6.2f}  {c:6.2f}  {c / t:5.2f}")
    print(f"speed-up: {t_local / t_ray:.2f}x (target >= 1.6x on 2 idle cores); ceiling on an idle machine "
          f"2 x T_local / CPU_local = {ceiling:.2f}x (Ray at {t_local / t_ray / ceiling:.0%} of it)")
    if not args.skip_pinned:
        print(f"speed-up over the local loop pinned to 1 thread: {t_local1 / t_ray:.2f}x")
    print(f"idle-core estimate from CPU seconds (load-robust with --omp-wait passive; OMP_WAIT_POLICY "
          f"{os.environ.get('OMP_WAIT_POLICY', 'unset')}): the local loop's main thread ran {m_local:.2f} of its "
          f"{c_local:.2f} CPU s, so on idle cores it keeps about {c_local / m_local:.2f} cores busy and Ray's 2 "
          f"workers ({c_ray:.2f} CPU s) would give about {2 * m_local / c_ray:.2f}x")
    print(f"start-up outside the timings: imports {t_imports:.1f} s (both executors), ray.init {t_init:.1f} s, "
          f"Ray workers starting and importing {t_workers:.1f} s; with Ray's {startup:.1f} s counted: "
          f"{t_local / (t_ray + startup):.2f}x")
    print(f"Ray overhead per job ({jobs} jobs): {(t_ray - c_local / 2) / jobs * 1e3:.0f} ms wall beyond a perfect "
          f"2-way split of the local run's CPU, {(c_ray - c_local) / jobs * 1e3:.0f} ms CPU; "
          f"empty-task round trip {t_noop * 1e3:.1f} ms")
    print("Ray's CPU s: " + ", ".join(f"{k} {v:.2f}" for k, v in ray_parts.items())
          + " (workers: task thread, Ray's threads, ended threads = decode-ahead)")
    print(f"results identical: {same} ({len(rows_ray)} clip rows)")
    if not same:  # e.g. a torch method: float sums in another order with another thread count
        diff = max(abs(a[2] - b[2]) for rows in (rows_ray, rows_local1) for a, b in zip(rows, rows_local, strict=True))
        print(f"  largest difference of a clip value from the local run's: {diff:.3g}")
    print("No GPU is lent in this session: no 1-GPU figure.")


if __name__ == "__main__":
    main()
