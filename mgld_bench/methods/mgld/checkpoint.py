"""Opening MGLD's two released checkpoints and loading them into the port's modules.

``mgldvsr_unet.ckpt`` and ``video_vae_cfw.ckpt`` are PyTorch-Lightning checkpoints.  Both are
read through :func:`mgld_bench.safeload.load_weights` with ``inert_globals`` (weights-only
unpickling, memory-mapped; Lightning's training state becomes inert placeholders; no pickled
code runs).  Their ``state_dict`` is split by prefix:

================================  ==========================================  ==============
prefix                            module                                      file
================================  ==========================================  ==============
``model.diffusion_model.``        denoising UNet                              mgldvsr_unet
``structcond_stage_model.``       time-aware LR encoder                       mgldvsr_unet
``first_stage_model.``            SD VAE (encodes the LR)                     mgldvsr_unet
``cond_stage_model.model.``       OpenCLIP text tower (only for the context)  mgldvsr_unet
``flownet_model.``                RAFT_SR                                     mgldvsr_unet
schedule buffers (top level)      checked against :mod:`.schedule`            mgldvsr_unet
``encoder.`` ``decoder.``         video VAE with CFW                          video_vae_cfw
``quant_conv.`` ``post_quant_conv.``
================================  ==========================================  ==============

Every module is loaded with ``strict=True`` after stripping its prefix; a key under no prefix
and not in the explicit ignore lists below fails the load, as does a missing or misshapen key
(the message names the first of each).  Modules are built on the meta device and take the
checkpoint's (memory-mapped) tensors, so nothing is initialised twice.  The text tower is built
and loaded only when the empty-prompt context is not cached yet (:func:`empty_context`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError

#: ``mgldvsr_unet.ckpt``: module name -> state_dict prefix.
UNET_FILE_PREFIXES = {
    "unet": "model.diffusion_model.",
    "encoder": "structcond_stage_model.",
    "sd_vae": "first_stage_model.",
    "text": "cond_stage_model.model.",
    "raft": "flownet_model.",
}
#: The 1000-step schedule buffers LatentDiffusion registers at the top level.
SCHEDULE_KEYS = (
    "betas",
    "alphas_cumprod",
    "alphas_cumprod_prev",
    "sqrt_alphas_cumprod",
    "sqrt_one_minus_alphas_cumprod",
    "log_one_minus_alphas_cumprod",
    "sqrt_recip_alphas_cumprod",
    "sqrt_recipm1_alphas_cumprod",
    "posterior_variance",
    "posterior_log_variance_clipped",
    "posterior_mean_coef1",
    "posterior_mean_coef2",
)
#: Other top-level state_dict entries of ``mgldvsr_unet.ckpt`` that inference does not read.
UNET_FILE_IGNORE = ("logvar", "model_ema.")
#: ``video_vae_cfw.ckpt``: module part -> prefix (all four form the video VAE).
VAE_FILE_PREFIXES = {
    "encoder": "encoder.",
    "decoder": "decoder.",
    "quant_conv": "quant_conv.",
    "post_quant_conv": "post_quant_conv.",
}
#: Training-only entries of ``video_vae_cfw.ckpt`` (the decoder's loss: LPIPS, discriminator,
#: SpyNet for the temporal loss).
VAE_FILE_IGNORE = ("loss.",)


def read_state_dict(path: Path, what: str) -> dict[str, Any]:
    """The ``state_dict`` of a Lightning checkpoint (or a bare state dict), read safely."""
    import torch

    from mgld_bench.safeload import load_weights

    obj = load_weights(path, inert_globals=True)
    sd = obj.get("state_dict", obj) if isinstance(obj, Mapping) else None
    if not isinstance(sd, Mapping) or not sd or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise BenchError(
            f"{path} is not {what}: it holds no state_dict of tensors; download the released file again"
        )
    return dict(sd)


def _matches(key: str, patterns: Iterable[str]) -> bool:
    return any(key == p or (p.endswith(".") and key.startswith(p)) for p in patterns)


def split_state_dict(
    sd: Mapping[str, Any], prefixes: Mapping[str, str], keep: Iterable[str] = (), ignore: Iterable[str] = ()
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """``{name: {key without prefix: tensor}}`` per prefix, and the keys nothing claims.

    Keys in ``keep`` go to the group ``""`` unchanged; keys matching ``ignore`` (an exact key, or
    a prefix ending in ".") are dropped.
    """
    groups: dict[str, dict[str, Any]] = {name: {} for name in prefixes}
    groups[""] = {}
    keep = set(keep)
    stray = []
    for key, value in sd.items():
        for name, prefix in prefixes.items():
            if key.startswith(prefix):
                groups[name][key[len(prefix) :]] = value
                break
        else:
            if key in keep:
                groups[""][key] = value
            elif not _matches(key, ignore):
                stray.append(key)
    return groups, stray


def check_keys(module: Any, sd: Mapping[str, Any], where: str) -> None:
    """Raise a :class:`BenchError` naming the first missing, unexpected and misshapen key."""
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    wrong = [
        f"{k} {tuple(sd[k].shape)} (expected {expected[k]})"
        for k in expected
        if k in sd and tuple(sd[k].shape) != expected[k]
    ]
    if missing or unexpected or wrong:
        parts = []
        for label, items in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
            if items:
                parts.append(f"{len(items)} {label} (first: {items[0]})")
        raise BenchError(f"{where} does not match the MGLD architecture: {'; '.join(parts)}")


def load_module(factory: Callable[[], Any], sd: Mapping[str, Any], where: str) -> Any:
    """Build ``factory()`` on the meta device and load ``sd`` into it strictly (tensors assigned)."""
    import torch

    with torch.device("meta"):
        module = factory()
    check_keys(module, sd, where)
    module.load_state_dict(dict(sd), strict=True, assign=True)
    return module.eval().requires_grad_(False)


def check_schedule(buffers: Mapping[str, Any], path: Path) -> None:
    """The checkpoint's 1000-step ``alphas_cumprod`` must be the schedule the sampler uses."""
    import numpy as np

    from mgld_bench.methods.mgld.schedule import train_alphas_cumprod

    acp = buffers.get("alphas_cumprod")
    if acp is None:
        return
    ours = train_alphas_cumprod(len(acp))
    if float(np.abs(acp.float().numpy() - ours).max()) > 1e-5:
        raise BenchError(
            f"{path}: its alphas_cumprod is not SD's linear schedule (0.00085..0.012) that MGLD samples with"
        )


