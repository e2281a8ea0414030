"""The official MGLD model at the reduced sizes of the port's ``MGLDConfig.tiny()``, seeded weights.

For fixture scripts that need the official *pipeline* pieces (``LatentDiffusionVSRTextWT``:
``sample_canvas``, ``compute_flow``, ``compute_temporal_condition_v4`` ...) rather than single
networks.  ``build()`` returns ``(model, video_vae)``: the official ``LatentDiffusionVSRTextWT``
built from ``configs/mgldvsr/mgldvsr_512_realbasicvsr_deg.yaml`` with the network sizes of
``make_numerics_fixture`` (UNet / LR encoder / SD VAE / OpenCLIP text tower reduced, RAFT_SR at
its only size), and ``VideoAutoencoderKLResi`` from the video-VAE config with the reduced
ddconfig; every network holds ``tests/methods/mgld/_mgld_arch_fixture.seeded_state`` of its own keys, so the
port built with ``MGLDConfig.tiny()`` and loaded with the same function computes the same.
The schedule buffers are the official ones (the 1000-step linear schedule, respaced to
``time_replace`` as in the config); scripts respace them as the tile script does.

    import official_env, official_tiny
    official_env.setup()           # MGLD_OFFICIAL_REPO / MGLD_REF_SITE
    model, video_vae = official_tiny.build()
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "methods" / "mgld"))  # tests/ for _mgld_arch_fixture

import _mgld_arch_fixture as fx  # noqa: E402
import make_numerics_fixture as sizes  # noqa: E402

#: component -> attribute of LatentDiffusionVSRTextWT (as the checkpoint prefixes)
ATTRS = {"unet": "model.diffusion_model", "encoder": "structcond_stage_model", "vae": "first_stage_model",
         "text": "cond_stage_model.model", "raft": "flownet_model"}


def _get(obj: object, dotted: str) -> object:
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def seed_weights(module: object) -> None:
    """Load ``seeded_state`` of the module's own keys, strictly."""
    import torch

    own = module.state_dict()
    state = {k: torch.from_numpy(v).to(own[k].dtype)
             for k, v in fx.seeded_state({k: tuple(t.shape) for k, t in own.items()}).items()}
    module.load_state_dict(state, strict=True)


def build(repo: Path | None = None) -> tuple[object, object]:
    """(official LatentDiffusionVSRTextWT, official VideoAutoencoderKLResi), tiny, seeded, eval, CPU."""
    import open_clip
    import yaml
    from ldm.util import instantiate_from_config

    if repo is None:
        import ldm

        repo = Path(next(iter(ldm.__path__))).parent
    main_cfg = yaml.safe_load((repo / "configs/mgldvsr/mgldvsr_512_realbasicvsr_deg.yaml").read_text())
    vae_cfg = yaml.safe_load((repo / "configs/video_vae/video_autoencoder_kl_64x64x4_resi.yaml").read_text())
    params = main_cfg["model"]["params"]
    params.pop("ckpt_path", None)
    params["unet_config"]["params"] = dict(sizes.UNET)
    params["structcond_stage_config"]["params"] = dict(sizes.ENCODER)
    fs = params["first_stage_config"]["params"]
    fs.pop("ckpt_path", None)
    fs["ddconfig"] = {k: v for k, v in sizes.DDCONFIG.items() if k not in ("num_frames", "num_fuse_block")}
    params["cond_stage_config"]["params"].update(arch="mgld-tiny", version="", device="cpu")
    params["flownet_config"]["params"]["load_path"] = None
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "mgld-tiny.json").write_text(json.dumps(sizes.TEXT))
        open_clip.add_model_config(tmp)
        model = instantiate_from_config(main_cfg["model"])
    for attr in ATTRS.values():
        seed_weights(_get(model, attr))

    vparams = vae_cfg["model"]["params"]
    vparams.pop("ckpt_path", None)
    vparams["lossconfig"] = {"target": "torch.nn.Identity"}
    vparams["ddconfig"] = dict(sizes.DDCONFIG)
    video = instantiate_from_config(vae_cfg["model"])
    seed_weights(video)
    return model.eval(), video.eval()


if __name__ == "__main__":  # smoke run: build and print the sizes
    import official_env

    official_env.setup()
    m, v = build()
    for name, attr in ATTRS.items():
        print(name, sum(p.numel() for p in _get(m, attr).parameters()))
    print("video_vae", sum(p.numel() for p in v.parameters()), "num_timesteps", m.num_timesteps)
