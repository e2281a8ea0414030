"""The per-chunk MGLD pipeline, as the official tile script runs it (and where it differs).

For one chunk of ``T`` LR frames (uint8), :func:`upscale_chunk`:

1. scales each frame by ``s = max(512 / short side, 4)`` with torch bicubic (sizes truncated
   with ``int``) in [-1, 1], and, unless both sides are multiples of 32, reflect-pads
   bottom/right to the next multiple of 32 on *both* sides (the script's rule: a side that is
   already a multiple gains 32);
2. measures flows with RAFT_SR on the padded frames brought back to LR size (bicubic / 4) in
   [0, 1]: ``F_{i->i+1} = RAFT(f_i, f_{i+1})`` and ``F_{i+1->i} = RAFT(f_{i+1}, f_i)``, resizes
   them to the latent (H/8, W/8) with their values scaled, and finds occlusions by the
   forward-backward check (α 0.01, β 0.5) on the whole frame;
3. cuts the padded frames into outer tiles of 960 px with stride 750 (one tile when the frame
   fits); per tile, re-seeded: SD-VAE encode (a posterior sample, × 0.18215), sample
   (:func:`~mgld_bench.methods.mgld.sampler.sample_chunk`) guided by the flows and masks cut at
   the tile's latent position, video-VAE encode of the same tile for the CFW features, decode
   with ``dec_w``, colour fix against the upscaled LR tile; tiles are averaged where they overlap;
4. maps to [0, 1], crops the padding (and, for inputs with short side < 128, resizes to 4× the
   LR with bicubic), and truncates to uint8.

Differences from the script, all deliberate: the flow/occlusion tile of an outer tile is cut at
exactly the tile's latent offset (the script strides them by ``750 // 8 = 93``, which drifts from
the image tiles once there are three tiles across); the small-input resize uses the unpadded size;
the noise comes from a CPU generator seeded per tile and drawn in the script's order and layout
(posterior sample, x_T noise as ``randn_like`` of a channels-last latent, one draw per step), so on
the CPU the output is the script's up to float rounding (the end-to-end fixture:
99.98 % of uint8 values identical, none off by more than 1); on a GPU the script draws from the
CUDA generator, which no CPU draw reproduces.  The chunking and the last-chunk padding live in
:mod:`.method`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from mgld_bench.methods.mgld.sampler import (
    LATENT_OVERLAP,
    LATENT_TILE,
    NoiseSource,
    iter_outer_tiles,
    sample_chunk,
    seeded_noise,
)
from mgld_bench.methods.mgld.schedule import RespacedSchedule

#: SD's latent scale (``scale_factor`` in the MGLD config).
SCALE_FACTOR = 0.18215
#: The official script's values (argparse defaults / README) -- see docs/mgld.md.
MIN_SIDE = 512
UPSCALE = 4
PAD_MULTIPLE = 32
OUTER_TILE = 960
OUTER_STRIDE = 750
OCC_ALPHA = 0.01
OCC_BETA = 0.5
COLORFIX = ("adain", "wavelet", "none")


@dataclass
class Networks:
    """The callables the pipeline needs (built from the checkpoints by :mod:`.checkpoint`).

    * ``denoise(x, lr_latent, t)`` -> ε: the LR encoder on ``lr_latent`` and the UNet on ``x``
      at original timestep ``t`` with the empty-prompt context, for the ``T`` frames of a tile;
    * ``encode_moments(img)`` -> (mean, logvar) of the SD VAE posterior, ``img`` in [-1, 1];
    * ``encode_features(img)`` -> the video VAE encoder's CFW features of ``img``;
    * ``decode(z, features, dec_w)`` -> image in [-1, 1] from unscaled latents ``z``;
    * ``flow(a, b)`` -> RAFT_SR flow a -> b ``(N, 2, h, w)``, ``a``, ``b`` in [0, 1].
    """

    denoise: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]
    encode_moments: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
    encode_features: Callable[[torch.Tensor], Any]
    decode: Callable[[torch.Tensor, Any, float], torch.Tensor]
    flow: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Settings:
    """Pipeline settings; the defaults are the README/paper values (docs/mgld.md)."""

    dec_w: float = 1.0
    colorfix: str = "adain"
    guidance: bool = True
    guidance_scale: float = -10.0
    tile: int = LATENT_TILE
    tile_overlap: int = LATENT_OVERLAP
    outer_tile: int = OUTER_TILE
    outer_stride: int = OUTER_STRIDE
    seed: int = 42
    min_side: int = MIN_SIDE


@dataclass
class ChunkLog:
    """What one chunk did (step sizes and losses per outer tile)."""

    tiles: list[dict[str, Any]] = field(default_factory=list)


# -- image preparation ------------------------------------------------------------------------
def upsample_factor(h: int, w: int, min_side: int = MIN_SIDE, upscale: int = UPSCALE) -> float:
    """``max(min_side / short side, upscale)``, the script's ``upsample_scale``."""
    return max(min_side / min(h, w), float(upscale))


