"""The time-aware LR encoder: ``InflatedEncoderUNetModelWT`` with the official state_dict names.

Keys are those under ``structcond_stage_model.`` in ``mgldvsr_unet.ckpt`` (200 tensors,
52.49 M parameters at full size): StableSR's half UNet (256 channels, multipliers 1, 1, 2, 2,
two residual blocks per level, 4-head attention at the first three levels) whose feature map
at the end of every level (before each downsampling) and after the middle block goes through
one more timestep-conditioned residual block (``fea_tran``) to 256 channels.

``MGLDEncoder(cfg)(x, t)``: ``x`` the LR latent (N, 4, h, w) -- in the official sampler the
same latent tile as the denoiser's input tile, i.e. ``scale_factor`` x a sample of the SD-VAE
posterior of the bicubic-upsampled LR; ``t`` (N,) or (1,) timesteps on the original 1000-step
scale, the same ones the denoiser gets.  Returns ``{width: (N, 256, H, width)}`` for widths
w, w/2, w/4, w/8 -- the official code keys the same tensors by ``str(width)``; the denoiser's
SPADE layers pick them by the width of their own feature map.
"""

from __future__ import annotations

import torch
from torch import nn

from mgld_bench.methods.mgld.config import EncoderConfig
from mgld_bench.methods.mgld.layers import Downsample, QKVAttentionBlock, ResBlock, timestep_embedding


class EncoderStage(nn.ModuleList):
    """One entry of ``input_blocks`` / ``middle_block``."""

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        for layer in self:
            x = layer(x, emb) if isinstance(layer, ResBlock) else layer(x)
        return x


class MGLDEncoder(nn.Module):
    """``InflatedEncoderUNetModelWT`` at the given size (see the module docstring)."""

    def __init__(self, cfg: EncoderConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or EncoderConfig.full()
        self.cfg = cfg
        mc = cfg.model_channels
        emb_dim = mc * 4
        self.time_embed = nn.Sequential(nn.Linear(mc, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.input_blocks = nn.ModuleList([EncoderStage([nn.Conv2d(cfg.in_channels, mc, 3, padding=1)])])
        level_channels = []
        ch, ds = mc, 1
        for level, mult in enumerate(cfg.channel_mult):
            for _ in range(cfg.num_res_blocks):
                layers: list[nn.Module] = [ResBlock(ch, emb_dim, mult * mc)]
                ch = mult * mc
                if ds in cfg.attention_resolutions:
                    layers.append(QKVAttentionBlock(ch, cfg.num_heads))
                self.input_blocks.append(EncoderStage(layers))
            if level != len(cfg.channel_mult) - 1:
                self.input_blocks.append(EncoderStage([Downsample(ch)]))
                level_channels.append(ch)
                ds *= 2
        self.middle_block = EncoderStage([
            ResBlock(ch, emb_dim), QKVAttentionBlock(ch, cfg.num_heads), ResBlock(ch, emb_dim)])
        level_channels.append(ch)
        self.fea_tran = nn.ModuleList(ResBlock(c, emb_dim, cfg.out_channels) for c in level_channels)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> dict[int, torch.Tensor]:
        emb = self.time_embed(timestep_embedding(t, self.cfg.model_channels))
        h = x.to(emb.dtype)
        taps = []
        for stage in self.input_blocks:
            if isinstance(stage[0], Downsample):
                taps.append(h)
            h = stage(h, emb)
        taps.append(self.middle_block(h, emb))
        return {int(f.shape[-1]): tran(f, emb) for f, tran in zip(taps, self.fea_tran, strict=True)}
