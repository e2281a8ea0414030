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

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError

log = logging.getLogger(__name__)

#: Other top-level state_dict entries ``mgldvsr_unet.ckpt`` may hold that inference does not read
#: (a name, or a prefix ending in "."), besides the 12 schedule buffers of
#: :data:`~.layout.UNET_CKPT_IGNORED` (checked, not loaded).  ``LatentDiffusionVSRTextWT`` saves
#: them only under other settings of its config: ``model_ema.*`` (``LitEma``: ``decay``,
#: ``num_updates`` and one shadow per UNet parameter) with ``use_ema: True``, ``logvar`` with
#: ``learn_logvar: True``, ``scale_factor`` with ``scale_by_std: True``.  The released config
#: (``mgldvsr_512_realbasicvsr_deg.yaml``) has all three off, so its state_dict holds exactly the
#: five prefixes and the 12 buffers (``tests/reference/mgld/official_keys.json.gz``, built from the
#: official classes); the official script loads with ``strict=False``, so it would ignore these
#: entries too (it samples with the non-EMA weights and ``scale_factor`` 0.18215 of the config).
#: Lightning's training state (``optimizer_states``, ``lr_schedulers``, ``callbacks``...) lies
#: beside ``state_dict`` in the file and is never looked at.
UNET_FILE_IGNORE: tuple[str, ...] = ("model_ema.", "logvar", "scale_factor")


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


def stray_keys(sd: Mapping[str, Any], prefixes: Iterable[str], ignore: Iterable[str]) -> list[str]:
    """Keys under none of ``prefixes`` and not matched by ``ignore`` (a key, or a prefix ending in ".")."""
    prefixes, ignore = tuple(prefixes), tuple(ignore)
    return [
        k for k in sd
        if not k.startswith(prefixes) and not any(k == p or (p.endswith(".") and k.startswith(p)) for p in ignore)
    ]


def load_module(component: str, config: Any, sd: Mapping[str, Any], prefix: str, where: str) -> Any:
    """mgld-arch's module for ``component``, built on the meta device, loaded strictly from the
    keys under ``prefix`` (tensors assigned, no copy); errors name the first bad keys."""
    from mgld_bench.methods.mgld.layout import build, load_component

    module = build(component, config, "meta")
    load_component(module, sd, prefix, f"{where} [{prefix or 'state_dict'}]", assign=True)
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
    text tower's tensors are not kept.
    """
    from mgld_bench.methods.mgld.layout import (
        UNET_CKPT_IGNORED,
        UNET_CKPT_PREFIXES,
        VIDEO_VAE_IGNORED_PREFIXES,
        VIDEO_VAE_MODULES,
        VIDEO_VAE_PREFIX,
    )

    unet_path, vae_path = Path(unet_path), Path(vae_path)
    sd = read_state_dict(unet_path, "the MGLD diffusion checkpoint mgldvsr_unet.ckpt")
    stray = stray_keys(sd, UNET_CKPT_PREFIXES.values(), (*UNET_CKPT_IGNORED, *UNET_FILE_IGNORE))
    extra = [k for k in stray_keys(sd, UNET_CKPT_PREFIXES.values(), UNET_CKPT_IGNORED) if k not in stray]
    if extra:
        log.info("%s: %d entries ignored by name (first: %s)", unet_path, len(extra), extra[0])
    if stray:
        raise BenchError(
            f"{unet_path} is not mgldvsr_unet.ckpt: {len(stray)} unexpected key(s) outside the known prefixes "
            f"(first: {stray[0]})"
        )
    for prefix in UNET_CKPT_PREFIXES.values():
        if not any(k.startswith(prefix) for k in sd):
            raise BenchError(f"{unet_path} is not mgldvsr_unet.ckpt: no keys under {prefix}")
    check_schedule(sd, unet_path)
    where = str(unet_path)
    parts = {
        name: load_module(name, config, sd, UNET_CKPT_PREFIXES[name], where)
        for name in ("unet", "encoder", "vae", "raft")
    }
    prefix = UNET_CKPT_PREFIXES["text"]
    text_sd = {k: v for k, v in sd.items() if k.startswith(prefix)} if need_text else None
    del sd

    vsd = read_state_dict(vae_path, "the MGLD video VAE checkpoint video_vae_cfw.ckpt")
    vstray = stray_keys(vsd, VIDEO_VAE_MODULES, VIDEO_VAE_IGNORED_PREFIXES)
    if vstray:
        raise BenchError(f"{vae_path} is not video_vae_cfw.ckpt: {len(vstray)} unexpected key(s) (first: {vstray[0]})")
    kept = {k: v for k, v in vsd.items() if k.startswith(VIDEO_VAE_MODULES)}
    video_vae = load_module("video_vae", config, kept, VIDEO_VAE_PREFIX, str(vae_path))
    return MGLDModules(parts["unet"], parts["encoder"], parts["vae"], video_vae, parts["raft"], text_sd)


def compute_empty_context(text_sd: Mapping[str, Any], config: Any, where: str) -> Any:
    """The text tower's penultimate-layer output for the empty prompt, ``(1, 77, width)`` float32.

    The tower exists only inside this call."""
    import torch

    from mgld_bench.methods.mgld.layout import UNET_CKPT_PREFIXES

    tower = load_module("text", config, text_sd, UNET_CKPT_PREFIXES["text"], where)
    with torch.no_grad():
        ctx = tower.encode_empty().float().cpu().clone()
    del tower
    return ctx
