"""The masked L1 warp error of MGLD's Eq. 2, in two pairings."""

from __future__ import annotations

import torch

from mgld_bench.flow.torch_warp import flow_warp
from mgld_bench.methods.mgld.guidance import LOSS_FORMS

__all__ = ["LOSS_FORMS", "warp_error"]


def _masked_l1(mask_occ: torch.Tensor, diff: torch.Tensor) -> torch.Tensor:
    """mean over (C, H, W) of ``(1 - occ) * |diff|`` for one frame pair (batch of one)."""
    return ((1.0 - mask_occ) * diff).abs().mean()


def warp_error(
    z: torch.Tensor,
    flows_fwd: torch.Tensor,
    flows_bwd: torch.Tensor,
    occ_fwd: torch.Tensor,
    occ_bwd: torch.Tensor,
    form: str = "paired",
) -> torch.Tensor:
    """Masked L1 warp error of the latents of ``T`` consecutive frames (Eq. 2 of MGLD).

    With ``F_i = F_{i->i+1}`` (``flows_fwd[i]``), ``B_i = F_{i+1->i}`` (``flows_bwd[i]``),
    ``W`` the bilinear warp of :func:`~mgld_bench.flow.torch_warp.flow_warp` and ``O`` the
    occlusion masks of :func:`~mgld_bench.methods.mgld.guidance.occlusion.forward_backward_occlusion`,

    ``form="paired"`` (the paper's Eq. 2, each frame aligned to its neighbour by their own flow)::

        E(z) = sum_i mean| (1 - Of_i) * (W(z_{i+1}, F_i) - z_i) |
             + sum_i mean| (1 - Ob_i) * (W(z_i, B_i) - z_{i+1}) |

    ``form="official"`` reproduces ``compute_temporal_condition_v4`` of the official code: the
    backward pass compares ``z_i`` with ``W(z_{i+1}, F_{i+1})`` (the flow of the *next* pair, a
    constant-velocity assumption) and the forward pass ``z_{i+1}`` with ``W(z_i, B_{i-1})``;
    the first term of each pass compares with zeros (``z_{T-2}`` and ``z_1``)::

        backward: (1 - Of_{T-2}) (0 - z_{T-2}),  (1 - Of_i) (W(z_{i+1}, F_{i+1}) - z_i)  for i < T-2
        forward:  (1 - Ob_0) (0 - z_1),          (1 - Ob_i) (W(z_i, B_{i-1}) - z_{i+1})  for i > 0

    Every term is a mean over channels and pixels of one frame (the official reduction), and the
    terms are summed.

    Args:
        z: ``(T, C, h, w)`` latents of consecutive frames.
        flows_fwd, flows_bwd: ``(T-1, 2, h, w)`` flows at latent resolution.
        occ_fwd, occ_bwd: ``(T-1, 1, h, w)`` occlusion masks (1 = occluded) of those flows.
        form: ``"paired"`` or ``"official"``.

    Returns:
        A scalar tensor (zero for ``T < 2``), differentiable in ``z``.
    """
    if form not in LOSS_FORMS:
        raise ValueError(f"unknown warp-error form {form!r}; choose one of {', '.join(LOSS_FORMS)}")
    t = z.shape[0]
    if t < 2:
        return z.sum() * 0.0
    for name, tensor, ch in (
        ("flows_fwd", flows_fwd, 2),
        ("flows_bwd", flows_bwd, 2),
        ("occ_fwd", occ_fwd, 1),
        ("occ_bwd", occ_bwd, 1),
    ):
        if tuple(tensor.shape) != (t - 1, ch, *z.shape[-2:]):
            raise ValueError(f"{name} has shape {tuple(tensor.shape)}; expected {(t - 1, ch, *z.shape[-2:])}")
    frames = [z[i : i + 1] for i in range(t)]
    f = [flows_fwd[i : i + 1] for i in range(t - 1)]
    b = [flows_bwd[i : i + 1] for i in range(t - 1)]
    of = [occ_fwd[i : i + 1] for i in range(t - 1)]
    ob = [occ_bwd[i : i + 1] for i in range(t - 1)]
    total = z.new_zeros(())
    if form == "paired":
        for i in range(t - 1):
            total = total + _masked_l1(of[i], flow_warp(frames[i + 1], f[i]) - frames[i])
            total = total + _masked_l1(ob[i], flow_warp(frames[i], b[i]) - frames[i + 1])
        return total
    for i in range(t - 1):  # official pairing
        prev_b = torch.zeros_like(frames[i]) if i == t - 2 else flow_warp(frames[i + 1], f[i + 1])
        total = total + _masked_l1(of[i], prev_b - frames[i])
        prev_f = torch.zeros_like(frames[i + 1]) if i == 0 else flow_warp(frames[i], b[i - 1])
        total = total + _masked_l1(ob[i], prev_f - frames[i + 1])
    return total
