"""Local executor vs Ray executor (2 workers) on a CPU-bound run, in one process.

Run: .venv/bin/python benchmarks/bench_executor.py [--clips 16] [--size 384] [--frames 16]
Workload: bicubic + PSNR + warping-error (DIS flow on the CPU) on ``--clips`` clips written as a
folder dataset (synthetic scenes, three seeds); each executor starts from an empty cache.  The
defaults (16 frames of 384x384 per clip, about 1 s of work per clip on one core) make each job
long enough that its own work, not Ray's per-task cost, decides the time, as it does for a real
VSR method (seconds to minutes per clip); ``--size 256 --frames 12`` is the earlier, shorter
workload (about 0.3 s per clip), kept for comparison.
Target: Ray with 2 workers at least 1.6x faster than the local loop on 2 idle cores.
Printed: both wall times and their ratio, Ray start-up (not in the Ray wall time), the
round-trip cost of an empty Ray task, the Ray overhead per job
``(2 x T_ray - T_local) / jobs`` (worker time beyond a perfect 2-way split), and the CPU seconds
of each run (this process and everything under it, Ray's workers and daemons included): Ray's
extra CPU per job and the cores each run kept busy, figures that hold on a loaded machine.
No GPU is lent in this session: no 1-GPU figure.
"""

from __future__ import annotations

import argparse
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


def warm() -> None:
    """Import what the jobs import (so that start-up is not timed in either executor)."""
    import cv2  # noqa: F401

    import baselines.bicubic  # noqa: F401
    import mgld_bench.metrics.fidelity
    import mgld_bench.metrics.temporal
    import mgld_bench.runner.jobs  # noqa: F401
    from mgld_bench.runner.device import resolve_device

    resolve_device("auto")  # imports torch (seconds): every job resolves --device auto


def run(executor: object, root: Path, tag: str, **kw: object) -> tuple[float, object]:
    from mgld_bench.runner.plan import build_plan
    from mgld_bench.store.cache import Cache
    from mgld_bench.store.results import ResultStore

    plan = build_plan([f"folder:{root / 'lr'}"], ["bicubic"], ["psnr", "warping-error"],
                      {f"folder:{root / 'lr'}": {"gt": str(root / "gt")}})
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
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:  # exited meanwhile
            pass
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=16)
    ap.add_argument("--size", type=int, default=384, help="GT size of the synthetic scenes")
    ap.add_argument("--frames", type=int, default=16, help="frames per clip (bicubic runs 16-frame chunks)")
    ap.add_argument("--threads", type=int, default=0,
                    help="pin OpenCV/OpenMP threads per process (0: the executors' own setting: the local run "
                    "uses every core, each Ray task as many threads as CPUs it was given)")
    args = ap.parse_args()
    if args.threads:  # before cv2/numpy load; a local Ray's workers inherit the environment
        for var in ("OPENCV_FOR_THREADS_NUM", "OMP_NUM_THREADS"):
            os.environ[var] = str(args.threads)

    import ray

    from mgld_bench.runner import local, ray_exec

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_clips(root, args.clips, args.size, args.frames)
        load = os.getloadavg()
        warm()  # imports out of the timings (each Ray worker gets the same below)
        c0 = cpu_seconds()
        t_local, (s_local, rows_local) = run(local.execute, root, "local")
        c_local = cpu_seconds() - c0

        t0 = time.perf_counter()
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _node_ip_address="127.0.0.1")
        t_init = time.perf_counter() - t0
        noop = ray.remote(num_cpus=1)(lambda: None)
        ray.get([ray.remote(num_cpus=1)(warm).remote() for _ in range(4)])  # start and warm both workers
        t0 = time.perf_counter()
        n_noop = 100
        for _ in range(n_noop):
            ray.get(noop.remote())
        t_noop = (time.perf_counter() - t0) / n_noop
        c0 = cpu_seconds()
        t_ray, (_, rows_ray) = run(ray_exec.execute, root, "ray")
        c_ray = cpu_seconds() - c0
        ray.shutdown()

    jobs = s_local.inferred + args.clips  # one inference task and one score task per clip
    same = rows_local == rows_ray
    threads = f"{args.threads} thread(s) per process" if args.threads else "local: every core, Ray: 1 thread per CPU"
    print(f"workload: bicubic + psnr + warping-error, {args.clips} clips x {args.frames} frames, "
          f"GT {args.size}x{args.size}, {threads}; load average before: {load[0]:.1f} on {os.cpu_count()} cores")
    print(f"local executor:          {t_local:7.2f} s")
    print(f"ray executor, 2 workers: {t_ray:7.2f} s   (ray.init {t_init:.1f} s, worker start and imports not included)")
    print(f"speed-up: {t_local / t_ray:.2f}x (target >= 1.6x on 2 idle cores)")
    print(f"ray empty-task round trip: {t_noop * 1e3:.1f} ms; overhead per job (2*T_ray - T_local)/{jobs}: "
          f"{(2 * t_ray - t_local) / jobs * 1e3:.0f} ms")
    print(f"CPU seconds (this process and all under it, robust to other users' load): local {c_local:.1f}, "
          f"Ray {c_ray:.1f}: Ray's extra CPU per job {(c_ray - c_local) / jobs * 1e3:.0f} ms; "
          f"local used {c_local / t_local:.2f} cores on average, Ray {c_ray / t_ray:.2f}")
    print(f"results identical: {same} ({len(rows_ray)} clip rows)")
    print("No GPU is lent in this session: no 1-GPU figure.")


if __name__ == "__main__":
    main()
