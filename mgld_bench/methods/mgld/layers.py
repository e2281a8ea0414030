"""Building blocks shared by the MGLD denoiser and its LR encoder.

Attribute names follow the official state_dict layout (``in_layers.0``, ``emb_layers.1``,
``out_layers.3``, ``spade.mlp_shared.0`` ...), so a checkpoint loads with no renaming.
Attention runs through ``torch.nn.functional.scaled_dot_product_attention``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class FloatGroupNorm(nn.GroupNorm):
    """GroupNorm computed in float32 and cast back (the official ``GroupNorm32``)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.float()).type(x.dtype)


def group_norm(channels: int, groups: int = 32) -> FloatGroupNorm:
    return FloatGroupNorm(groups, channels)


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding, cosines first then sines: (N,) -> (N, dim) float32."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = t[:, None].float() * freqs.to(t.device)[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=-1)
    return emb


class Spade(nn.Module):
    """Spatially adaptive modulation from LR features picked by the feature map's width."""

    def __init__(self, channels: int, cond_channels: int, hidden: int = 128) -> None:
        super().__init__()
        self.param_free_norm = group_norm(channels)
        self.mlp_shared = nn.Sequential(nn.Conv2d(cond_channels, hidden, 3, padding=1), nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, channels, 3, padding=1)
        self.mlp_beta = nn.Conv2d(hidden, channels, 3, padding=1)

    def forward(self, x: torch.Tensor, cond: dict[int, torch.Tensor]) -> torch.Tensor:
        feat = self.mlp_shared(cond[x.shape[-1]])
        return self.param_free_norm(x) * (1 + self.mlp_gamma(feat)) + self.mlp_beta(feat)


class ResBlock(nn.Module):
    """Timestep-conditioned residual block; with ``cond_channels`` it is StableSR's ResBlockDual.

    ``norm_groups_out`` reproduces the official choice for the output norm of the encoder's
    blocks (32 groups when the width divides by 32, else one group per channel).
    """

    def __init__(self, channels: int, emb_channels: int, out_channels: int | None = None,
                 cond_channels: int | None = None, spade_hidden: int = 128) -> None:
        super().__init__()
        out = out_channels or channels
        self.in_layers = nn.Sequential(group_norm(channels), nn.SiLU(),
                                       nn.Conv2d(channels, out, 3, padding=1))
        self.emb_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb_channels, out))
        groups = 32 if (cond_channels is not None or out % 32 == 0) else out
        self.out_layers = nn.Sequential(group_norm(out, groups), nn.SiLU(), nn.Dropout(0.0),
                                        nn.Conv2d(out, out, 3, padding=1))
        self.spade = Spade(out, cond_channels, spade_hidden) if cond_channels is not None else None
        self.skip_connection: nn.Module = (nn.Identity() if out == channels
                                           else nn.Conv2d(channels, out, 1))

    def forward(self, x: torch.Tensor, emb: torch.Tensor,
                cond: dict[int, torch.Tensor] | None = None) -> torch.Tensor:
        h = self.in_layers(x)
        h = h + self.emb_layers(emb).type(h.dtype)[:, :, None, None]
        h = self.out_layers(h)
        if self.spade is not None:
            if cond is None:
                raise ValueError("this block needs the LR encoder features (struct_cond)")
            h = self.spade(h, cond)
        return self.skip_connection(x) + h


class TemporalConv(nn.Module):
    """(3,1,1) Conv3d over the frames of each clip, blended by ``temporal_alpha``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.temporal_conv = nn.Conv3d(channels, channels, (3, 1, 1), padding=(1, 0, 0))
        self.temporal_alpha = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        bt, c, h, w = x.shape
        clips = x.reshape(bt // num_frames, num_frames, c, h, w).transpose(1, 2)
        mixed = self.temporal_conv(clips).transpose(1, 2).reshape(bt, c, h, w)
        return self.temporal_alpha * mixed + (1 - self.temporal_alpha) * x


class Downsample(nn.Module):
    """Stride-2 3x3 convolution (``op``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.op = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.op(x)


class Upsample(nn.Module):
    """Nearest x2 then a 3x3 convolution (``conv``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


def split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    """(B, L, H*D) -> (B, H, L, D)."""
    b, n, c = x.shape
    return x.reshape(b, n, heads, c // heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(B, H, L, D) -> (B, L, H*D)."""
    b, h, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, h * d)


class QKVAttentionBlock(nn.Module):
    """Self-attention over positions with a fused 1x1 ``qkv`` projection (encoder's AttentionBlock).

    The fused channels are laid out head by head, each head holding its q, k, v in turn.
    """

    def __init__(self, channels: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.norm = group_norm(channels)
        self.qkv = nn.Conv1d(channels, 3 * channels, 1)
        self.proj_out = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, *spatial = x.shape
        flat = x.reshape(b, c, -1)
        qkv = self.qkv(self.norm(flat))  # (B, 3C, T)
        length = qkv.shape[-1]
        d = c // self.num_heads
        qkv = qkv.reshape(b, self.num_heads, 3, d, length)
        q, k, v = (qkv[:, :, i].transpose(-1, -2) for i in range(3))  # (B, H, T, D)
        a = F.scaled_dot_product_attention(q, k, v)  # (B, H, T, D)
        a = a.transpose(-1, -2).reshape(b, c, length)
        return (flat + self.proj_out(a)).reshape(b, c, *spatial)
