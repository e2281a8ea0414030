"""Backward warping of an image or feature map by a dense optical flow."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def flow_warp(
    x: torch.Tensor,
    flow: torch.Tensor,
    interpolation: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool = True,
) -> torch.Tensor:
    """Sample ``x`` at ``p + flow(p)`` for every pixel ``p`` (mmediting's convention).

    ``x`` is (n, c, h, w); ``flow`` is (n, h, w, 2) in pixels, channel 0 the horizontal (x)
    and channel 1 the vertical (y) displacement.  So if ``flow`` is the flow from frame ``i``
    to frame ``j``, ``flow_warp(frame_j, flow)`` is frame ``j`` aligned to frame ``i``.
    The sampling grid is normalised with ``max(size - 1, 1)`` to match ``align_corners=True``.
    """
    if x.shape[-2:] != flow.shape[1:3]:
        raise ValueError(
            f"flow_warp: feature size {tuple(x.shape[-2:])} differs from flow size {tuple(flow.shape[1:3])}"
        )
    _, _, h, w = x.shape
    # The grid is built in float32 (at least): in float16 a coordinate near 300 is only 0.25 px
    # precise, which would visibly misalign features under fp16 inference.
    dtype = torch.promote_types(x.dtype, torch.float32)
    ys, xs = torch.meshgrid(
        torch.arange(h, device=x.device, dtype=dtype),
        torch.arange(w, device=x.device, dtype=dtype),
        indexing="ij",
    )
    grid = torch.stack((xs, ys), dim=2)[None] + flow.to(dtype)  # (n, h, w, 2), (x, y)
    gx = 2.0 * grid[..., 0] / max(w - 1, 1) - 1.0
    gy = 2.0 * grid[..., 1] / max(h - 1, 1) - 1.0
    out = F.grid_sample(
        x.to(dtype),
        torch.stack((gx, gy), dim=3),
        mode=interpolation,
        padding_mode=padding_mode,
        align_corners=align_corners,
    )
    return out.to(x.dtype)
