"""The two autoencoders of MGLD, with the official state_dict names.

``SDAutoencoder`` -- the SD 2.1 ``AutoencoderKL`` under ``first_stage_model.`` in
``mgldvsr_unet.ckpt`` (248 tensors, 83.65 M).  The official tile script uses it only to
*encode* the LR: ``z_lr = 0.18215 * posterior.sample()`` of the bicubic-upsampled, reflect-padded
LR chunk in [-1, 1] (``get_first_stage_encoding(encode_first_stage(im_lq))``).  The posterior's
sample is ``mean + exp(0.5 * clamp(logvar, -30, 20)) * randn`` with ``torch.randn`` drawn on the
CPU generator and moved to the device.  ``encode_moments`` returns (mean, clamped logvar);
``sample_latent`` applies the noise.  Its decoder is kept so the checkpoint loads strictly.

``VideoAutoencoder`` -- ``VideoAutoencoderKLResi`` (version 1) of ``video_vae_cfw.ckpt``
(``encoder.`` 34.16 M, ``decoder.`` 80.81 M, ``quant_conv.``, ``post_quant_conv.``).  The
decoder is ``VideoDecoder_Mix``: the SD decoder with a (3,1,1) temporal mix after the middle
block's first ResnetBlock (``decoder.temporal_mixing``) and after every up-block ResnetBlock
(``decoder.up.{i}.temporal_mixing.{j}``), and the CFW fusion layers ``fusion_layer_1`` /
``fusion_layer_2`` (StableSR ``Fuse_sft_block_ResidualDenseBlock``) that add
``dec_w * f(enc_feat, dec_feat)`` at levels 1 and 2 before their upsampling.  The official
script decodes with it as ``vq_model.decode(samples / 0.18215, enc_fea_lq)`` where
``enc_fea_lq = vq_model.encode(im_lq)[1]``: the features this VAE's *own* encoder produces for
the same bicubic-upsampled LR tile in [-1, 1] at the end of encoder levels 1 and 2 (after their
last ResnetBlock, before downsampling); the posterior is discarded.  ``dec_w`` is
``--dec_w`` (README 1.0).  ``encode_features`` computes only those two maps (the rest of the
encoder does not affect them).  The decoder's temporal mixes treat the batch as clips of
``num_frames`` consecutive frames (the official modules use their constructor's 5).
Output is the image in [-1, 1] (unclamped).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mgld_bench.methods.mgld.config import VAEConfig
from mgld_bench.methods.mgld.layers import TemporalConv


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(32, channels, eps=1e-6)


def _swish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(x)


class ResnetBlock(nn.Module):
    def __init__(self, cin: int, cout: int | None = None) -> None:
        super().__init__()
        cout = cout or cin
        self.norm1 = _norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = _norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(_swish(self.norm1(x)))
        h = self.conv2(_swish(self.norm2(h)))
        skip = self.nin_shortcut(x) if hasattr(self, "nin_shortcut") else x
        return skip + h


class AttnBlock(nn.Module):
    """Single-head self-attention over positions with 1x1 q/k/v/proj_out convolutions."""

    def __init__(self, ch: int) -> None:
        super().__init__()
        self.norm = _norm(ch)
        self.q = nn.Conv2d(ch, ch, 1)
        self.k = nn.Conv2d(ch, ch, 1)
        self.v = nn.Conv2d(ch, ch, 1)
        self.proj_out = nn.Conv2d(ch, ch, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        y = self.norm(x)
        q, k, v = (m(y).reshape(b, 1, c, h * w).transpose(-1, -2) for m in (self.q, self.k, self.v))
        a = F.scaled_dot_product_attention(q, k, v).transpose(-1, -2).reshape(b, c, h, w)
        return x + self.proj_out(a)


class _Down(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class _Up(nn.Module):
    def __init__(self, ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Encoder(nn.Module):
    """SD VAE encoder: image (N, 3, H, W) in [-1, 1] -> moments (N, 2*z, H/8, W/8)."""

    def __init__(self, cfg: VAEConfig) -> None:
        super().__init__()
        self.conv_in = nn.Conv2d(cfg.in_channels, cfg.ch, 3, padding=1)
        self.down = nn.ModuleList()
        cin = cfg.ch
        for i, mult in enumerate(cfg.ch_mult):
            level = nn.Module()
            level.block = nn.ModuleList()
            level.attn = nn.ModuleList()
            for _ in range(cfg.num_res_blocks):
                level.block.append(ResnetBlock(cin, cfg.ch * mult))
                cin = cfg.ch * mult
            if i != len(cfg.ch_mult) - 1:
                level.downsample = _Down(cin)
            self.down.append(level)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(cin)
        self.mid.attn_1 = AttnBlock(cin)
        self.mid.block_2 = ResnetBlock(cin)
        self.norm_out = _norm(cin)
        self.conv_out = nn.Conv2d(cin, 2 * cfg.z_channels, 3, padding=1)

    def _levels(self, x: torch.Tensor, stop_after: int | None = None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        h = self.conv_in(x)
        feats = []
        for i, level in enumerate(self.down):
            for block in level.block:
                h = block(h)
            if i in (1, 2):
                feats.append(h)
            if stop_after is not None and i == stop_after:
                return h, feats
            if hasattr(level, "downsample"):
                h = level.downsample(h)
        return h, feats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, _ = self._levels(x)
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h)))
        return self.conv_out(_swish(self.norm_out(h)))

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The CFW features: the maps at the end of levels 1 and 2."""
        return self._levels(x, stop_after=2)[1]


