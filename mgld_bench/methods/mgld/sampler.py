"""MGLD's sampler: ancestral DDPM on a tiled latent canvas, with motion guidance after every step.

One call of :func:`sample_chunk` turns the LR latents of one chunk of frames into SR latents,
as the official ``LatentDiffusionVSRTextWT.sample_canvas`` / ``p_sample_canvas`` do:

* x_T = √ᾱ_999 · z_LR + √(1 - ᾱ_999) · ε on the 1000-step schedule (ε drawn in the official
  script's channels-last order when the source offers it, :func:`seeded_noise`);
* at each of the respaced steps k = K-1 .. 0 (original timestep t_k), the ε-prediction is made
  tile by tile (latent tiles of 64 with overlap 32; each tile of all frames together, the LR
  encoder run on the same tile of the LR latent) and stitched with Gaussian weights;
* x̂_0 = √(1/ᾱ'_k)·x - √(1/ᾱ'_k - 1)·ε, *not* clamped (``LatentDiffusionVSRTextWT`` sets
  ``clip_denoised = False``);
  z = coef1·x̂_0 + coef2·x + [k > 0]·exp(½ log σ̃²_k)·ε_k;
* then the guidance on the whole chunk: z ← z - s · log σ̃²_k · ∇E(z) with s = -10 and E the
  official warp error (:func:`~mgld_bench.methods.mgld.guidance.loss.warp_error`, form
  ``official``); the gradient does not pass through the networks.  All K steps, t = 0 included.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from mgld_bench.methods.mgld.schedule import RespacedSchedule

#: ``denoise(x_tile, lr_latent_tile, t)`` -> ε for the tile; ``t`` is the original timestep.
Denoiser = Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]
#: ``noise(shape)`` -> standard normal float32 tensor (on any device; it is moved).
NoiseSource = Callable[[tuple[int, ...]], torch.Tensor]

#: The guidance scale hard-coded in the official script (``guidance_scale=-10.0``).
GUIDANCE_SCALE = -10.0
#: Latent canvas tile and overlap of the official script (``tile_size=64``, ``--tile_overlap 32``).
LATENT_TILE = 64
LATENT_OVERLAP = 32


def seeded_noise(seed: int) -> NoiseSource:
    """Normal noise from a CPU generator seeded with ``seed`` (the same on every device).

    The returned source also has ``channels_last(shape)``: a draw from the same generator laid
    out as the official script's x_T noise, ``torch.randn_like`` of the LR latent.  That latent
    is channels-last in the script (its ``read_image`` turns an HWC array into NCHW by a
    transpose, and every op up to the VAE keeps that layout), and ``randn_like`` then fills the
    tensor in memory order with ``normal_`` on the strided tensor -- other numbers than
    ``randn(shape)``.  Found by ``tests/methods/mgld/test_mgld_end_to_end_official.py``.
    """
    gen = torch.Generator(device="cpu").manual_seed(int(seed))

    def draw(shape: tuple[int, ...]) -> torch.Tensor:
        return torch.randn(tuple(shape), generator=gen, dtype=torch.float32)

    def draw_channels_last(shape: tuple[int, ...]) -> torch.Tensor:
        like = torch.empty(tuple(shape), dtype=torch.float32).to(memory_format=torch.channels_last)
        return like.normal_(generator=gen).contiguous()

    draw.channels_last = draw_channels_last  # type: ignore[attr-defined]
    return draw


def canvas_starts(size: int, tile: int, overlap: int) -> list[int]:
    """Tile offsets along one axis as the official canvas places them.

    Tile ``k`` starts at ``k·(tile - overlap)``; the count is the smallest that reaches the end,
    and the last tile is moved flush with the end (``size - tile``).  A canvas smaller than the
    tile (impossible with the official 512-px minimum) is one tile of the canvas's size.
    """
    if size <= tile:
        return [0]
    n, end = 0, 0
    while end < size:
        end = max(n * tile - overlap * n, 0) + tile
        n += 1
    starts = [k * (tile - overlap) for k in range(n - 1)] + [size - tile]
    return starts


def gaussian_tile_weights(height: int, width: int) -> torch.Tensor:
    """The official canvas weights of a ``height`` × ``width`` tile (float64).

    ``exp(-(i - m)² / size² / (2·0.01)) / √(2π·0.01)`` per axis with the midpoint
    ``m = (width - 1) / 2`` across and ``m = height / 2`` down (the official code uses the two
    different midpoints), combined as an outer product.
    """
    var = 0.01

    def axis(n: int, mid: float) -> np.ndarray:
        i = np.arange(n, dtype=np.float64)
        return np.exp(-((i - mid) ** 2) / (n * n) / (2 * var)) / math.sqrt(2 * math.pi * var)

    return torch.from_numpy(np.outer(axis(height, height / 2), axis(width, (width - 1) / 2)))


def predict_eps_canvas(
    denoise: Denoiser, x: torch.Tensor, lr_latent: torch.Tensor, t: int, tile: int = LATENT_TILE,
    overlap: int = LATENT_OVERLAP,
) -> torch.Tensor:
    """ε for the whole latent ``x`` ``(T, C, h, w)``, predicted per tile and stitched (float32)."""
    h, w = x.shape[-2:]
    th, tw = min(tile, h), min(tile, w)
    weights = gaussian_tile_weights(th, tw).to(x.device)
    acc = torch.zeros(x.shape, device=x.device, dtype=torch.float32)
    count = torch.zeros(x.shape, device=x.device, dtype=torch.float32)
    # the official loop runs across the width first (its "rows" are x offsets)
    for x0 in canvas_starts(w, tw, overlap):
        for y0 in canvas_starts(h, th, overlap):
            sl = (slice(None), slice(None), slice(y0, y0 + th), slice(x0, x0 + tw))
            eps = denoise(x[sl], lr_latent[sl], t)
            acc[sl] += eps * weights
            count[sl] += weights
    return acc / count


def sample_chunk(
    denoise: Denoiser,
    lr_latent: torch.Tensor,
    schedule: RespacedSchedule,
    noise: NoiseSource,
    guide: Callable[[torch.Tensor], torch.Tensor] | None = None,
    guidance_scale: float = GUIDANCE_SCALE,
    tile: int = LATENT_TILE,
    overlap: int = LATENT_OVERLAP,
    autocast: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
    log: list[dict[str, float]] | None = None,
    x_t: torch.Tensor | None = None,
    intermediates: list[torch.Tensor] | None = None,
) -> torch.Tensor:
    """SR latents ``(T, C, h, w)`` (float32) of one chunk from its LR latents.

    ``guide(z)`` returns the scalar warp error of latents ``z`` (None: no guidance, the
    ablation).  ``autocast`` wraps the network calls only; the schedule arithmetic and the
    guidance gradient run in float32.  ``x_t`` replaces the initial latent and
    ``intermediates`` receives the latent after every (guided) step (for fixtures).
    """
    from mgld_bench.methods.mgld.guidance.step import guidance_step

    z_lr = lr_latent.float()
    dev = z_lr.device
    if x_t is None:
        # the official x_T noise is randn_like of the channels-last LR latent (see seeded_noise)
        first = getattr(noise, "channels_last", noise) if z_lr.dim() == 4 else noise
        x = schedule.start_signal * z_lr + schedule.start_noise * first(tuple(z_lr.shape)).to(dev)
    else:
        x = x_t.float().to(dev)
    for k in reversed(range(len(schedule))):
        t = int(schedule.timesteps[k])
        with autocast():
            eps = predict_eps_canvas(denoise, x, lr_latent, t, tile, overlap)
        x0 = float(schedule.sqrt_recip_alphas_cumprod[k]) * x - float(schedule.sqrt_recipm1_alphas_cumprod[k]) * eps
        mean = float(schedule.posterior_mean_coef1[k]) * x0 + float(schedule.posterior_mean_coef2[k]) * x
        log_var = float(schedule.posterior_log_variance_clipped[k])
        eps_k = noise(tuple(x.shape)).to(dev)  # drawn at every step, as the official sampler does
        x = mean + math.exp(0.5 * log_var) * eps_k if k > 0 else mean
        entry: dict[str, float] = {"step": len(schedule) - 1 - k, "timestep": t}
        if guide is not None and x.shape[0] > 1:
            step = float(guidance_scale) * log_var
            x, loss = guidance_step(x, guide, step)
            entry.update(step_size=step, loss=loss)
        if log is not None:
            log.append(entry)
        if intermediates is not None:
            intermediates.append(x.detach().clone())
    return x


def outer_tile_starts(length: int, size: int, stride: int) -> list[int]:
    """Starts of the official outer (pixel) tiles (``ImageSpliterTh``): a stride grid, each start
    moved back so its tile ends inside the image, duplicates dropped; one tile when it fits."""
    if length <= size:
        return [0]
    starts = [min(s, length - size) for s in range(0, length, stride)]
    return list(dict.fromkeys(starts))


def iter_outer_tiles(height: int, width: int, size: int, stride: int) -> Iterator[tuple[int, int, int, int]]:
    """``(y0, y1, x0, x1)`` of each outer tile."""
    for x0 in outer_tile_starts(width, size, stride):
        for y0 in outer_tile_starts(height, size, stride):
            yield y0, min(y0 + size, height), x0, min(x0 + size, width)