@dataclass
class MGLDModules:
    """The loaded networks (on the CPU, memory-mapped until moved)."""

    unet: Any
    encoder: Any
    sd_vae: Any
    video_vae: Any
    raft: Any
    text_sd: dict[str, Any] | None  # the text tower's tensors, kept only until the context exists

    def to(self, device: Any) -> MGLDModules:
        for name in ("unet", "encoder", "sd_vae", "video_vae", "raft"):
            setattr(self, name, getattr(self, name).to(device))
        return self


def load_checkpoints(unet_path: Path, vae_path: Path, config: Any, need_text: bool = True) -> MGLDModules:
    """Build and load every module the pipeline needs from the two files.

    ``config`` is an ``MGLDConfig`` (full, or tiny for tests).  With ``need_text`` False the
    text tower's tensors are not even kept.
    """
    from mgld_bench.methods.mgld.encoder import MGLDEncoder
    from mgld_bench.methods.mgld.raft import RAFTSR
    from mgld_bench.methods.mgld.unet import MGLDUNet
    from mgld_bench.methods.mgld.vae import SDAutoencoder, VideoAutoencoder

    unet_path, vae_path = Path(unet_path), Path(vae_path)
    sd = read_state_dict(unet_path, "the MGLD diffusion checkpoint mgldvsr_unet.ckpt")
    groups, stray = split_state_dict(sd, UNET_FILE_PREFIXES, SCHEDULE_KEYS, UNET_FILE_IGNORE)
    if stray:
        raise BenchError(
            f"{unet_path} is not mgldvsr_unet.ckpt: {len(stray)} unexpected key(s) outside the known prefixes "
            f"(first: {stray[0]})"
        )
    for name, prefix in UNET_FILE_PREFIXES.items():
        if not groups[name]:
            raise BenchError(f"{unet_path} is not mgldvsr_unet.ckpt: no keys under {prefix}")
    check_schedule(groups[""], unet_path)
    where = f"{unet_path}"
    unet = load_module(lambda: MGLDUNet(config.unet), groups["unet"], f"{where} [{UNET_FILE_PREFIXES['unet']}]")
    encoder = load_module(
        lambda: MGLDEncoder(config.encoder), groups["encoder"], f"{where} [{UNET_FILE_PREFIXES['encoder']}]"
    )
    sd_vae = load_module(lambda: SDAutoencoder(config.vae), groups["sd_vae"], f"{where} [first_stage_model.]")
    raft = load_module(lambda: RAFTSR(config.raft), groups["raft"], f"{where} [flownet_model.]")
    text_sd = groups["text"] if need_text else None
    del sd, groups

    vsd = read_state_dict(vae_path, "the MGLD video VAE checkpoint video_vae_cfw.ckpt")
    vgroups, vstray = split_state_dict(vsd, VAE_FILE_PREFIXES, (), VAE_FILE_IGNORE)
    if vstray:
        raise BenchError(
            f"{vae_path} is not video_vae_cfw.ckpt: {len(vstray)} unexpected key(s) (first: {vstray[0]})"
        )
    if not vgroups["decoder"]:
        raise BenchError(f"{vae_path} is not video_vae_cfw.ckpt: no keys under decoder.")
    flat = {VAE_FILE_PREFIXES[n] + k: v for n in VAE_FILE_PREFIXES for k, v in vgroups[n].items()}
    video_vae = load_module(lambda: VideoAutoencoder(config.video_vae), flat, f"{vae_path}")
    return MGLDModules(unet, encoder, sd_vae, video_vae, raft, text_sd)


def compute_empty_context(text_sd: Mapping[str, Any], config: Any, where: str) -> Any:
    """The text tower's penultimate-layer output for the empty prompt, ``(1, 77, width)`` float32."""
    import torch

    from mgld_bench.methods.mgld.text import OpenCLIPText

    tower = load_module(lambda: OpenCLIPText(config.text), text_sd, f"{where} [cond_stage_model.model.]")
    with torch.no_grad():
        ctx = tower.encode_empty().float().cpu()
    del tower
    return ctx