class Decoder(nn.Module):
    """SD VAE decoder; with ``video=True`` the MGLD ``VideoDecoder_Mix`` (temporal mixes + CFW)."""

    def __init__(self, cfg: VAEConfig, video: bool = False) -> None:
        super().__init__()
        self.video = video
        n = len(cfg.ch_mult)
        cin = cfg.ch * cfg.ch_mult[-1]
        self.conv_in = nn.Conv2d(cfg.z_channels, cin, 3, padding=1)
        self.mid = nn.Module()
        self.mid.block_1 = ResnetBlock(cin)
        self.mid.attn_1 = AttnBlock(cin)
        self.mid.block_2 = ResnetBlock(cin)
        if video:
            self.temporal_mixing = TemporalConv(cin)
        levels: list[nn.Module] = []
        for i in reversed(range(n)):
            cout = cfg.ch * cfg.ch_mult[i]
            if video and 0 < i < n - 1:
                setattr(self, f"fusion_layer_{i}", FuseBlock(cout, cfg.fuse_blocks, cfg.fuse_grow))
            level = nn.Module()
            level.block = nn.ModuleList()
            level.attn = nn.ModuleList()
            if video:
                level.temporal_mixing = nn.ModuleList()
            for _ in range(cfg.num_res_blocks + 1):
                level.block.append(ResnetBlock(cin, cout))
                cin = cout
                if video:
                    level.temporal_mixing.append(TemporalConv(cin))
            if i != 0:
                level.upsample = _Up(cin)
            levels.insert(0, level)
        self.up = nn.ModuleList(levels)
        self.norm_out = _norm(cin)
        self.conv_out = nn.Conv2d(cin, cfg.out_channels, 3, padding=1)

    def forward(self, z: torch.Tensor, enc_feats: list[torch.Tensor] | None = None,
                dec_w: float = 1.0, num_frames: int = 1) -> torch.Tensor:
        h = self.mid.block_1(self.conv_in(z))
        if self.video:
            h = self.temporal_mixing(h, num_frames)
        h = self.mid.block_2(self.mid.attn_1(h))
        n = len(self.up)
        for i in reversed(range(n)):
            level = self.up[i]
            for j, block in enumerate(level.block):
                h = block(h)
                if self.video:
                    h = level.temporal_mixing[j](h, num_frames)
            if self.video and 0 < i < n - 1:
                if enc_feats is None:
                    raise ValueError("the video decoder needs the encoder features (enc_feats)")
                h = getattr(self, f"fusion_layer_{i}")(enc_feats[i - 1], h, dec_w)
            if i != 0:
                h = level.upsample(h)
        return self.conv_out(_swish(self.norm_out(h)))


