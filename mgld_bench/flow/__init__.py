"""Optical flow and warping shared by the temporal metrics and motion-guided methods.

``estimate_flow(a, b, backend, device)`` returns the flow a -> b as (H, W, 2) float32 (dx, dy)
with ``b(x + F(x)) ≈ a(x)``; ``backward_warp(image, flow)`` samples an image at x + F(x);
``occlusion_mask(fwd, bwd)`` returns the non-occluded pixels after Lai et al. (2018).
Importing this package does not import torch or OpenCV.
"""

from __future__ import annotations

from mgld_bench.flow.backends import FLOW_BACKENDS, backend_identity, check_backend, estimate_flow
from mgld_bench.flow.warp import backward_warp, inside_mask, motion_boundary, occlusion_mask

__all__ = [
    "FLOW_BACKENDS",
    "backend_identity",
    "backward_warp",
    "check_backend",
    "estimate_flow",
    "inside_mask",
    "motion_boundary",
    "occlusion_mask",
]
