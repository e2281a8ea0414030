"""Where each MGLD network lives in the two released checkpoints, and strict loading by prefix.

``mgldvsr_unet.ckpt`` (a Lightning checkpoint; weights under ``state_dict``):

=================  ===========================  ======================  =======  ========
component          official class               prefix                  tensors  params
=================  ===========================  ======================  =======  ========
``unet``           InflatedUNetModelDualcondV2  model.diffusion_model.  876      935.32 M
``encoder``        InflatedEncoderUNetModelWT   structcond_stage_model. 200      52.49 M
``vae``            AutoencoderKL                first_stage_model.      248      83.65 M
``text``           FrozenOpenCLIPEmbedder       cond_stage_model.model. 294      354.03 M
``raft``           RAFT_SR                      flownet_model.          179      5.26 M
=================  ===========================  ======================  =======  ========

plus the 12 top-level diffusion-schedule buffers in :data:`UNET_CKPT_IGNORED` (recomputed by the
sampler, not loaded).  ``video_vae_cfw.ckpt``: the ``video_vae`` component is the whole state
dict without a prefix (``encoder.``, ``decoder.``, ``quant_conv.``, ``post_quant_conv.``);
everything under the prefixes in :data:`VIDEO_VAE_IGNORED_PREFIXES` (training loss: LPIPS,
discriminator, the SpyNet of the temporal loss) is ignored by name.  Counts and parameters are
the official classes' at full size (``tests/reference/mgld/official_keys.json.gz``).

Importing this module does not import torch; :func:`build` and :func:`load_component` do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mgld_bench.errors import BenchError
from mgld_bench.methods.mgld.config import MGLDConfig

if TYPE_CHECKING:
    from torch import nn

#: component -> prefix of its keys in mgldvsr_unet.ckpt's state_dict
UNET_CKPT_PREFIXES: dict[str, str] = {
    "unet": "model.diffusion_model.",
    "encoder": "structcond_stage_model.",
    "vae": "first_stage_model.",
    "text": "cond_stage_model.model.",
    "raft": "flownet_model.",
}

#: top-level keys of mgldvsr_unet.ckpt's state_dict that belong to no network (DDPM schedule)
UNET_CKPT_IGNORED: tuple[str, ...] = (
    "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod",
    "sqrt_one_minus_alphas_cumprod", "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod",
    "sqrt_recipm1_alphas_cumprod", "posterior_variance", "posterior_log_variance_clipped",
    "posterior_mean_coef1", "posterior_mean_coef2",
)

#: prefix of the video VAE in video_vae_cfw.ckpt's state_dict (the whole dict)
VIDEO_VAE_PREFIX = ""

#: the networks of video_vae_cfw.ckpt: any other top-level module is not loaded
VIDEO_VAE_MODULES: tuple[str, ...] = ("encoder.", "decoder.", "quant_conv.", "post_quant_conv.")

#: top-level entries of video_vae_cfw.ckpt's state_dict ignored by name: the training loss
#: ``LPIPSWithDiscriminator`` of the video-VAE config (``loss.perceptual_loss`` LPIPS,
#: ``loss.discriminator``, ``loss.flownet`` SpyNet, ``loss.logvar``).  Read from the official
#: config and class, not from the released file (not available here).
VIDEO_VAE_IGNORED_PREFIXES: tuple[str, ...] = ("loss.",)

#: top-level keys of a Lightning checkpoint file that are not weights
LIGHTNING_NON_WEIGHT_KEYS: tuple[str, ...] = (
    "epoch", "global_step", "pytorch-lightning_version", "callbacks", "optimizer_states",
    "lr_schedulers", "hparams_name", "hyper_parameters", "loops", "state_dict",
)

COMPONENTS: tuple[str, ...] = ("unet", "encoder", "vae", "text", "raft", "video_vae")


def build(component: str, cfg: MGLDConfig | None = None, device: Any = "meta") -> nn.Module:
    """The port's module for ``component`` (one of :data:`COMPONENTS`) at ``cfg``'s size.

    On ``device="meta"`` (the default) nothing is allocated: use it to check key layouts or
    as the skeleton for ``load_state_dict(assign=True)``.  Returned in eval mode.
    """
    import torch

    cfg = cfg or MGLDConfig.full()
    with torch.device(device):
        if component == "unet":
            from mgld_bench.methods.mgld.unet import MGLDUNet
            module: nn.Module = MGLDUNet(cfg.unet)
        elif component == "encoder":
            from mgld_bench.methods.mgld.encoder import MGLDEncoder
            module = MGLDEncoder(cfg.encoder)
        elif component == "vae":
            from mgld_bench.methods.mgld.vae import SDAutoencoder
            module = SDAutoencoder(cfg.vae)
        elif component == "video_vae":
            from mgld_bench.methods.mgld.vae import VideoAutoencoder
            module = VideoAutoencoder(cfg.video_vae)
        elif component == "text":
            from mgld_bench.methods.mgld.text import MGLDTextEncoder
            module = MGLDTextEncoder(cfg.text)
        elif component == "raft":
            from mgld_bench.methods.mgld.raft import MGLDRaft
            module = MGLDRaft(cfg.raft)
        else:
            raise ValueError(f"unknown MGLD component {component!r}; known: {', '.join(COMPONENTS)}")
    return module.eval()


def expected_keys(component: str, cfg: MGLDConfig | None = None) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the component's state_dict (without prefix), built on the meta device."""
    return {k: tuple(v.shape) for k, v in build(component, cfg).state_dict().items()}


def strip_prefix(state: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The entries of ``state`` under ``prefix``, with the prefix removed."""
    n = len(prefix)
    return {k[n:]: v for k, v in state.items() if k.startswith(prefix)}


class CheckpointLayoutError(BenchError):
    """A checkpoint whose keys or shapes do not match the network."""


def check_layout(module: nn.Module, state: Mapping[str, Any], what: str) -> None:
    """Raise :class:`CheckpointLayoutError` naming the first missing, unexpected and wrong-shape key."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if not (missing or unexpected or wrong):
        return
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing (first: {missing[0]})")
    if unexpected:
        parts.append(f"{len(unexpected)} unexpected (first: {unexpected[0]})")
    if wrong:
        k = wrong[0]
        parts.append(f"{len(wrong)} of wrong shape (first: {k} is {tuple(state[k].shape)}, "
                     f"expected {tuple(own[k].shape)})")
    raise CheckpointLayoutError(f"{what}: keys do not match the network: {'; '.join(parts)}; "
                                "is this the right checkpoint file?")


def load_component(module: nn.Module, state: Mapping[str, Any], prefix: str = "",
                   what: str | None = None, assign: bool = False) -> nn.Module:
    """Load the entries of ``state`` under ``prefix`` into ``module`` strictly.

    Keys outside ``prefix`` are not looked at (the caller names what else a file may hold).
    A layout mismatch raises :class:`CheckpointLayoutError` (a ``BenchError``) naming the first
    missing, unexpected and wrong-shape key, before anything is copied.  ``assign=True`` lets a
    meta-device skeleton take the checkpoint's tensors without a copy.
    """
    sub = strip_prefix(state, prefix) if prefix else dict(state)
    check_layout(module, sub, what or f"weights under {prefix!r}")
    module.load_state_dict(sub, strict=True, assign=assign)
    return module
