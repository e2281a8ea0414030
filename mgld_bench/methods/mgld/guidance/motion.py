"""Flows and occlusion masks of one chunk of frames at latent resolution, ready to guide."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mgld_bench.flow.torch_warp import resize_flow
from mgld_bench.methods.mgld.guidance.loss import warp_error
from mgld_bench.methods.mgld.guidance.occlusion import forward_backward_occlusion
from mgld_bench.methods.mgld.guidance.step import guidance_step


@dataclass
class MotionField:
    """Flows ``F_{i->i+1}``, ``F_{i+1->i}`` and their occlusion masks for ``T`` frames.

    All tensors are at latent resolution: flows ``(T-1, 2, h, w)`` and masks ``(T-1, 1, h, w)``.
    """

    flows_fwd: torch.Tensor
    flows_bwd: torch.Tensor
    occ_fwd: torch.Tensor
    occ_bwd: torch.Tensor
    alpha: float = 0.01
    beta: float = 0.5

    @classmethod
    def from_flows(
        cls,
        fwd: np.ndarray | torch.Tensor,
        bwd: np.ndarray | torch.Tensor,
        latent_size: tuple[int, int],
        alpha: float = 0.01,
        beta: float = 0.5,
        device: str | torch.device = "cpu",
    ) -> MotionField:
        """Build from image-resolution flows ``(T-1, H, W, 2)`` (numpy layout) or ``(T-1, 2, H, W)``.

        Flows are resized to ``latent_size`` with their values rescaled, then the occlusion
        masks are computed at latent resolution, as the official code does.
        """
        f = _as_nchw(fwd, device)
        b = _as_nchw(bwd, device)
        f = resize_flow(f, latent_size)
        b = resize_flow(b, latent_size)
        of, ob = forward_backward_occlusion(f, b, alpha=alpha, beta=beta)
        return cls(f, b, of, ob, alpha, beta)

    @property
    def frames(self) -> int:
        return int(self.flows_fwd.shape[0]) + 1

    def crop(self, y0: int, y1: int, x0: int, x1: int, recheck: bool = False) -> MotionField:
        """The field of a latent tile ``[y0:y1, x0:x1]`` (flows keep their values).

        By default the masks are cut from the whole-frame masks, as the official code does.
        With ``recheck`` they are recomputed on the tile, so that pixels whose match lies
        outside the tile (where the warp reads zeros) are masked out too.
        """
        sl = (slice(None), slice(None), slice(y0, y1), slice(x0, x1))
        f, b = self.flows_fwd[sl], self.flows_bwd[sl]
        if recheck:
            of, ob = forward_backward_occlusion(f, b, alpha=self.alpha, beta=self.beta)
        else:
            of, ob = self.occ_fwd[sl], self.occ_bwd[sl]
        return MotionField(f, b, of, ob, self.alpha, self.beta)

    def to(self, device: str | torch.device) -> MotionField:
        tensors = (self.flows_fwd, self.flows_bwd, self.occ_fwd, self.occ_bwd)
        return MotionField(*(t.to(device) for t in tensors), self.alpha, self.beta)

    def loss(self, z: torch.Tensor, form: str = "paired") -> torch.Tensor:
        """The warp error of Eq. 2 of latents ``z`` ``(T, C, h, w)``."""
        return warp_error(z, self.flows_fwd.to(z), self.flows_bwd.to(z), self.occ_fwd.to(z), self.occ_bwd.to(z), form)

    def step(self, z: torch.Tensor, step: float, form: str = "paired") -> tuple[torch.Tensor, float]:
        """One guidance step (Eq. 3) on ``z``; returns the new latents and the loss before it."""
        return guidance_step(z, lambda x: self.loss(x, form), step)


def _as_nchw(flow: np.ndarray | torch.Tensor, device: str | torch.device) -> torch.Tensor:
    """numpy flows are (T-1, H, W, 2) (the flow backends' layout); tensors are (T-1, 2, H, W)."""
    if isinstance(flow, np.ndarray):
        if flow.ndim != 4 or flow.shape[-1] != 2:
            raise ValueError(f"expected numpy flows (T-1, H, W, 2); got shape {flow.shape}")
        t = torch.from_numpy(np.ascontiguousarray(flow, dtype=np.float32)).permute(0, 3, 1, 2)
    else:
        t = flow.to(torch.float32)
        if t.dim() != 4 or t.shape[1] != 2:
            raise ValueError(f"expected flow tensors (T-1, 2, H, W); got shape {tuple(t.shape)}")
    return t.contiguous().to(device)
