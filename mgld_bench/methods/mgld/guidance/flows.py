"""Optical flow between consecutive LR frames, for the guidance.

The flows come from the suite's shared backends (:mod:`mgld_bench.flow`, the same ones the
temporal metrics use): OpenCV DIS presets, Farneback, torchvision RAFT large/small.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def pair_flows(
    frames: Sequence[np.ndarray], backend: str = "dis-medium", device: str = "cpu"
) -> tuple[np.ndarray, np.ndarray]:
    """Forward ``F_{i->i+1}`` and backward ``F_{i+1->i}`` flows of consecutive frames.

    Returns two (T-1, H, W, 2) float32 arrays (empty when T < 2).
    """
    from mgld_bench.flow import estimate_flow

    n = len(frames)
    if n < 2:
        h, w = frames[0].shape[:2] if n else (0, 0)
        empty = np.zeros((0, h, w, 2), np.float32)
        return empty, empty.copy()
    fwd = [estimate_flow(frames[i], frames[i + 1], backend=backend, device=device) for i in range(n - 1)]
    bwd = [estimate_flow(frames[i + 1], frames[i], backend=backend, device=device) for i in range(n - 1)]
    return np.stack(fwd).astype(np.float32), np.stack(bwd).astype(np.float32)


def flow_identity(backend: str) -> dict[str, Any]:
    """What determines the flows of ``backend`` (for cache keys)."""
    from mgld_bench.flow import backend_identity

    return dict(backend_identity(backend))


def flow_weight_files(backend: str) -> list[Any]:
    """Weight files a flow backend loads (RAFT); none for the OpenCV backends."""
    from mgld_bench.flow.raft import RAFT_WEIGHTS

    wf = RAFT_WEIGHTS.get(backend)
    return [wf] if wf is not None else []