def prepare_frames(frames: np.ndarray, min_side: int = MIN_SIDE) -> tuple[torch.Tensor, float, tuple[int, int]]:
    """uint8 ``(T, h, w, 3)`` -> padded ``(T, 3, H', W')`` in [-1, 1], the factor, unpadded (H, W)."""
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float() / 255.0
    x = (x - 0.5) / 0.5
    h, w = x.shape[-2:]
    s = upsample_factor(h, w, min_side)
    size = (int(h * s), int(w * s))
    x = F.interpolate(x, size=size, mode="bicubic").clamp(-1.0, 1.0)
    if size[0] % PAD_MULTIPLE or size[1] % PAD_MULTIPLE:
        # the script's rule: both sides go to the *next* multiple of 32, so a side that already
        # is one gains 32 reflected rows/columns as well (cropped again at the end)
        ph = (size[0] // PAD_MULTIPLE + 1) * PAD_MULTIPLE - size[0]
        pw = (size[1] // PAD_MULTIPLE + 1) * PAD_MULTIPLE - size[1]
        x = F.pad(x, (0, pw, 0, ph), mode="reflect")
    return x, s, size


def chunk_motion(nets: Networks, padded: torch.Tensor, alpha: float = OCC_ALPHA, beta: float = OCC_BETA) -> Any:
    """Flows and occlusion masks of the padded chunk at latent size (a ``MotionField``)."""
    from mgld_bench.methods.mgld.guidance.motion import MotionField

    h, w = padded.shape[-2:]
    im01 = ((padded + 1.0) / 2.0).clamp(0.0, 1.0)
    small = F.interpolate(im01, size=(h // 4, w // 4), mode="bicubic")
    a, b = small[:-1], small[1:]
    fwd = nets.flow(a, b).float()  # F_{i->i+1}
    bwd = nets.flow(b, a).float()  # F_{i+1->i}
    return MotionField.from_flows(fwd, bwd, (h // 8, w // 8), alpha=alpha, beta=beta, device=padded.device)


# -- colour fix ---------------------------------------------------------------------------------
def _mean_std(x: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    n, c = x.shape[:2]
    flat = x.reshape(n, c, -1)
    return flat.mean(dim=2).reshape(n, c, 1, 1), (flat.var(dim=2) + eps).sqrt().reshape(n, c, 1, 1)


def adain(content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Per image and channel: content's mean/std replaced by style's (unbiased variance + 1e-5)."""
    cm, cs = _mean_std(content)
    sm, ss = _mean_std(style)
    return (content - cm) / cs * ss + sm


def _wavelet_blur(x: torch.Tensor, radius: int) -> torch.Tensor:
    k = torch.tensor([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=x.dtype, device=x.device) / 16.0
    k = k[None, None].repeat(x.shape[1], 1, 1, 1)
    return F.conv2d(F.pad(x, (radius,) * 4, mode="replicate"), k, groups=x.shape[1], dilation=radius)


def _wavelet_split(x: torch.Tensor, levels: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    high = torch.zeros_like(x)
    for i in range(levels):
        low = _wavelet_blur(x, 2**i)
        high = high + (x - low)
        x = low
    return high, x


def wavelet(content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Content's high frequencies plus style's low frequencies (5-level à-trous decomposition)."""
    return _wavelet_split(content)[0] + _wavelet_split(style)[1]


def color_fix(x: torch.Tensor, reference: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "adain":
        return adain(x, reference)
    if kind == "wavelet":
        return wavelet(x, reference)
    if kind == "none":
        return x
    raise ValueError(f"unknown colour fix {kind!r}; choose one of {', '.join(COLORFIX)}")


# -- one chunk ----------------------------------------------------------------------------------
def upscale_chunk(
    nets: Networks,
    frames: np.ndarray,
    schedule: RespacedSchedule,
    settings: Settings,
    device: str | torch.device = "cpu",
    autocast: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
    log: ChunkLog | None = None,
    noise_factory: Callable[[int], NoiseSource] = seeded_noise,
) -> np.ndarray:
    """SR frames ``(T, 4h, 4w, 3)`` uint8 of one chunk of LR frames ``(T, h, w, 3)`` uint8."""
    t, h, w = frames.shape[:3]
    padded, s, (uh, uw) = prepare_frames(frames, settings.min_side)
    padded = padded.to(device)
    hp, wp = padded.shape[-2:]
    with torch.no_grad():
        with autocast():
            field_all = chunk_motion(nets, padded) if settings.guidance and t > 1 else None
        out = torch.zeros_like(padded, dtype=torch.float32)
        count = torch.zeros_like(padded, dtype=torch.float32)
        for y0, y1, x0, x1 in iter_outer_tiles(hp, wp, settings.outer_tile, settings.outer_stride):
            tile = padded[:, :, y0:y1, x0:x1]
            noise = noise_factory(settings.seed)  # re-seeded per tile, as the script does
            with autocast():
                mean, logvar = nets.encode_moments(tile)
            mean, logvar = mean.float(), logvar.float()
            std = torch.exp(0.5 * logvar.clamp(-30.0, 20.0))
            z_lr = SCALE_FACTOR * (mean + std * noise(tuple(mean.shape)).to(mean.device))
            guide = None
            if field_all is not None:
                sub = field_all.crop(y0 // 8, y1 // 8, x0 // 8, x1 // 8)

                def guide(z: torch.Tensor, _sub: Any = sub) -> torch.Tensor:
                    return _sub.loss(z, "official")

            steps: list[dict[str, float]] = []
            z = sample_chunk(
                nets.denoise, z_lr, schedule, noise, guide, settings.guidance_scale, settings.tile,
                settings.tile_overlap, autocast, steps,
            )
            with autocast():
                feats = nets.encode_features(tile)
                img = nets.decode(z / SCALE_FACTOR, feats, settings.dec_w)
            img = color_fix(img.float(), tile.float(), settings.colorfix)
            out[:, :, y0:y1, x0:x1] += img
            count[:, :, y0:y1, x0:x1] += 1.0
            if log is not None:
                log.tiles.append({"tile": [y0, y1, x0, x1], "steps": steps})
        sr = ((out / count + 1.0) / 2.0).clamp(0.0, 1.0)
        sr = sr[:, :, :uh, :uw]
        if s > UPSCALE:  # short side < 128: back to 4x the LR
            sr = F.interpolate(sr, size=(UPSCALE * h, UPSCALE * w), mode="bicubic").clamp(0.0, 1.0)
    arr = sr.permute(0, 2, 3, 1).cpu().numpy() * 255.0
    return arr.astype(np.uint8)  # truncation, as the script's astype(np.uint8)


def peak_memory(device: str | torch.device) -> dict[str, float]:
    """Peak memory so far: CUDA ``max_memory_allocated``, else the process's peak RSS (MB)."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return {"peak_mb": torch.cuda.max_memory_allocated(dev) / 2**20, "memory": "cuda max_memory_allocated"}
    import resource

    return {"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "memory": "process peak RSS"}
