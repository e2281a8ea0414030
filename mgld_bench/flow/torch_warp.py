"""Backward warping by optical flow and flow resizing, in torch (differentiable).

The numpy/OpenCV warp of :mod:`mgld_bench.flow.warp` serves the metrics; this one serves
networks and samplers in torch (MGLD's motion guidance, RealBasicVSR's propagation and SPyNet).
Conventions:

* a flow is a tensor ``(N, 2, H, W)`` holding ``(dx, dy)`` in pixels of the tensor it belongs to;
* the flow ``F_{a->b}`` between frames ``a`` and ``b`` satisfies ``b(x + F(x)) = a(x)`` wherever
  ``x`` is visible in both frames, so ``flow_warp(b, F_{a->b})`` is ``b`` aligned to ``a``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def flow_warp(x: torch.Tensor, flow: torch.Tensor, padding_mode: str = "zeros") -> torch.Tensor:
    """Sample ``x`` at ``p + flow(p)`` for every pixel ``p`` (the ``W(., F)`` of MGLD's Eq. 2).

    Bilinear interpolation with ``align_corners=True`` on the pixel grid, as in the official MGLD
    code and mmediting (BasicSR's ``flow_warp``): pixel centres are the integer coordinates
    ``0..W-1``; a sample falling outside the frame contributes zeros (``padding_mode="border"``:
    the nearest edge value, as SPyNet warps).

    Args:
        x: ``(N, C, H, W)`` tensor to warp.
        flow: ``(N, 2, H, W)`` displacement ``(dx, dy)`` in pixels.
        padding_mode: ``"zeros"`` or ``"border"`` (``grid_sample``'s).

    Returns:
        ``(N, C, H, W)`` tensor, differentiable in both ``x`` and ``flow``.
    """
    if x.dim() != 4 or flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"flow_warp expects x (N,C,H,W) and flow (N,2,H,W); got {tuple(x.shape)}, {tuple(flow.shape)}")
    if x.shape[0] != flow.shape[0] or x.shape[-2:] != flow.shape[-2:]:
        raise ValueError(f"flow_warp: x {tuple(x.shape)} and flow {tuple(flow.shape)} differ in batch or size")
    h, w = x.shape[-2:]
    # The sampling grid is built in float32 at least: float16 holds a coordinate near 300 only
    # to 0.25 px, and the flow may arrive in half precision under autocast.
    dtype = torch.promote_types(flow.dtype, torch.float32)
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=dtype, device=flow.device),
        torch.arange(w, dtype=dtype, device=flow.device),
        indexing="ij",
    )
    px = xs.unsqueeze(0) + flow[:, 0].to(dtype)
    py = ys.unsqueeze(0) + flow[:, 1].to(dtype)
    gx = 2.0 * px / max(w - 1, 1) - 1.0
    gy = 2.0 * py / max(h - 1, 1) - 1.0
    grid = torch.stack((gx, gy), dim=-1)
    sample_dtype = torch.promote_types(x.dtype, torch.float32)
    out = F.grid_sample(
        x.to(sample_dtype), grid.to(sample_dtype), mode="bilinear", padding_mode=padding_mode, align_corners=True
    )
    return out.to(x.dtype)


def resize_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize a flow field to ``size = (H', W')`` and rescale its values to the new pixel units.

    The field is resized bilinearly (``align_corners=False``) and ``dx`` is multiplied by
    ``W'/W``, ``dy`` by ``H'/H`` -- a displacement of 4 LR pixels is 2 latent pixels when the
    latent has half the LR size (BasicSR's ``resize_flow`` with ``size_type='shape'``, as MGLD
    uses it to bring RAFT flows to latent size).

    Args:
        flow: ``(N, 2, H, W)`` flow.
        size: target ``(H', W')``.
    """
    if flow.dim() != 4 or flow.shape[1] != 2:
        raise ValueError(f"resize_flow expects (N,2,H,W); got {tuple(flow.shape)}")
    h, w = flow.shape[-2:]
    out_h, out_w = int(size[0]), int(size[1])
    if (out_h, out_w) == (h, w):
        return flow.clone()
    resized = F.interpolate(flow, size=(out_h, out_w), mode="bilinear", align_corners=False)
    scale = torch.tensor([out_w / w, out_h / h], dtype=flow.dtype, device=flow.device).view(1, 2, 1, 1)
    return resized * scale
