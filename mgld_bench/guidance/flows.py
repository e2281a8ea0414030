"""Optical flow between consecutive LR frames, for the guidance.

The suite's shared flow backends live in :mod:`mgld_bench.flow` (built for the temporal
metrics).  Until that module is present, a private OpenCV DIS estimator with the same call
signature stands in (``dis-*`` backends only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError

#: DIS presets of the stand-in estimator.
_DIS_PRESETS = {"dis-ultrafast": 0, "dis-fast": 1, "dis-medium": 2}


def _dis_flow(frame_a: np.ndarray, frame_b: np.ndarray, backend: str = "dis-medium", device: str = "cpu") -> np.ndarray:
    """OpenCV DIS flow ``a -> b`` as (H, W, 2) float32 ``(dx, dy)``: ``b(x + F(x)) ~ a(x)``."""
    import cv2

    if backend not in _DIS_PRESETS:
        raise BenchError(
            f"flow backend {backend!r} is not available here (mgld_bench.flow is not installed); "
            f"use one of {', '.join(_DIS_PRESETS)}"
        )
    dis = cv2.DISOpticalFlow_create(_DIS_PRESETS[backend])
    ga = cv2.cvtColor(np.ascontiguousarray(frame_a), cv2.COLOR_RGB2GRAY)
    gb = cv2.cvtColor(np.ascontiguousarray(frame_b), cv2.COLOR_RGB2GRAY)
    return dis.calc(ga, gb, None).astype(np.float32)


def estimate_flow(
    frame_a: np.ndarray, frame_b: np.ndarray, backend: str = "dis-medium", device: str = "cpu"
) -> np.ndarray:
    """Flow ``a -> b`` from the shared backends (:mod:`mgld_bench.flow`), else the DIS stand-in."""
    try:
        from mgld_bench.flow import estimate_flow as shared  # type: ignore[import-not-found]
    except ImportError:
        return _dis_flow(frame_a, frame_b, backend=backend, device=device)
    return np.asarray(shared(frame_a, frame_b, backend=backend, device=device), dtype=np.float32)


def pair_flows(
    frames: Sequence[np.ndarray], backend: str = "dis-medium", device: str = "cpu"
) -> tuple[np.ndarray, np.ndarray]:
    """Forward ``F_{i->i+1}`` and backward ``F_{i+1->i}`` flows of consecutive frames.

    Returns two (T-1, H, W, 2) float32 arrays (empty when T < 2).
    """
    n = len(frames)
    if n < 2:
        h, w = frames[0].shape[:2] if n else (0, 0)
        empty = np.zeros((0, h, w, 2), np.float32)
        return empty, empty.copy()
    fwd = [estimate_flow(frames[i], frames[i + 1], backend, device) for i in range(n - 1)]
    bwd = [estimate_flow(frames[i + 1], frames[i], backend, device) for i in range(n - 1)]
    return np.stack(fwd), np.stack(bwd)


def flow_identity(backend: str) -> dict[str, Any]:
    """What determines the flows of ``backend`` (for cache keys)."""
    try:
        from mgld_bench.flow import backend_identity  # type: ignore[import-not-found]
    except ImportError:
        import cv2

        if backend not in _DIS_PRESETS:
            raise BenchError(
                f"flow backend {backend!r} is not available here (mgld_bench.flow is not installed); "
                f"use one of {', '.join(_DIS_PRESETS)}"
            ) from None
        return {"backend": backend, "preset": _DIS_PRESETS[backend], "opencv": cv2.__version__}
    return dict(backend_identity(backend))


def flow_weight_files(backend: str) -> list[Any]:
    """Weight files a flow backend loads (RAFT); none for the OpenCV backends."""
    try:
        from mgld_bench.flow.raft import RAFT_WEIGHTS  # type: ignore[import-not-found]
    except ImportError:
        return []
    wf = RAFT_WEIGHTS.get(backend) if hasattr(RAFT_WEIGHTS, "get") else None
    return [wf] if wf is not None else []
