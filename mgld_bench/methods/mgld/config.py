"""Sizes of the MGLD networks: the released ones (``full()``) and small ones for CPU tests.

The full values are those of the official configs at IanYeung/MGLD-VSR 9aa7731:
``configs/mgldvsr/mgldvsr_512_realbasicvsr_deg.yaml`` (UNet, LR encoder, SD VAE, text tower,
RAFT) and ``configs/video_vae/video_autoencoder_kl_64x64x4_resi.yaml`` (video VAE with CFW).
The ``tiny()`` variants keep every structural feature (SPADE at every level, the temporal
layers, both CFW fusion layers, the causal text mask) with few channels; their only purpose is
fast numerical comparison with the official classes.  Nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class UNetConfig:
    """``InflatedUNetModelDualcondV2`` (``model.diffusion_model.``)."""

    in_channels: int = 4
    out_channels: int = 4
    model_channels: int = 320
    channel_mult: tuple[int, ...] = (1, 2, 4, 4)
    num_res_blocks: int = 2
    attention_resolutions: tuple[int, ...] = (4, 2, 1)  # downsampling factors with attention
    num_head_channels: int = 64
    context_dim: int = 1024
    semb_channels: int = 256  # channels of the LR-encoder features fed to SPADE
    spade_hidden: int = 128  # hard-coded in the official SPADE
    transformer_depth: int = 1

    @classmethod
    def full(cls) -> UNetConfig:
        return cls()

    @classmethod
    def tiny(cls) -> UNetConfig:
        return cls(model_channels=32, channel_mult=(1, 2), num_res_blocks=1,
                   attention_resolutions=(1, 2), num_head_channels=16, context_dim=32,
                   semb_channels=32)


@dataclass(frozen=True)
class EncoderConfig:
    """``InflatedEncoderUNetModelWT`` (``structcond_stage_model.``), the time-aware LR encoder."""

    in_channels: int = 4
    model_channels: int = 256
    out_channels: int = 256  # must equal UNetConfig.semb_channels
    channel_mult: tuple[int, ...] = (1, 1, 2, 2)  # as many levels as the UNet
    num_res_blocks: int = 2
    attention_resolutions: tuple[int, ...] = (4, 2, 1)
    num_heads: int = 4

    @classmethod
    def full(cls) -> EncoderConfig:
        return cls()

    @classmethod
    def tiny(cls) -> EncoderConfig:
        return cls(model_channels=32, out_channels=32, channel_mult=(1, 2), num_res_blocks=1,
                   attention_resolutions=(1, 2), num_heads=2)


@dataclass(frozen=True)
class VAEConfig:
    """SD 2.1 ``AutoencoderKL`` ddconfig; also the video VAE's (``video=True``)."""

    in_channels: int = 3
    out_channels: int = 3
    ch: int = 128
    ch_mult: tuple[int, ...] = (1, 2, 4, 4)
    num_res_blocks: int = 2
    z_channels: int = 4
    embed_dim: int = 4
    fuse_blocks: int = 2  # ResidualDenseBlocks per CFW fusion layer (video VAE only)
    fuse_grow: int = 32  # growth channels of those blocks

    @classmethod
    def full(cls) -> VAEConfig:
        return cls()

    @classmethod
    def tiny(cls) -> VAEConfig:
        # four levels so that both CFW fusion layers (levels 1 and 2) exist
        return cls(ch=32, ch_mult=(1, 1, 2, 2), num_res_blocks=1, fuse_blocks=1)


@dataclass(frozen=True)
class RAFTConfig:
    """``RAFT_SR`` (``flownet_model.``): Princeton RAFT, the 'normal' (raft-things) size."""

    iters: int = 10
    corr_levels: int = 4
    corr_radius: int = 4
    hidden_dim: int = 128
    context_dim: int = 128

    @classmethod
    def full(cls) -> RAFTConfig:
        return cls()

    @classmethod
    def tiny(cls) -> RAFTConfig:
        # RAFT has no size options in the official code (and the official compute_flow always
        # runs 10 iterations): the reduced configuration is the full one, run at >= 128 px.
        return cls()


@dataclass(frozen=True)
class TextConfig:
    """OpenCLIP ViT-H-14 text tower (``cond_stage_model.model.``), penultimate layer output."""

    vocab_size: int = 49408
    context_length: int = 77
    width: int = 1024
    heads: int = 16
    layers: int = 24
    embed_dim: int = 1024  # text_projection columns (present in the checkpoint, unused here)

    @classmethod
    def full(cls) -> TextConfig:
        return cls()

    @classmethod
    def tiny(cls) -> TextConfig:
        return cls(width=32, heads=4, layers=3, embed_dim=16)


@dataclass(frozen=True)
class MGLDConfig:
    """All components of the two released checkpoints."""

    unet: UNetConfig = field(default_factory=UNetConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)  # first_stage_model (SD VAE)
    video_vae: VAEConfig = field(default_factory=VAEConfig)  # video_vae_cfw.ckpt
    raft: RAFTConfig = field(default_factory=RAFTConfig)
    text: TextConfig = field(default_factory=TextConfig)
    scale_factor: float = 0.18215  # latent scale (config ``scale_factor``)

    @classmethod
    def full(cls) -> MGLDConfig:
        return cls()

    @classmethod
    def tiny(cls) -> MGLDConfig:
        return cls(unet=UNetConfig.tiny(), encoder=EncoderConfig.tiny(), vae=VAEConfig.tiny(),
                   video_vae=VAEConfig.tiny(), raft=RAFTConfig.tiny(), text=TextConfig.tiny())
