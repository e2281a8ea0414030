"""A stand-in for MGLD-VSR's scripts/vsr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py (tests only).

It honours the official command line and folder layout, and reproduces the defects the adapter
must work around: the hard-coded VAE config path relative to the working folder; the non-tiled
branch that uses variables only the tiled branch defines; the padding that repeats the last
file name (the last real frame's output is overwritten); the small-input crop; truncation to
uint8.  Its "super-resolution" is a nearest-neighbour resize plus 10 x the frame's position in
its chunk, so a test can tell which chunk position produced a file.  With MGLD_STANDIN_UNPICKLE
set it opens both checkpoints with plain pickle, as the official script does, and prints their
``state_dict`` tensors.
"""

import argparse
import json
import os
import sys

import cv2
import numpy as np
from PIL import Image

SEEDS = []


def seed_everything(seed):
    SEEDS.append(seed)


def rearrange(x, pattern, t=None):
    return x


class _Model:
    def encode_first_stage(self, x):
        return x

    def get_first_stage_encoding(self, x):
        return x


model = _Model()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seqs-path", type=str, default="inputs/user_upload")
    p.add_argument("--outdir", type=str, default="outputs/user_upload")
    p.add_argument("--device", type=str, default="cuda")
    p.add_argument("--ddpm_steps", type=int, default=1000)
    p.add_argument("--n_frames", type=int, default=5)
    p.add_argument("--n_samples", type=int, default=1)
    p.add_argument("--config", type=str, default="configs/stable-diffusion/v1-inference.yaml")
    p.add_argument("--ckpt", type=str, default="checkpoints/stablevsr_025.ckpt")
    p.add_argument("--vqgan_ckpt", type=str, default="checkpoints/vqgan_cfw_00011.ckpt")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--precision", type=str, choices=["full", "autocast"], default="autocast")
    p.add_argument("--select_idx", type=int, default=0)
    p.add_argument("--n_gpus", type=int, default=1)
    p.add_argument("--dec_w", type=float, default=0.5)
    p.add_argument("--tile_overlap", type=int, default=32)
    p.add_argument("--upscale", type=float, default=4.0)
    p.add_argument("--colorfix_type", type=str, default="nofix")
    p.add_argument("--vqgantile_stride", type=int, default=750)
    p.add_argument("--vqgantile_size", type=int, default=960)
    opt = p.parse_args()
    print(json.dumps({"cuda_visible": os.environ.get("CUDA_VISIBLE_DEVICES"), "argv": sys.argv[1:]}))
    seed_everything(opt.seed)

    with open(opt.config) as fh:
        config = fh.read()
    with open("configs/video_autoencoder/video_autoencoder_kl_64x64x4_resi.yaml") as fh:
        vae_config = fh.read()
    for path in (opt.ckpt, opt.vqgan_ckpt):
        if not os.path.isfile(path):
            sys.exit(f"checkpoint {path} not found")
    if os.environ.get("MGLD_STANDIN_UNPICKLE"):  # as the official script does: plain pickle, no screening
        import torch

        seen = {}
        for path in (opt.ckpt, opt.vqgan_ckpt):
            sd = torch.load(path, map_location="cpu", weights_only=False)["state_dict"]
            seen[path] = {k: v.flatten().tolist() for k, v in sd.items()}
        print(json.dumps({"unpickled": seen}))
    for line in (config + vae_config).splitlines():
        key, _, value = line.strip().partition(":")
        if key in ("ckpt_path", "load_path", "version") and value.strip().endswith((".ckpt", ".pth", ".bin")):
            if not os.path.isfile(value.strip().strip("'\"")):
                sys.exit(f"file named in a config not found: {value.strip()}")

    for seq_idx, seq in enumerate(sorted(os.listdir(opt.seqs_path))):
        if seq_idx % opt.n_gpus != opt.select_idx:
            continue
        names = sorted(os.listdir(os.path.join(opt.seqs_path, seq)))
        while len(names) % opt.n_frames != 0:
            names.append(names[-1])
        for c in range(0, len(names), opt.n_frames):
            chunk = names[c : c + opt.n_frames]
            imgs = [np.asarray(Image.open(os.path.join(opt.seqs_path, seq, n)).convert("RGB")) for n in chunk]
            h, w = imgs[0].shape[:2]
            up = max(512 / min(h, w), opt.upscale)
            ori_h, ori_w = int(h * up), int(w * up)
            ph = ori_h if ori_h % 32 == 0 else (ori_h // 32 + 1) * 32
            pw = ori_w if ori_w % 32 == 0 else (ori_w // 32 + 1) * 32
            im_lq_bs = imgs
            flows = ["forward", "backward"]
            fwd_occs, bwd_occs = "fwd", "bwd"
            if ph > opt.vqgantile_size or pw > opt.vqgantile_size:
                seed_everything(opt.seed)
                flow_f, flow_b, fwd_occ, bwd_occ = flows[0], flows[1], fwd_occs, bwd_occs
                flow_f = rearrange(flow_f, "(b t) c h w -> b t c h w", t=len(chunk) - 1)
            else:
                init_latent = model.get_first_stage_encoding(model.encode_first_stage(im_lq_bs))
                flow_f = rearrange(flow_f, "(b t) c h w -> b t c h w", t=len(chunk) - 1)
                flow_b = rearrange(flow_b, "(b t) c h w -> b t c h w", t=len(chunk) - 1)
                assert (flow_f, flow_b, fwd_occ, bwd_occ) == ("forward", "backward", "fwd", "bwd")
                assert init_latent is im_lq_bs
            oh, ow = (int(ph * opt.upscale / up), int(pw * opt.upscale / up)) if up > opt.upscale else (ph, pw)
            os.makedirs(os.path.join(opt.outdir, seq), exist_ok=True)
            for j, (name, img) in enumerate(zip(chunk, imgs, strict=True)):
                sr = cv2.resize(img, (ow, oh), interpolation=cv2.INTER_NEAREST).astype(np.float64) + 10.0 * j + 0.7
                sr = np.clip(sr, 0, 255)[:ori_h, :ori_w]
                base = os.path.splitext(os.path.basename(name))[0]
                Image.fromarray(sr.astype(np.uint8)).save(os.path.join(opt.outdir, seq, f"{base}.png"))
    print(json.dumps({"seeds": SEEDS}))


if __name__ == "__main__":
    main()
