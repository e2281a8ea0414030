"""Backward warping and the forward-backward occlusion test of Lai et al. (2018).

Conventions (shared by every flow backend): a flow ``F`` from frame ``a`` to frame ``b`` is an
(H, W, 2) float32 array of (dx, dy) such that ``b(x + F(x)) ≈ a(x)``.  Warping ``b`` with
``F`` therefore gives an estimate of ``a``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Thresholds of the forward-backward consistency check (Ruder et al. 2016, used by Lai et al.):
#: occluded where |F + B~|² > FB_ALPHA (|F|² + |B~|²) + FB_BETA.
FB_ALPHA = 0.01
FB_BETA = 0.5
#: Motion-boundary rule: occluded where |∇u|² + |∇v|² > MB_ALPHA |F|² + MB_BETA.
MB_ALPHA = 0.01
MB_BETA = 0.002


def _check_flow(flow: np.ndarray, what: str) -> np.ndarray:
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"{what}: expected an (H, W, 2) flow, got shape {flow.shape}")
    return flow.astype(np.float32, copy=False)


@lru_cache(maxsize=8)
def _grid(h: int, w: int) -> np.ndarray:
    grid = np.empty((h, w, 2), dtype=np.float32)
    grid[..., 0] = np.arange(w, dtype=np.float32)[None, :]
    grid[..., 1] = np.arange(h, dtype=np.float32)[:, None]
    grid.setflags(write=False)
    return grid


def sample_map(flow: np.ndarray) -> np.ndarray:
    """The absolute sampling positions x + F(x) as one (H, W, 2) float32 map (x, y)."""
    flow = _check_flow(flow, "flow")
    return flow + _grid(*flow.shape[:2])


def remap(image: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Bilinear samples of ``image`` at ``positions`` (a :func:`sample_map`), border clamped."""
    import cv2

    src = np.ascontiguousarray(image, dtype=np.float32)
    if src.shape[:2] != positions.shape[:2]:
        raise ValueError(f"image is {src.shape[:2]} but the flow is {positions.shape[:2]}")
    if src.ndim == 3 and src.shape[2] not in (1, 3, 4):
        # OpenCV interpolates 2-channel float images with fixed-point weights (errors ~1e-2 px
        # measured with OpenCV 5.0), so flows and other odd channel counts go plane by plane.
        planes = [cv2.remap(np.ascontiguousarray(src[..., c]), positions, None, cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REPLICATE) for c in range(src.shape[2])]
        return np.stack(planes, axis=-1)
    out = cv2.remap(src, positions, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(src.shape)


def backward_warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Sample ``image`` at x + flow(x) with bilinear interpolation.

    ``image`` is (H, W) or (H, W, C), any real dtype; the result is float32 of the same shape.
    Positions outside the image are clamped to the border (as FlowNet2's Resample2d does);
    use :func:`inside_mask` to find them.  The work is done by ``cv2.remap`` on float32 data
    with float32 maps, which interpolates in floating point for 1, 3 and 4 channels; other
    channel counts (flows!) are warped plane by plane (see :func:`remap`).
    """
    return remap(image, sample_map(flow))


def inside_mask(flow: np.ndarray, positions: np.ndarray | None = None) -> np.ndarray:
    """True where x + flow(x) lies inside the frame (bool H x W)."""
    m = sample_map(flow) if positions is None else positions
    h, w = m.shape[:2]
    mx, my = m[..., 0], m[..., 1]
    return (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)


def _sq_norm(v: np.ndarray) -> np.ndarray:
    return v[..., 0] * v[..., 0] + v[..., 1] * v[..., 1]


def motion_boundary(flow: np.ndarray) -> np.ndarray:
    """Lai's motion-boundary rule: True where |∇u|² + |∇v|² > 0.01 |F|² + 0.002.

    Gradients are forward differences u(x) - u(x + 1) along x and y, zero on the last column
    and row.
    """
    flow = _check_flow(flow, "flow")
    rhs = _sq_norm(flow)
    rhs *= MB_ALPHA
    rhs += MB_BETA
    grad2 = np.zeros(flow.shape[:2], dtype=np.float32)
    for c in range(2):
        comp = flow[..., c]
        d = comp[:, :-1] - comp[:, 1:]
        grad2[:, :-1] += d * d
        d = comp[:-1, :] - comp[1:, :]
        grad2[:-1, :] += d * d
    return grad2 > rhs


def occlusion_mask(
    fwd: np.ndarray, bwd: np.ndarray, motion_boundaries: bool = True, exclude_outside: bool = False,
    positions: np.ndarray | None = None,
) -> np.ndarray:
    """Non-occluded pixels of frame t (bool H x W, True = keep), after Lai et al. 2018.

    ``fwd`` is the flow t -> t+1 and ``bwd`` the flow t+1 -> t.  A pixel is occluded when the
    forward-backward check fails, |F + B(x+F)|² > 0.01 (|F|² + |B(x+F)|²) + 0.5, or (with
    ``motion_boundaries``) it lies on a motion boundary of F.  ``exclude_outside`` also drops
    pixels whose target x + F(x) leaves the frame (Lai's code keeps them, comparing against the
    clamped border).  ``positions`` may pass a precomputed :func:`sample_map` of ``fwd``.
    Arithmetic is float32, as in the CUDA/PyTorch reference code.
    """
    fwd = _check_flow(fwd, "forward flow")
    bwd = _check_flow(bwd, "backward flow")
    if fwd.shape != bwd.shape:
        raise ValueError(f"forward flow is {fwd.shape} but backward flow is {bwd.shape}")
    pos = sample_map(fwd) if positions is None else positions
    bwd_w = remap(bwd, pos)
    lhs = _sq_norm(fwd + bwd_w)
    rhs = FB_ALPHA * (_sq_norm(fwd) + _sq_norm(bwd_w)) + FB_BETA
    occluded = lhs > rhs
    if motion_boundaries:
        occluded |= motion_boundary(fwd)
    if exclude_outside:
        occluded |= ~inside_mask(fwd, pos)
    return ~occluded
