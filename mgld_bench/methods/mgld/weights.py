"""Weight files of MGLD-VSR: the two released checkpoints (read by ``mgld`` in-process and by the
official script behind ``mgld-official``) and the files the official configs name."""

from __future__ import annotations

from mgld_bench.weights import WeightFile, register_weight

_MGLD_HF = "released on https://huggingface.co/ianyeung/MGLD-VSR (mirror: huggingface.co/Iceclear/MGLD-VSR)"
#: Where the two released files can be downloaded (no direct file URL is published):
#: the official README (IanYeung/MGLD-VSR 9aa7731, "Testing") links BaiduNetDisk (code gh4i)
#: and a OneDrive folder that has expired (upstream issues #35, #37); the authors then uploaded
#: the files to the Hugging Face repository ianyeung/MGLD-VSR (issue #37).
MGLD_SOURCE = (
    "https://huggingface.co/ianyeung/MGLD-VSR (authors' upload; mirror https://huggingface.co/Iceclear/MGLD-VSR), "
    "or the official README's BaiduNetDisk https://pan.baidu.com/s/1xQF996RsxnmN-60ZLB6Vig?pwd=gh4i"
)

MGLD_UNET = register_weight(
    WeightFile(
        "mgldvsr_unet.ckpt",
        None,
        used_by=("mgld", "mgld-official"),
        source=MGLD_SOURCE,
        note=f"MGLD diffusion model + conditioning (Lightning checkpoint, about 6.7 GB); {_MGLD_HF}",
    )
)
MGLD_VAE = register_weight(
    WeightFile(
        "video_vae_cfw.ckpt",
        None,
        used_by=("mgld", "mgld-official"),
        source=MGLD_SOURCE,
        note=f"MGLD temporal VAE with CFW fusion (about 803 MB); {_MGLD_HF}",
    )
)
SD21_BASE = register_weight(
    WeightFile(
        "v2-1_512-ema-pruned.ckpt",
        "https://huggingface.co/stabilityai/stable-diffusion-2-1-base/resolve/main/v2-1_512-ema-pruned.ckpt",
        used_by=("mgld-official",),
        note="Stable Diffusion 2.1-base; ckpt_path in both MGLD configs",
    )
)
RAFT_THINGS = register_weight(
    WeightFile(
        "raft-things.pth",
        None,
        used_by=("mgld-official",),
        note=f"RAFT 'things' checkpoint (about 21 MB), the guidance flow network; {_MGLD_HF}",
    )
)
OPENCLIP_H14 = register_weight(
    WeightFile(
        "open_clip_pytorch_model.bin",
        "https://huggingface.co/laion/CLIP-ViT-H-14-laion2B-s32B-b79K/resolve/main/open_clip_pytorch_model.bin",
        used_by=("mgld-official",),
        note="OpenCLIP ViT-H-14 laion2b_s32b_b79k text encoder (empty prompt)",
    )
)
SPYNET = register_weight(
    WeightFile(
        "spynet_sintel_final-3d2a1287.pth",
        None,
        used_by=("mgld-official",),
        note="SpyNet (BasicSR release); loaded by the VAE config for its training loss only",
    )
)

#: Adapter option -> declared weight file.
REQUIRED = {"ckpt": MGLD_UNET, "vqgan_ckpt": MGLD_VAE}
OPTIONAL = {"sd_ckpt": SD21_BASE, "raft_ckpt": RAFT_THINGS, "openclip_ckpt": OPENCLIP_H14, "spynet_ckpt": SPYNET}
