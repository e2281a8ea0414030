"""Motion-aware warping error (MAWE) of StreamingT2V (Henschel et al., 2024), pure maths.

Definition (``mawe.py`` of Picsart-AI-Research/StreamingT2V, branch StreamingModelscope, a8aceea):
for each pair (t, t+1) of the *scored* video, resized to 720 x 720 (bilinear, no antialiasing),
with F the flow t -> t+1 (RAFT-large in the original):

* frame t is **forward-splatted**: pixel x goes to the nearest pixel y = round(x + F(x))
  (half to even); when several pixels land on the same y the last one in row-major order wins;
  pixels landing outside the frame are dropped; targets nobody lands on are unknown;
* W_t = sum over known pixels and the 3 channels of (V_{t+1}(y) - splat(y))^2 divided by
  3 x (number of known pixels), on the **0-255** scale (all pixels if none is known);
* M_t = mean over pixels of |F(x)|_2 (px);
* MAWE = mean over pairs of W_t / (c M_t), c = 9.5.

This is neither Lai's warping error (backward warping, occlusion checks, [0, 1] scale) nor
EvalCrafter's; it is named ``mawe``.  A pair with no motion at all (M_t = 0) scores +inf
(0 when W_t is 0 too).
"""

from __future__ import annotations

import numpy as np

#: StreamingT2V's normalising constant.
COEFF = 9.5


def forward_splat(frame: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-pixel forward splat of ``frame`` (H, W, C) along ``flow`` (H, W, 2): (splatted, known mask)."""
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    tx = np.round(xs.astype(np.float32) + flow[..., 0].astype(np.float32)).astype(np.int64)
    ty = np.round(ys.astype(np.float32) + flow[..., 1].astype(np.float32)).astype(np.int64)
    ok = (tx >= 0) & (ty >= 0) & (tx < w) & (ty < h)
    src = np.flatnonzero(ok.reshape(-1))  # row-major source order
    dst = (ty * w + tx).reshape(-1)[src]
    winner = np.full(h * w, -1, dtype=np.int64)
    np.maximum.at(winner, dst, src)  # the last source (row-major) landing on a target wins
    known = winner >= 0
    flat = np.asarray(frame).reshape(h * w, -1)
    out = np.zeros_like(flat, dtype=np.float64)
    out[known] = flat[winner[known]]
    return out.reshape(h, w, -1), known.reshape(h, w)


def warp_error_255(frame_t: np.ndarray, frame_t1: np.ndarray, flow: np.ndarray) -> float:
    """W_t: mean squared difference (0-255 scale) between frame t+1 and frame t splatted forward, over known pixels."""
    splat, known = forward_splat(np.asarray(frame_t, dtype=np.float64), flow)
    diff = (np.asarray(frame_t1, dtype=np.float64) - splat) * known[..., None]
    channels = diff.shape[2]
    n = channels * int(known.sum())
    if n == 0:
        n = diff.size
    return float((diff**2).sum() / n)


def mean_motion(flow: np.ndarray) -> float:
    """M_t: mean flow magnitude in pixels."""
    return float(np.mean(np.linalg.norm(np.asarray(flow, dtype=np.float64), axis=-1)))


def mawe_pair(
    frame_t: np.ndarray, frame_t1: np.ndarray, flow: np.ndarray, coeff: float = COEFF
) -> tuple[float, float, float]:
    """(W_t / (c M_t), W_t, M_t) for one pair; frames uint8 or 0-255 floats (H, W, 3)."""
    err = warp_error_255(frame_t, frame_t1, flow)
    motion = mean_motion(flow)
    if motion == 0.0:
        return (0.0 if err == 0.0 else float("inf")), err, motion
    return err / (coeff * motion), err, motion


def resize_square(frame: np.ndarray, size: int) -> np.ndarray:
    """uint8 (H, W, 3) -> uint8 (size, size, 3): torchvision bilinear without antialiasing, as StreamingT2V."""
    import torch
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.functional import resize

    t = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None]
    out = resize(t, [size, size], interpolation=InterpolationMode.BILINEAR, antialias=False)[0]
    return out.permute(1, 2, 0).contiguous().numpy()
