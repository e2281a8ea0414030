"""Device choice, resolved lazily: a fully cached run never imports torch."""

from __future__ import annotations

from functools import lru_cache

from mgld_bench.errors import BenchError

_USED: dict[str, str] = {}


def used_device(device: str) -> str:
    """What ``device`` resolved to in this process, or "cpu" when no job needed a device (then
    torch was never imported for it)."""
    return _USED.get(device, "cpu")


def resolve_device(device: str) -> str:
    """:func:`_resolve` once per process; remembered for :func:`used_device`."""
    _USED[device] = _resolve(device)
    configure_threads()  # torch is imported now: give it the run's thread count
    return _USED[device]


def device_kind(device: str) -> str:
    """``cpu`` or ``cuda``: the kind of device a job given ``device`` runs on (``auto`` is
    resolved; ``cuda``/``cuda:N`` are taken at their word, the job checks the GPU exists)."""
    if device in ("cpu", "cuda") or device.startswith("cuda:"):
        return device.split(":")[0]
    return "cuda" if resolve_device(device).startswith("cuda") else "cpu"


_THREADS: list[int] = []


def configure_threads(n: int | None = None) -> int:
    """The one place that sets the run's thread counts: OpenCV's pool, torch's intra-op pool
    (when torch is loaded; :func:`resolve_device` calls this again after importing it) and the
    BLAS pools of libraries loaded later (``OMP/OPENBLAS/MKL_NUM_THREADS``).  ``n`` defaults to
    ``$MGLD_BENCH_THREADS``, else the CPUs this process may use."""
    import os
    import sys

    if n is None:
        n = _THREADS[0] if _THREADS else int(os.environ.get("MGLD_BENCH_THREADS", "0") or 0)
        if not n:
            n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    _THREADS[:] = [n]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    import cv2

    cv2.setNumThreads(n)
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
    return n


@lru_cache(maxsize=8)
def _resolve(device: str) -> str:
    """``auto`` -> ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda`` is checked to exist."""
    if device == "cpu":
        return device
    if device != "auto" and not device.startswith("cuda"):
        raise BenchError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        if device == "auto":
            return "cpu"
        raise BenchError("--device cuda needs torch with CUDA support") from None
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise BenchError(f"--device {device} was asked for but torch sees no CUDA GPU; use --device cpu")
    return device
