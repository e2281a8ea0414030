"""Randomly initialised MGLD checkpoints at the tiny configuration, written under the real names.

``write_tiny_checkpoints(folder)`` writes ``mgldvsr_unet.ckpt`` and ``video_vae_cfw.ckpt`` as
Lightning-style dictionaries (``state_dict`` with the official prefixes and the schedule
buffers, plus training state: ``global_step``, ``optimizer_states``, and the video VAE's
``loss.*`` entries, which the loader must ignore by name).  Parameters that a constructor leaves
at zero (blend factors, zero-initialised output layers) are drawn at random so every part of the
network influences the output.  The outputs are meaningless; they exercise the code on a CPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _random_state(component: str, config: Any, gen: Any) -> dict[str, Any]:
    import torch

    from mgld_bench.methods.mgld.layout import build

    module = build(component, config, "cpu")
    state = {}
    for key, value in module.state_dict().items():
        value = value.detach().clone()
        if value.is_floating_point() and not key.endswith(("running_mean", "running_var")) and not value.any():
            value = (torch.rand(value.shape, generator=gen) * 0.2 - 0.1).to(value.dtype)
            if key.endswith("temporal_alpha"):
                value = torch.full_like(value, 0.5)
        state[key] = value
    return state


#: RAFT_SR's last flow layer: zeroed by ``still_flow`` so that the network reports no motion.
FLOW_HEAD_OUT = "update_block.flow_head.conv2."


def write_tiny_checkpoints(folder: Path, seed: int = 0, still_flow: bool = False) -> tuple[Path, Path]:
    """Write the two tiny checkpoints into ``folder``; return their paths.

    With random weights RAFT_SR's flows fail the forward-backward occlusion check almost
    everywhere (98% of the latent pixels of a 32-px synthetic clip), so the guidance has nearly
    nothing to act on.  ``still_flow`` zeroes its last flow layer instead: every flow is 0 and
    nothing is occluded (right for a static scene, nearly right for a slow pan), which is what
    an end-to-end test of the guidance needs."""
    import torch

    from mgld_bench.methods.mgld.config import MGLDConfig
    from mgld_bench.methods.mgld.layout import UNET_CKPT_IGNORED, UNET_CKPT_PREFIXES
    from mgld_bench.methods.mgld.schedule import train_alphas_cumprod

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = MGLDConfig.tiny()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    sd: dict[str, Any] = {}
    for component, prefix in UNET_CKPT_PREFIXES.items():
        for key, value in _random_state(component, cfg, gen).items():
            if still_flow and component == "raft" and key.startswith(FLOW_HEAD_OUT):
                value = torch.zeros_like(value)
            sd[prefix + key] = value
    acp = torch.from_numpy(train_alphas_cumprod()).float()
    for key in UNET_CKPT_IGNORED:
        sd[key] = acp.clone() if key == "alphas_cumprod" else torch.zeros_like(acp)
    unet = folder / "mgldvsr_unet.ckpt"
    torch.save({"state_dict": sd, "global_step": 0, "epoch": 0, "pytorch-lightning_version": "1.4.2",
                "optimizer_states": [{"state": {}, "param_groups": [{"lr": 5e-5}]}]}, unet)
    vsd = _random_state("video_vae", cfg, gen)
    vsd["loss.logvar"] = torch.zeros(())
    vsd["loss.discriminator.main.0.weight"] = torch.zeros(4, 3, 4, 4)
    vae = folder / "video_vae_cfw.ckpt"
    torch.save({"state_dict": vsd, "global_step": 0, "epoch": 0}, vae)
    return unet, vae
