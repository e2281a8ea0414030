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
    return _USED[device]


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
