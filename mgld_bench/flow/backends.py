"""Optical-flow backends behind one function, :func:`estimate_flow`.

Backends (all return the flow a -> b as (H, W, 2) float32 (dx, dy), ``b(x + F(x)) ≈ a(x)``):

* ``dis-ultrafast``, ``dis-fast``, ``dis-medium``: OpenCV DIS with its presets, on 8-bit gray
  frames (no weights; ~10-70 ms per 1080p pair on a CPU core);
* ``farneback``: OpenCV Farneback with TecoGAN's parameters (pyr_scale 0.5, 3 levels, window
  15, 3 iterations, poly_n 5, poly_sigma 1.2), on 8-bit gray frames;
* ``raft-large``, ``raft-small``: torchvision RAFT (C_T_SKHT_V2 / C_T_V2 weights, 12 flow
  updates), on the chosen device; the weights file must be in the weights folder.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mgld_bench.errors import BenchError, UnknownNameError

DIS_PRESETS = {"dis-ultrafast": 0, "dis-fast": 1, "dis-medium": 2}
#: TecoGAN's ``cv2.calcOpticalFlowFarneback`` arguments.
FARNEBACK_PARAMS: dict[str, Any] = {
    "pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3, "poly_n": 5, "poly_sigma": 1.2, "flags": 0,
}
RAFT_BACKENDS = ("raft-large", "raft-small")
FLOW_BACKENDS: tuple[str, ...] = (*DIS_PRESETS, "farneback", *RAFT_BACKENDS)



def check_backend(backend: str) -> str:
    """``backend`` if it is a known flow backend; raise listing the valid ones otherwise."""
    if backend not in FLOW_BACKENDS:
        raise UnknownNameError(f"unknown flow backend {backend!r}; valid backends: {', '.join(FLOW_BACKENDS)}")
    return backend


def backend_identity(backend: str) -> dict[str, Any]:
    """What determines the flows a backend produces (goes into flow cache keys)."""
    check_backend(backend)
    if backend in RAFT_BACKENDS:
        import torchvision

        from mgld_bench.flow.raft import RAFT_UPDATES, RAFT_WEIGHTS

        return {"backend": backend, "weights": RAFT_WEIGHTS[backend].name, "updates": RAFT_UPDATES,
                "torchvision": torchvision.__version__}
    import cv2

    params: dict[str, Any] = {"preset": DIS_PRESETS[backend]} if backend in DIS_PRESETS else dict(FARNEBACK_PARAMS)
    if backend in DIS_PRESETS:
        # revision 2: a new DIS instance per call (a reused one carried state between pairs, so
        # flows cached before the fix may differ from today's by up to ~2 px and are not reused)
        params["revision"] = 2
    return {"backend": backend, **params, "opencv": cv2.__version__}


def to_gray_u8(frame: np.ndarray) -> np.ndarray:
    """An 8-bit gray version of a uint8 RGB frame (or of a float RGB frame in [0, 1])."""
    import cv2

    img = np.asarray(frame)
    if img.dtype != np.uint8:
        img = np.clip(np.round(img.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)
    if img.ndim == 2:
        return img
    if img.ndim != 3 or img.shape[2] != 3:
        raise BenchError(f"flow input: expected an H x W x 3 RGB frame, got shape {img.shape}")
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def _dis(preset: int) -> Any:
    """A new DIS instance per call: a reused one keeps state from its previous images (flows of a
    frame pair changed by up to 1.9 px after a call on another size), so values would depend on
    what the thread computed before."""
    import cv2

    return cv2.DISOpticalFlow_create(preset)


def estimate_flow(
    frame_a: np.ndarray, frame_b: np.ndarray, backend: str = "dis-medium", device: str = "cpu"
) -> np.ndarray:
    """Optical flow from ``frame_a`` to ``frame_b``: (H, W, 2) float32 (dx, dy).

    Frames are uint8 RGB (H, W, 3) (float RGB in [0, 1] is accepted too).  The result
    satisfies ``frame_b(x + F(x)) ≈ frame_a(x)`` for pixels visible in both frames.
    """
    check_backend(backend)
    a, b = np.asarray(frame_a), np.asarray(frame_b)
    if a.shape != b.shape:
        raise BenchError(f"flow input: frames differ in size ({a.shape} vs {b.shape})")
    if backend in RAFT_BACKENDS:
        from mgld_bench.flow.raft import raft_flow

        return raft_flow(a, b, backend, device)
    import cv2

    ga, gb = to_gray_u8(a), to_gray_u8(b)
    if backend in DIS_PRESETS:
        flow = _dis(DIS_PRESETS[backend]).calc(ga, gb, None)
    else:
        p = FARNEBACK_PARAMS
        flow = cv2.calcOpticalFlowFarneback(
            ga, gb, None, p["pyr_scale"], p["levels"], p["winsize"], p["iterations"], p["poly_n"],
            p["poly_sigma"], p["flags"],
        )
    return np.ascontiguousarray(flow, dtype=np.float32)
