"""Local executor vs Ray executor (2 workers) on a CPU-bound run, in one process.

Run: .venv/bin/python benchmarks/bench_executor.py [--clips 16] [--size 384] [--frames 16]
Workload: bicubic + PSNR + warping-error (DIS flow on the CPU) on ``--clips`` clips written as a
folder dataset (synthetic scenes, three seeds); each run starts from an empty cache.  The
defaults (16 frames of 384x384 per clip, about 0.8 s of CPU per clip) make each job long enough
that its own work, not Ray's per-task cost, decides the time, as it does for a real VSR method.
Target: Ray with 2 workers at least 1.6x faster than the local loop on 2 idle cores.

Three timed runs: the local loop as users run it (OpenCV/torch threads = every core), the local
loop pinned to one OpenCV/torch thread (``MGLD_BENCH_THREADS=1``), and Ray with 2 one-CPU
workers (one thread each).  Printed: the wall times and their ratios; start-up (imports,
``ray.init``, Ray's worker processes starting and importing) outside the timings and then the
ratio with it included; the CPU seconds of each run (this process and everything under it, Ray's
workers and daemons included: figures that hold on a loaded machine), the cores each run kept
busy and the ceiling they imply, ``2 x T_local / CPU_local`` (Ray's 2 workers can at best split
the local run's work in two; the local loop already runs DIS flow on both cores); the Ray
overhead per job, in wall time beyond that perfect split and in CPU; the empty-task round trip.
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
    return sum(cpu_by_part().values())


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
    ap.add_argument("--clips", type=int, default=16)
    ap.add_argument("--size", type=int, default=384, help="GT size of the synthetic scenes")
    ap.add_argument("--frames", type=int, default=16, help="frames per clip (bicubic runs 16-frame chunks)")
    ap.add_argument("--threads", type=int, default=0,
                    help="pin OpenCV/OpenMP threads per process (0: the executors' own setting: the local run "
                    "uses every core, each Ray task as many threads as CPUs it was given)")
    args = ap.parse_args()
    if args.threads:  # before cv2/numpy load; a local Ray's workers inherit the environment
        for var in ("OPENCV_FOR_THREADS_NUM", "OMP_NUM_THREADS", "MGLD_BENCH_THREADS"):
            os.environ[var] = str(args.threads)

    import ray

    from mgld_bench.runner import local, ray_exec
    from mgld_bench.runner.device import configure_threads

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_clips(root, args.clips, args.size, args.frames)
        load = os.getloadavg()
        t0 = time.perf_counter()
        warm()  # imports out of the timings (each Ray worker gets the same below)
        t_imports = time.perf_counter() - t0
        threads = configure_threads()
        c0 = cpu_seconds()
        t_local, (s_local, rows_local) = run(local.execute, root, "local")
        c_local = cpu_seconds() - c0

        configure_threads(1)
        c0 = cpu_seconds()
        t_local1, (_, rows_local1) = run(local.execute, root, "local1")
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
        t_ray, (_, rows_ray) = run(ray_exec.execute, root, "ray")
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
    print(f"workload: bicubic + psnr + warping-error, {args.clips} clips x {args.frames} frames, "
          f"GT {args.size}x{args.size}, {setting}; load average before: {load[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'':33s} wall s   CPU s  cores")
    for name, t, c in (("local executor", t_local, c_local), ("local executor, 1 OpenCV thread", t_local1, c_local1),
                       ("ray executor, 2 workers", t_ray, c_ray)):
        print(f"{name:33s} {t:6.2f}  {c:6.2f}  {c / t:5.2f}")
    print(f"speed-up: {t_local / t_ray:.2f}x (target >= 1.6x on 2 idle cores); ceiling on an idle machine "
          f"2 x T_local / CPU_local = {ceiling:.2f}x (Ray at {t_local / t_ray / ceiling:.0%} of it)")
    print(f"speed-up over the local loop pinned to 1 OpenCV thread: {t_local1 / t_ray:.2f}x")
    print(f"start-up outside the timings: imports {t_imports:.1f} s (both executors), ray.init {t_init:.1f} s, "
          f"Ray workers starting and importing {t_workers:.1f} s; with Ray's {startup:.1f} s counted: "
          f"{t_local / (t_ray + startup):.2f}x")
    print(f"Ray overhead per job ({jobs} jobs): {(t_ray - c_local / 2) / jobs * 1e3:.0f} ms wall beyond a perfect "
          f"2-way split of the local run's CPU, {(c_ray - c_local) / jobs * 1e3:.0f} ms CPU; "
          f"empty-task round trip {t_noop * 1e3:.1f} ms")
    print("Ray's CPU s: " + ", ".join(f"{k} {v:.2f}" for k, v in ray_parts.items())
          + " (workers: task thread, Ray's threads, ended threads = decode-ahead)")
    print(f"results identical: {same} ({len(rows_ray)} clip rows)")
    print("No GPU is lent in this session: no 1-GPU figure.")


if __name__ == "__main__":
    main()