class FuseResBlock(nn.Module):
    """Pre-activation residual block of the CFW layers (``conv_out`` 1x1 when widths differ)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.norm1 = _norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = _norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        if cin != cout:
            self.conv_out = nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv2(_swish(self.norm2(self.conv1(_swish(self.norm1(x))))))
        return h + (self.conv_out(x) if hasattr(self, "conv_out") else x)


class DenseBlock(nn.Module):
    """ESRGAN residual dense block: five 3x3 convolutions on concatenated features, 0.2 residual."""

    def __init__(self, feat: int, grow: int) -> None:
        super().__init__()
        for i in range(5):
            cout = feat if i == 4 else grow
            setattr(self, f"conv{i + 1}", nn.Conv2d(feat + i * grow, cout, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for i in range(1, 5):
            feats.append(F.leaky_relu(getattr(self, f"conv{i}")(torch.cat(feats, 1)), 0.2))
        return self.conv5(torch.cat(feats, 1)) * 0.2 + x


class FuseBlock(nn.Module):
    """CFW: ``dec + w * g(cat(enc, dec))`` with g = ResBlock, dense blocks, ResBlock."""

    def __init__(self, ch: int, num_blocks: int, grow: int) -> None:
        super().__init__()
        self.encode_enc_1 = FuseResBlock(2 * ch, ch)
        self.encode_enc_2 = nn.Sequential(*(DenseBlock(ch, grow) for _ in range(num_blocks)))
        self.encode_enc_3 = FuseResBlock(ch, ch)

    def forward(self, enc: torch.Tensor, dec: torch.Tensor, w: float) -> torch.Tensor:
        g = self.encode_enc_3(self.encode_enc_2(self.encode_enc_1(torch.cat([enc, dec], 1))))
        return dec + w * g


class SDAutoencoder(nn.Module):
    """``AutoencoderKL`` (``first_stage_model.``): encode the LR to the latent."""

    def __init__(self, cfg: VAEConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or VAEConfig.full()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.quant_conv = nn.Conv2d(2 * cfg.z_channels, 2 * cfg.embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(cfg.embed_dim, cfg.z_channels, 1)

    def encode_moments(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Image (N, 3, H, W) in [-1, 1] -> (mean, logvar clamped to [-30, 20]), each (N, 4, H/8, W/8)."""
        mean, logvar = self.quant_conv(self.encoder(x)).chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)

    @staticmethod
    def sample_latent(mean: torch.Tensor, logvar: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """The posterior sample ``mean + exp(logvar / 2) * noise`` (not yet scaled by 0.18215)."""
        return mean + torch.exp(0.5 * logvar) * noise

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Unscaled latent -> image in [-1, 1] (not used by the official pipeline)."""
        return self.decoder(self.post_quant_conv(z))


class VideoAutoencoder(nn.Module):
    """``VideoAutoencoderKLResi`` of ``video_vae_cfw.ckpt``: CFW decoding of the MGLD latents."""

    def __init__(self, cfg: VAEConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or VAEConfig.full()
        self.cfg = cfg
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg, video=True)
        self.quant_conv = nn.Conv2d(2 * cfg.z_channels, 2 * cfg.embed_dim, 1)
        self.post_quant_conv = nn.Conv2d(cfg.embed_dim, cfg.z_channels, 1)

    def encode_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """LR image (N, 3, H, W) in [-1, 1] -> [(N, ch*m1, H/2, W/2), (N, ch*m2, H/4, W/4)]."""
        return self.encoder.features(x)

    def decode(self, z: torch.Tensor, enc_feats: list[torch.Tensor], dec_w: float = 1.0,
               num_frames: int = 5) -> torch.Tensor:
        """Unscaled latent (N, 4, H/8, W/8) (i.e. sample / 0.18215) -> image (N, 3, H, W) in [-1, 1]."""
        if z.shape[0] % num_frames:
            raise ValueError(f"batch {z.shape[0]} is not a whole number of {num_frames}-frame clips")
        return self.decoder(self.post_quant_conv(z), enc_feats, dec_w, num_frames)
