"""uint8 RGB frames <-> float tensors in [0, 1] (torch imported only when called)."""

from __future__ import annotations

from typing import Any

import numpy as np


def frames_to_tensor(frames: np.ndarray, device: str, dtype: Any = None) -> Any:
    """(t, h, w, 3) uint8 -> (t, 3, h, w) float in [0, 1] on ``device``."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(frames)).to(device).permute(0, 3, 1, 2)
    return x.to(dtype or torch.float32).div_(255.0)


def tensor_to_frames(x: Any) -> np.ndarray:
    """(t, 3, h, w) float in [0, 1] -> (t, h, w, 3) uint8: clamp, x255, round (mmediting ``tensor2img``)."""
    import torch

    y = x.detach().float().clamp_(0, 1).mul_(255.0).round_().to(torch.uint8)
    return y.permute(0, 2, 3, 1).cpu().numpy()


def check_device(device: str, fp16: bool, who: str) -> None:
    """Refuse fp16 without CUDA (CPU half convolutions are slow and not what users benchmark)."""
    from mgld_bench.errors import BenchError

    if fp16 and not device.startswith("cuda"):
        raise BenchError(f"{who}: fp16 needs a CUDA device (this run uses {device}); set {who}.fp16=false")


def is_out_of_memory(exc: BaseException) -> bool:
    """True for CUDA out-of-memory errors and failed CPU allocations."""
    text = str(exc)
    return type(exc).__name__ == "OutOfMemoryError" or "out of memory" in text or "can't allocate memory" in text


def out_of_memory_error(who: str, what: str, device: str, hint: str) -> Exception:
    """The BenchError raised instead of an out-of-memory traceback."""
    from mgld_bench.errors import BenchError

    return BenchError(f"{who}: out of memory on {device} while running {what}; {hint}")
