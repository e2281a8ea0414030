"""The MGLD denoiser: ``InflatedUNetModelDualcondV2`` with the official state_dict names.

Keys are those under ``model.diffusion_model.`` in ``mgldvsr_unet.ckpt`` (876 tensors,
935.32 M parameters at full size).  The network is the SD 2.1-base UNet (320 channels,
multipliers 1, 2, 4, 4, linear-projection transformers, 64-dim heads, 1024-dim context) whose
residual blocks carry StableSR's SPADE modulation by the LR-encoder features, plus temporal
layers in the middle block only: a (3,1,1) Conv3d mix, the spatial transformer, a temporal
self-attention, the second residual block and another Conv3d mix.  Each temporal layer blends
``alpha * temporal + (1 - alpha) * input`` with its learned scalar ``temporal_alpha``.

Call ``MGLDUNet(cfg)(x, t, context, struct_cond, num_frames)``:

* ``x``: (N, 4, h, w) latents, N = clips x ``num_frames`` consecutive frames (frames of one
  clip adjacent, as the official ``(b t)`` layout);
* ``t``: (N,) or (1,) integer timesteps on the original 1000-step scale (the official sampler
  passes the respaced step's original index, shape (1,), broadcast over the frames);
* ``context``: (1 or N, 77, 1024) text context; a batch smaller than N is repeated
  (``repeat_interleave``) to N, as the official xformers attention does;
* ``struct_cond``: ``{width: (N, 256, H_w, w)}`` from :class:`~.encoder.MGLDEncoder` for every
  width the UNet visits (w, w/2, w/4, w/8) -- the official code keys it by ``str(width)``, this
  port by ``int``;
* ``num_frames``: frames per clip for the temporal layers (the official modules use their
  constructor's value 5).

Returns eps, (N, 4, h, w), in the dtype of ``x``.  h and w must divide by 8.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mgld_bench.methods.mgld.config import UNetConfig
from mgld_bench.methods.mgld.layers import (
    Downsample,
    ResBlock,
    TemporalConv,
    Upsample,
    group_norm,
    merge_heads,
    split_heads,
    timestep_embedding,
)


class Attention(nn.Module):
    """Multi-head attention with bias-free q/k/v projections and ``to_out.0``."""

    def __init__(self, dim: int, heads: int, dim_head: int, context_dim: int | None = None) -> None:
        super().__init__()
        inner = heads * dim_head
        kv_dim = context_dim or dim
        self.heads = heads
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_k = nn.Linear(kv_dim, inner, bias=False)
        self.to_v = nn.Linear(kv_dim, inner, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, dim), nn.Dropout(0.0))

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        ctx = x if context is None else context
        if ctx.shape[0] != x.shape[0]:
            ctx = torch.repeat_interleave(ctx, x.shape[0] // ctx.shape[0], dim=0)
        q = split_heads(self.to_q(x), self.heads)
        k = split_heads(self.to_k(ctx), self.heads)
        v = split_heads(self.to_v(ctx), self.heads)
        return self.to_out(merge_heads(F.scaled_dot_product_attention(q, k, v)))


class GEGLU(nn.Module):
    def __init__(self, dim: int, inner: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, gate = self.proj(x).chunk(2, dim=-1)
        return a * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim: int, mult: int = 4) -> None:
        super().__init__()
        self.net = nn.Sequential(GEGLU(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, dim_head: int, context_dim: int) -> None:
        super().__init__()
        self.attn1 = Attention(dim, heads, dim_head)
        self.ff = FeedForward(dim)
        self.attn2 = Attention(dim, heads, dim_head, context_dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        x = x + self.attn1(self.norm1(x))
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff(self.norm3(x))


class SpatialTransformer(nn.Module):
    """GroupNorm, linear projection in, transformer blocks, linear projection out, residual."""

    def __init__(self, channels: int, heads: int, dim_head: int, context_dim: int, depth: int = 1) -> None:
        super().__init__()
        inner = heads * dim_head
        self.norm = nn.GroupNorm(32, channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, inner)
        self.transformer_blocks = nn.ModuleList(
            TransformerBlock(inner, heads, dim_head, context_dim) for _ in range(depth))
        self.proj_out = nn.Linear(channels, inner)  # official shape (in_channels -> inner)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        y = self.norm(x).permute(0, 2, 3, 1).reshape(b, h * w, c)
        y = self.proj_in(y)
        for block in self.transformer_blocks:
            y = block(y, context)
        y = self.proj_out(y)
        return x + y.reshape(b, h, w, c).permute(0, 3, 1, 2)


class TemporalAttention(nn.Module):
    """Self-attention across the frames of a clip at every pixel, blended by ``temporal_alpha``."""

    def __init__(self, channels: int, heads: int, dim_head: int) -> None:
        super().__init__()
        self.temporal_attn = Attention(channels, heads, dim_head)
        self.norm = nn.LayerNorm(channels)
        self.temporal_alpha = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        bt, c, h, w = x.shape
        b = bt // num_frames
        seq = x.reshape(b, num_frames, c, h * w).permute(0, 3, 1, 2).reshape(b * h * w, num_frames, c)
        out = self.temporal_attn(self.norm(seq))
        out = out.reshape(b, h * w, num_frames, c).permute(0, 2, 3, 1).reshape(bt, c, h, w)
        return self.temporal_alpha * out + (1 - self.temporal_alpha) * x


class Stage(nn.ModuleList):
    """One entry of ``input_blocks`` / ``output_blocks`` / ``middle_block``: layers run in order."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor, context: torch.Tensor,  # type: ignore[override]
                cond: dict[int, torch.Tensor], num_frames: int) -> torch.Tensor:
        for layer in self:
            if isinstance(layer, ResBlock):
                x = layer(x, emb, cond)
            elif isinstance(layer, SpatialTransformer):
                x = layer(x, context)
            elif isinstance(layer, (TemporalConv, TemporalAttention)):
                x = layer(x, num_frames)
            else:
                x = layer(x)
        return x


