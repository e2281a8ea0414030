"""Forward-backward consistency check: which pixels of a frame are hidden in its neighbour."""

from __future__ import annotations

import torch

from mgld_bench.flow.torch_warp import flow_warp


def forward_backward_occlusion(
    fwd: torch.Tensor, bwd: torch.Tensor, alpha: float = 0.01, beta: float = 0.5
) -> tuple[torch.Tensor, torch.Tensor]:
    """Occlusion masks of a flow pair (UnFlow-style check, as MGLD's ``util_flow`` implements it).

    For ``fwd = F_{a->b}`` and ``bwd = F_{b->a}``, a pixel ``x`` of frame ``a`` is occluded
    (not visible in ``b``) where the round trip does not come back:

        ``|| F_ab(x) + F_ba(x + F_ab(x)) || > alpha * (||F_ab(x)|| + ||F_ba(x)||) + beta``

    and symmetrically for the pixels of ``b``.  Norms are plain (not squared) L2 norms, as in the
    official code; ``alpha = 0.01`` and ``beta = 0.5`` (pixels of the flow's own resolution) are
    its values.  A sample leaving the frame warps in zeros, so pixels moving out of view by more
    than about ``beta`` are marked occluded too.

    Args:
        fwd: ``(N, 2, H, W)`` flow from ``a`` to ``b``.
        bwd: ``(N, 2, H, W)`` flow from ``b`` to ``a``.

    Returns:
        ``(occ_a, occ_b)``, each ``(N, 1, H, W)`` float with 1 = occluded, 0 = visible.  The
        loss of Eq. 2 weighs pixels by ``1 - occ``.
    """
    if fwd.shape != bwd.shape:
        raise ValueError(f"forward and backward flows differ in shape: {tuple(fwd.shape)} vs {tuple(bwd.shape)}")
    magnitude = torch.linalg.vector_norm(fwd, dim=1) + torch.linalg.vector_norm(bwd, dim=1)
    threshold = alpha * magnitude + beta
    diff_a = torch.linalg.vector_norm(fwd + flow_warp(bwd, fwd), dim=1)
    diff_b = torch.linalg.vector_norm(bwd + flow_warp(fwd, bwd), dim=1)
    occ_a = (diff_a > threshold).to(fwd.dtype).unsqueeze(1)
    occ_b = (diff_b > threshold).to(fwd.dtype).unsqueeze(1)
    return occ_a, occ_b
