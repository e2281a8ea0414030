"""torchvision RAFT (large / small) as a flow backend, loaded from the weights folder only."""

from __future__ import annotations

from typing import Any

import numpy as np

from mgld_bench.weights import RAFT_LARGE, RAFT_SMALL, WeightFile, require_weights

RAFT_WEIGHTS: dict[str, WeightFile] = {"raft-large": RAFT_LARGE, "raft-small": RAFT_SMALL}
#: Refinement iterations (torchvision's default and StableVSR's setting).
RAFT_UPDATES = 12

_MODELS: dict[tuple[str, str], Any] = {}


def _model(backend: str, device: str) -> Any:
    key = (backend, device)
    if key not in _MODELS:
        from torchvision.models.optical_flow import raft_large, raft_small

        from mgld_bench.safeload import load_weights

        (path,) = require_weights([RAFT_WEIGHTS[backend]], f"flow backend {backend}")
        net = (raft_large if backend == "raft-large" else raft_small)(weights=None, progress=False)
        net.load_state_dict(load_weights(path))
        _MODELS[key] = net.eval().to(device)
    return _MODELS[key]


def _to_tensor(frame: np.ndarray, device: str) -> Any:
    import torch

    img = np.asarray(frame)
    if img.dtype == np.uint8 and torch.device(device).type != "cpu":  # upload uint8, convert there
        from mgld_bench.frames import uint8_to_unit

        return uint8_to_unit(torch.from_numpy(np.ascontiguousarray(img))[None].to(device)) * 2.0 - 1.0
    x = torch.from_numpy(np.ascontiguousarray(img)).float()
    if img.dtype == np.uint8:
        x = x / 255.0
    return (x.permute(2, 0, 1)[None] * 2.0 - 1.0).to(device)  # RAFT expects [-1, 1]


def raft_flow(frame_a: np.ndarray, frame_b: np.ndarray, backend: str, device: str = "cpu") -> np.ndarray:
    """RAFT flow a -> b; frames are replicate-padded to a multiple of 8 and the flow cropped back."""
    import torch
    import torch.nn.functional as F

    net = _model(backend, device)
    a, b = _to_tensor(frame_a, device), _to_tensor(frame_b, device)
    h, w = a.shape[-2:]
    ph, pw = (-h) % 8, (-w) % 8
    if ph or pw:
        pad = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
        a, b = F.pad(a, pad, mode="replicate"), F.pad(b, pad, mode="replicate")
    with torch.inference_mode():
        flow = net(a, b, num_flow_updates=RAFT_UPDATES)[-1]
    flow = flow[0, :, ph // 2 : ph // 2 + h, pw // 2 : pw // 2 + w]
    return flow.permute(1, 2, 0).float().cpu().numpy().astype(np.float32)