class MGLDUNet(nn.Module):
    """``InflatedUNetModelDualcondV2`` at the given size (see the module docstring)."""

    def __init__(self, cfg: UNetConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or UNetConfig.full()
        self.cfg = cfg
        mc = cfg.model_channels
        emb_dim = mc * 4
        hd = cfg.num_head_channels

        def res(cin: int, cout: int | None = None) -> ResBlock:
            return ResBlock(cin, emb_dim, cout, cond_channels=cfg.semb_channels,
                            spade_hidden=cfg.spade_hidden)

        def attn(ch: int) -> SpatialTransformer:
            return SpatialTransformer(ch, ch // hd, hd, cfg.context_dim, cfg.transformer_depth)

        self.time_embed = nn.Sequential(nn.Linear(mc, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.input_blocks = nn.ModuleList([Stage([nn.Conv2d(cfg.in_channels, mc, 3, padding=1)])])
        skips = [mc]
        ch, ds = mc, 1
        for level, mult in enumerate(cfg.channel_mult):
            for _ in range(cfg.num_res_blocks):
                layers: list[nn.Module] = [res(ch, mult * mc)]
                ch = mult * mc
                if ds in cfg.attention_resolutions:
                    layers.append(attn(ch))
                self.input_blocks.append(Stage(layers))
                skips.append(ch)
            if level != len(cfg.channel_mult) - 1:
                self.input_blocks.append(Stage([Downsample(ch)]))
                skips.append(ch)
                ds *= 2

        self.middle_block = Stage([
            res(ch), TemporalConv(ch), attn(ch), TemporalAttention(ch, ch // hd, hd), res(ch),
            TemporalConv(ch)])

        self.output_blocks = nn.ModuleList()
        for level, mult in reversed(list(enumerate(cfg.channel_mult))):
            for i in range(cfg.num_res_blocks + 1):
                layers = [res(ch + skips.pop(), mc * mult)]
                ch = mc * mult
                if ds in cfg.attention_resolutions:
                    layers.append(attn(ch))
                if level and i == cfg.num_res_blocks:
                    layers.append(Upsample(ch))
                    ds //= 2
                self.output_blocks.append(Stage(layers))

        self.out = nn.Sequential(group_norm(ch), nn.SiLU(), nn.Conv2d(mc, cfg.out_channels, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, context: torch.Tensor,
                struct_cond: dict[int, torch.Tensor], num_frames: int) -> torch.Tensor:
        if x.shape[0] % num_frames:
            raise ValueError(f"batch {x.shape[0]} is not a whole number of {num_frames}-frame clips")
        emb = self.time_embed(timestep_embedding(t, self.cfg.model_channels))
        h = x.to(self.out[2].weight.dtype)  # float32 weights: the official float32 body
        hs = []
        for stage in self.input_blocks:
            h = stage(h, emb, context, struct_cond, num_frames)
            hs.append(h)
        h = self.middle_block(h, emb, context, struct_cond, num_frames)
        for stage in self.output_blocks:
            h = stage(torch.cat([h, hs.pop()], dim=1), emb, context, struct_cond, num_frames)
        return self.out(h.type(x.dtype))
