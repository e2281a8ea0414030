"""Write official_keys.json.gz: key -> shape of the official MGLD networks at full size.

Builds, on the meta device (no memory, no weights), the official ``LatentDiffusionVSRTextWT``
from ``configs/mgldvsr/mgldvsr_512_realbasicvsr_deg.yaml`` and ``VideoAutoencoderKLResi`` from
``configs/video_vae/video_autoencoder_kl_64x64x4_resi.yaml`` of IanYeung/MGLD-VSR 9aa7731, with
the file-loading options removed (``ckpt_path``, RAFT ``load_path``, the OpenCLIP download;
OpenCLIP's model is built on the meta device rather than moved to the CPU) and
the VAE training loss replaced by ``torch.nn.Identity`` (its keys are ignored by name).  The
state_dict of the first is split by the checkpoint prefixes; the second is stored whole.

    MGLD_OFFICIAL_REPO=/tmp/MGLD-VSR MGLD_REF_SITE=/tmp/mgld_ref_site \\
        python tests/reference/mgld/make_official_keys.py
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import official_env  # noqa: E402

PREFIXES = {
    "unet": "model.diffusion_model.",
    "encoder": "structcond_stage_model.",
    "vae": "first_stage_model.",
    "text": "cond_stage_model.model.",
    "raft": "flownet_model.",
}


def _params(cfg: dict) -> dict:
    return dict(cfg.get("params", {}))


def main() -> None:
    repo = official_env.setup()
    import torch
    import yaml
    from ldm.util import instantiate_from_config

    main_cfg = yaml.safe_load((repo / "configs/mgldvsr/mgldvsr_512_realbasicvsr_deg.yaml").read_text())
    vae_cfg = yaml.safe_load((repo / "configs/video_vae/video_autoencoder_kl_64x64x4_resi.yaml").read_text())

    model_cfg = main_cfg["model"]
    params = model_cfg["params"]
    params.pop("ckpt_path", None)
    params["first_stage_config"]["params"].pop("ckpt_path", None)
    params["cond_stage_config"]["params"].update(version="", device="cpu")
    params["flownet_config"]["params"]["load_path"] = None

    vparams = vae_cfg["model"]["params"]
    vparams.pop("ckpt_path", None)
    vparams["lossconfig"] = {"target": "torch.nn.Identity"}

    import ldm.models.diffusion.ddpm as ddpm

    schedule = ddpm.DDPM.register_schedule

    def cpu_schedule(*args, **kwargs):  # the schedule goes through numpy: build it on the CPU
        with torch.device("cpu"):
            return schedule(*args, **kwargs)

    ddpm.DDPM.register_schedule = cpu_schedule

    import open_clip

    make_clip = open_clip.create_model_and_transforms

    def meta_clip(name, device=None, pretrained=None, **kwargs):  # no download, no move off meta
        return make_clip(name, device=torch.device("meta"), pretrained=pretrained or "", **kwargs)

    open_clip.create_model_and_transforms = meta_clip

    out: dict[str, dict[str, list[int]]] = {}
    counts: dict[str, dict[str, float]] = {}
    with torch.device("meta"):
        model = instantiate_from_config(model_cfg)
        state = model.state_dict()
        taken = set()
        for name, prefix in PREFIXES.items():
            sub = {k[len(prefix):]: list(v.shape) for k, v in state.items() if k.startswith(prefix)}
            taken.update(prefix + k for k in sub)
            out[name] = sub
        out["unet_ckpt_top_level"] = {k: list(v.shape) for k, v in state.items() if k not in taken}
        video = instantiate_from_config(vae_cfg["model"])
        out["video_vae"] = {k: list(v.shape) for k, v in video.state_dict().items()}

    modules = {"unet": model.model.diffusion_model, "encoder": model.structcond_stage_model,
               "vae": model.first_stage_model, "text": model.cond_stage_model.model,
               "raft": model.flownet_model, "video_vae": video,
               "video_vae.encoder": video.encoder, "video_vae.decoder": video.decoder}
    for name, module in modules.items():
        counts[name] = {"params": sum(p.numel() for p in module.parameters()),
                        "tensors": len(module.state_dict())}
    blob = {"source": f"IanYeung/MGLD-VSR@{official_env.OFFICIAL_COMMIT}", "keys": out, "counts": counts}
    dest = HERE / "official_keys.json.gz"
    with gzip.GzipFile(dest, "wb", mtime=0) as fh:
        fh.write(json.dumps(blob, sort_keys=True).encode())
    for name, c in counts.items():
        print(f"{name:18s} {c['tensors']:4d} tensors {c['params'] / 1e6:8.2f} M")
    print("top level:", sorted(out["unet_ckpt_top_level"]))


if __name__ == "__main__":
    main()
