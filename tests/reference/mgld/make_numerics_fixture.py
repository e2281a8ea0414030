"""Write numerics.npz: outputs of the official MGLD networks at a reduced size, seeded weights.

Builds the official classes (IanYeung/MGLD-VSR 9aa7731, through ``official_env``) with the
reduced sizes of ``mgld_bench.methods.mgld.config.MGLDConfig.tiny()``, loads weights from
``tests/methods/mgld/_mgld_arch_fixture.seeded_state`` with ``strict=True``, runs them in float32 on the CPU
on ``tests/methods/mgld/_mgld_arch_fixture.inputs()`` and stores the outputs (float32; feature maps at every
second row and column) with the layout
digest of every network (so the test knows the port's reduced layout is the official one).
No weights are stored: the test regenerates them from the same seed.

    MGLD_OFFICIAL_REPO=/tmp/MGLD-VSR MGLD_REF_SITE=/tmp/mgld_ref_site \\
        python tests/reference/mgld/make_numerics_fixture.py      # ~1 min, < 1 GB
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "methods" / "mgld"))  # tests/ for _mgld_arch_fixture

import _mgld_arch_fixture as fx  # noqa: E402
import official_env  # noqa: E402

UNET = dict(num_frames=fx.FRAMES, image_size=32, in_channels=4, out_channels=4, model_channels=32,
            attention_resolutions=[1, 2], num_res_blocks=1, channel_mult=[1, 2], num_head_channels=16,
            use_spatial_transformer=True, use_linear_in_transformer=True, transformer_depth=1,
            context_dim=32, use_checkpoint=False, legacy=False, semb_channels=32)
ENCODER = dict(num_frames=fx.FRAMES, image_size=96, in_channels=4, model_channels=32, out_channels=32,
               num_res_blocks=1, attention_resolutions=[1, 2], dropout=0, channel_mult=[1, 2],
               conv_resample=True, dims=2, use_checkpoint=False, use_fp16=False, num_heads=2,
               num_head_channels=-1, num_heads_upsample=-1, use_scale_shift_norm=False,
               resblock_updown=False, use_new_attention_order=False)
DDCONFIG = dict(double_z=True, num_frames=fx.FRAMES, z_channels=4, resolution=32, in_channels=3, out_ch=3,
                ch=32, ch_mult=[1, 1, 2, 2], num_res_blocks=1, attn_resolutions=[], dropout=0.0,
                num_fuse_block=1)
TEXT = {"embed_dim": 16,
        "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "head_width": 32, "patch_size": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 4, "layers": 3}}


def _lists(overrides: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()}


def _load(module, torch) -> str:
    shapes = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    state = {k: torch.from_numpy(v).to(module.state_dict()[k].dtype)
             for k, v in fx.seeded_state(shapes).items()}
    module.load_state_dict(state, strict=True)
    module.eval()
    return fx.layout_digest(shapes)


def main() -> None:
    official_env.setup()
    import open_clip
    import torch
    from basicsr.archs.raft_arch import RAFT_SR
    from ldm.models.autoencoder import AutoencoderKL, VideoAutoencoderKLResi
    from ldm.modules.diffusionmodules.openaimodel import InflatedEncoderUNetModelWT, InflatedUNetModelDualcondV2
    from ldm.modules.encoders.modules import FrozenOpenCLIPEmbedder

    torch.manual_seed(0)
    torch.set_num_threads(2)
    inp = {k: torch.from_numpy(v) for k, v in fx.inputs().items()}
    f32 = {k: (v.float() if v.is_floating_point() else v.long()) for k, v in inp.items()}
    out: dict[str, np.ndarray] = {}
    digests: dict[str, str] = {}

    with torch.no_grad():
        unet = InflatedUNetModelDualcondV2(**UNET)
        encoder = InflatedEncoderUNetModelWT(**ENCODER)
        digests["unet"] = _load(unet, torch)
        digests["encoder"] = _load(encoder, torch)
        for case in ("one", "each"):
            t = f32[f"unet_t_{case}"]
            feats = encoder(f32["unet_lr"], t)
            if case == "each":  # every second row and column (size of the file)
                for width, f in feats.items():
                    out[f"encoder_{case}_{width}"] = f[..., ::2, ::2].numpy()
            eps = unet(f32["unet_x"], t, context=f32["unet_context"], struct_cond=feats)
            out[f"unet_{case}"] = eps.numpy()

        deep_unet = InflatedUNetModelDualcondV2(**{**UNET, **_lists(fx.DEEP_UNET)})
        deep_encoder = InflatedEncoderUNetModelWT(**{**ENCODER, **_lists(fx.DEEP_ENCODER)})
        digests["deep_unet"] = _load(deep_unet, torch)
        digests["deep_encoder"] = _load(deep_encoder, torch)
        t = f32["unet_t_each"]
        feats = deep_encoder(f32["unet_lr"], t)
        out["deep_unet_each"] = deep_unet(f32["unet_x"], t, context=f32["unet_context"], struct_cond=feats).numpy()

        identity = {"target": "torch.nn.Identity"}
        sd_vae = AutoencoderKL(ddconfig={k: v for k, v in DDCONFIG.items() if k != "num_frames"},
                               lossconfig=identity, embed_dim=4)
        digests["vae"] = _load(sd_vae, torch)
        posterior = sd_vae.encode(f32["vae_lr"])
        out["vae_mean"], out["vae_logvar"] = posterior.mean.numpy(), posterior.logvar.numpy()

        video = VideoAutoencoderKLResi(ddconfig=DDCONFIG, lossconfig=identity, embed_dim=4, version=1)
        digests["video_vae"] = _load(video, torch)
        _, enc_fea = video.encode(f32["vae_lr"])
        for i, f in enumerate(enc_fea):
            out[f"video_feat_{i}"] = f[..., ::2, ::2].numpy()
        for w in (1.0, 0.5):
            video.decoder.fusion_w = w
            out[f"video_decode_{w}"] = video.decode(f32["vae_z"], enc_fea).numpy()

        raft = RAFT_SR(model="normal", load_path=None)
        digests["raft"] = _load(raft, torch)
        out["raft_flow"] = raft(f32["raft_img1"], f32["raft_img2"], iters=10).numpy()

        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "mgld-tiny.json").write_text(json.dumps(TEXT))
            open_clip.add_model_config(tmp)
            embedder = FrozenOpenCLIPEmbedder(arch="mgld-tiny", version="", device="cpu", layer="penultimate")
        digests["text"] = _load(embedder.model, torch)
        out["text_tokens"] = open_clip.tokenize([""]).numpy()
        out["text_empty"] = embedder([""]).numpy()

    for key, value in list(out.items()):
        out[key] = value.astype(np.float32) if value.dtype.kind == "f" else value
    out["digests"] = np.array(json.dumps(digests, sort_keys=True))
    dest = HERE / "numerics.npz"
    np.savez_compressed(dest, **out)
    for key, value in sorted(out.items()):
        if key != "digests":
            print(f"{key:24s} {value.shape!s:22s} max|x| {np.abs(value).max():.4g}")
    print(dest, dest.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
