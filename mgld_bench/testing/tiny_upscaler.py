"""A tiny, randomly initialised ``StableDiffusionUpscalePipeline`` built offline from small configs.

It has the real pipeline's structure -- UNet with 4 latent + 3 image input channels and a
noise-level class embedding, a x4 AutoencoderKL (three blocks), a CLIP text encoder and
tokenizer, a DDIM v-prediction scheduler and a DDPM low-res scheduler with the hub configs --
at a size that runs in a second on a CPU.  Its outputs are meaningless; it exercises the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def build_tiny_upscaler(seed: int = 0, work: Path | None = None) -> Any:
    """Return a tiny pipeline (``work`` holds the tokenizer's vocabulary files)."""
    import tempfile

    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        DDPMScheduler,
        StableDiffusionUpscalePipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    work = Path(work or tempfile.mkdtemp(prefix="tiny-upscaler-"))
    work.mkdir(parents=True, exist_ok=True)
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "!": 2, "a</w>": 3, "b</w>": 4, "a": 5, "b": 6}
    (work / "vocab.json").write_text(json.dumps(vocab))
    (work / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(work / "vocab.json"), str(work / "merges.txt"), model_max_length=8)
    torch.manual_seed(seed)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=8,
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=8,
            projection_dim=16,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    unet = UNet2DConditionModel(
        sample_size=16,
        in_channels=7,
        out_channels=4,
        layers_per_block=1,
        block_out_channels=(16, 32),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=2,
        norm_num_groups=8,
        num_class_embeds=351,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        block_out_channels=(8, 8, 8),
        latent_channels=4,
        norm_num_groups=4,
        layers_per_block=1,
        scaling_factor=0.08333,
    )
    scheduler = DDIMScheduler(
        beta_schedule="scaled_linear",
        beta_start=1e-4,
        beta_end=0.02,
        prediction_type="v_prediction",
        clip_sample=False,
        steps_offset=1,
        set_alpha_to_one=False,
    )
    low_res = DDPMScheduler(
        beta_schedule="scaled_linear", beta_start=1e-4, beta_end=0.02, clip_sample=True, variance_type="fixed_small"
    )
    pipe = StableDiffusionUpscalePipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        low_res_scheduler=low_res,
        scheduler=scheduler,
        max_noise_level=350,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def save_tiny_upscaler(folder: Path, seed: int = 0) -> Path:
    """Build the tiny pipeline and save it as a diffusers folder (what ``model=FOLDER`` loads)."""
    folder = Path(folder)
    pipe = build_tiny_upscaler(seed, folder.parent / (folder.name + "-tok"))
    pipe.save_pretrained(str(folder))
    return folder
