"""Deterministic inputs and weights for the upstream-equivalence fixture (numpy PCG64 only)."""

from __future__ import annotations

from typing import Any

import numpy as np

#: The reduced network the fixture was made with (same module tree, fewer residual blocks).
NET = {"num_propagation_blocks": 2, "num_cleaning_blocks": 2}
SEED = 20240601


def reference_weights(state_dict: dict[str, Any]) -> dict[str, np.ndarray]:
    """Weights for every entry, drawn in sorted-key order: N(0, (0.5 / sqrt(fan_in))^2), biases 0.01 N(0, 1).

    SPyNet's ``mean``/``std`` buffers keep their ImageNet values.  SPyNet weights are scaled by 2 so
    that its flows depend on the frames (up to about 1 px, different in each direction) while
    staying small enough for warping to sample inside the frame.
    """
    rng = np.random.default_rng(SEED)
    out: dict[str, np.ndarray] = {}
    for key in sorted(state_dict):
        shape = tuple(state_dict[key].shape)
        if key.endswith(("spynet.mean", "spynet.std")):
            out[key] = np.asarray(state_dict[key], dtype=np.float32)
            continue
        if key.endswith("weight"):
            fan_in = int(np.prod(shape[1:]))
            w = rng.standard_normal(shape) * (0.5 / np.sqrt(fan_in))
            if ".spynet." in key:
                w *= 2.0
            out[key] = w.astype(np.float32)
        else:
            out[key] = (0.01 * rng.standard_normal(shape)).astype(np.float32)
    return out


def reference_inputs() -> dict[str, np.ndarray]:
    """Case ``a``: 3 frames of a pattern moving by (2, 1) px per frame; case ``b``: a 4-frame palindrome."""
    rng = np.random.default_rng(SEED + 1)
    base = rng.random((80, 80, 3))
    a = np.stack([base[8 - t : 8 - t + 64, 8 - 2 * t : 8 - 2 * t + 64] for t in range(3)])
    b1 = rng.random((2, 64, 64, 3))
    b = np.concatenate([b1, b1[::-1]])
    return {"a": a.astype(np.float32), "b": b.astype(np.float32)}
