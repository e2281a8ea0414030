"""``sd-x4`` and ``mgld-sd``: the Stable Diffusion x4 upscaler on chunks of frames, without and
with MGLD's motion-guided latent sampling.

Both run diffusers' ``StableDiffusionUpscalePipeline`` (default
``stabilityai/stable-diffusion-x4-upscaler``, or any local folder saved with ``save_pretrained``)
on non-overlapping chunks of ``chunk`` consecutive LR frames, all frames of a chunk in one batch.
``mgld-sd`` adds the guidance of :mod:`mgld_bench.methods.mgld.guidance` through the pipeline's per-step
callback: after every denoising step, the latents of the chunk take one gradient step against
the masked warp error of Eq. 2, with flows measured between the LR frames.  ``sd-x4`` is the
same run without the callback, so the two differ only by the guidance (same seed, same noise).

This is MGLD-*style* guidance on a public model, not a reproduction of MGLD: MGLD's own UNet,
LR encoder and temporal VAE are not in diffusers format (the ``mgld`` method runs those in-process).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.frames import Clip
from mgld_bench.methods.base import Method, RunContext
from mgld_bench.methods.mgld.diffusers_model import (
    folder_digest,
    load_upscale_pipeline,
    local_model_folder,
    model_availability,
)
from mgld_bench.methods.tiling import blend_weights, tile_starts
from mgld_bench.weights import WeightFile, missing_weights

DEFAULT_MODEL = "stabilityai/stable-diffusion-x4-upscaler"


@dataclass(frozen=True)
class GuidanceSettings:
    """How the motion guidance steps (see :mod:`mgld_bench.methods.mgld.guidance.step`)."""

    rule: str = "official"
    scale: float = -10.0
    eta: float = 10.0
    form: str = "official"


def upscale_chunk(
    pipe: Any,
    frames: np.ndarray,
    *,
    seed: int,
    steps: int,
    noise_level: int = 20,
    cfg_scale: float = 1.0,
    prompt: str = "",
    negative_prompt: str = "",
    field: Any = None,
    guidance: GuidanceSettings | None = None,
    output_type: str = "np",
    log: list[dict[str, float]] | None = None,
) -> Any:
    """Upscale one chunk of frames ``(T, h, w, 3)`` uint8 in a single pipeline call.

    ``h`` and ``w`` must be multiples of the pipeline's ``vae_scale_factor`` (so that diffusers
    does not resize).  With ``field`` (a :class:`~mgld_bench.methods.mgld.guidance.motion.MotionField` at
    latent resolution, i.e. ``(h, w)`` for the x4 upscaler) and ``guidance``, every denoising
    step is followed by one guidance step on the batch of latents; ``log`` receives one entry per
    step (timestep, posterior variance, step size, warp error before the step).

    The initial noise comes from a CPU generator seeded with ``seed``, so it is the same on
    every device and for every chunk.  Returns float images ``(T, 4h, 4w, 3)`` in [0, 1]
    (``output_type="np"``) or the final latents (``"latent"``).
    """
    import torch

    from mgld_bench.methods.mgld.guidance.step import scheduler_step_variance, step_size

    t = frames.shape[0]
    device = pipe._execution_device
    image = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div(255.0)
    image = image.to(device=device, dtype=pipe.unet.dtype)
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    callback = None
    if field is not None and guidance is not None and t > 1:
        sched = pipe.scheduler
        final_abar = float(getattr(sched, "final_alpha_cumprod", 1.0))
        gfield = field.to(device)

        def callback(i: int, timestep: Any, latents: torch.Tensor) -> None:
            timesteps = [int(x) for x in sched.timesteps]
            var = scheduler_step_variance(sched.alphas_cumprod, timesteps, i, final_abar)
            lam = step_size(var, guidance.rule, guidance.scale, guidance.eta)
            new, loss = gfield.step(latents, lam, guidance.form)
            latents.copy_(new)  # the legacy callback cannot return latents; in-place edits propagate
            if log is not None:
                log.append({"step": i, "timestep": int(timestep), "variance": var, "step_size": lam, "loss": loss})

    out = pipe(
        prompt=[prompt] * t,
        negative_prompt=[negative_prompt] * t if cfg_scale > 1.0 else None,
        image=image,
        num_inference_steps=int(steps),
        guidance_scale=float(cfg_scale),
        noise_level=int(noise_level),
        generator=generator,
        output_type=output_type,
        callback=callback,
        callback_steps=1,
    )
    return out.images


def _pad_to_multiple(frames: np.ndarray, multiple: int) -> np.ndarray:
    """Reflect-pad (T, H, W, 3) at the bottom/right to multiples of ``multiple``."""
    h, w = frames.shape[1:3]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not ph and not pw:
        return frames
    mode = "reflect" if h > 1 and w > 1 else "edge"
    return np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)), mode=mode)


class SDx4Upscaler(Method):
    """Stable Diffusion x4 upscaler on chunks of consecutive frames, no motion guidance."""

    name = "sd-x4"
    version = 1
    summary = "Stable Diffusion x4 upscaler (diffusers) on 5-frame chunks, no motion guidance"
    uses_seed = True
    guided: ClassVar[bool] = False
    defaults: ClassVar[dict[str, Any]] = {
        "model": DEFAULT_MODEL,
        "chunk": 5,
        "steps": 50,
        "noise_level": 20,
        "cfg_scale": 1.0,
        "prompt": "",
        "negative_prompt": "",
        "seed": -1,
        "tile": 128,
        "tile_overlap": 32,
        "fp16": True,
        "download": False,
    }
    #: Options that do not change the output (kept out of the cache key).
    not_in_key: ClassVar[tuple[str, ...]] = ("download",)
    #: ``fp16`` takes effect on CUDA only, so the output depends on the device kind
    device_dependent = True

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        o = self.options
        if int(o["chunk"]) < 1 or int(o["steps"]) < 1:
            raise BenchError(f"{self.name}: chunk and steps must be at least 1 (got {o['chunk']}, {o['steps']})")
        if not 0 <= int(o["noise_level"]) <= 350:
            raise BenchError(f"{self.name}: noise_level must lie in [0, 350] (got {o['noise_level']})")
        if int(o["tile"]) < 0 or int(o["tile_overlap"]) < 0:
            raise BenchError(f"{self.name}: tile and tile_overlap must be >= 0 (0 = no tiling)")
        # a fixed seed option makes the run's --seed irrelevant (and keeps it out of the cache key)
        self.uses_seed = int(o["seed"]) < 0
        self._pipe: Any = None
        self._pipe_device: str | None = None
        self._digest: str | None = None

    def identity(self) -> dict[str, Any]:
        ident = super().identity()
        ident["options"] = {k: v for k, v in ident["options"].items() if k not in self.not_in_key}
        return ident

    def availability(self) -> tuple[bool, str]:
        from mgld_bench.extras import extra_availability

        ok, reason = extra_availability("diffusers", "transformers", used_by=self.name)
        if not ok:
            return ok, reason
        ok, reason = model_availability(str(self.options["model"]))
        if not ok and self.options["download"]:
            return True, ""
        return ok, reason

    def extra_key(self, clip: Clip) -> str | None:
        """The model folder's content digest (the weights are a folder, not one file)."""
        if self._digest is None:
            folder = local_model_folder(str(self.options["model"]))
            self._digest = folder_digest(folder) if folder is not None else f"hub:{self.options['model']}"
        return self._digest

    def device_options(self, device_kind: str) -> dict[str, Any]:
        """fp16 weights in effect on ``device_kind`` (CUDA only; part of the inference key)."""
        return {"fp16": bool(self.options["fp16"]) and device_kind == "cuda"}

    def pipeline(self, device: str) -> Any:
        """The loaded pipeline (loaded once per process and device)."""
        if self._pipe is None or self._pipe_device != device:
            kind = "cuda" if str(device).startswith("cuda") else "cpu"
            self._pipe = load_upscale_pipeline(
                str(self.options["model"]), device, self.device_options(kind)["fp16"], bool(self.options["download"])
            )
            self._pipe_device = device
        return self._pipe

    def guidance_settings(self) -> GuidanceSettings | None:
        return None

    def motion_field(self, frames: np.ndarray, device: str) -> Any:
        """Flows and occlusion masks of a (padded) chunk at latent size; None without guidance."""
        return None

    def run(self, clip: Clip, ctx: RunContext) -> Iterator[np.ndarray]:
        if clip.scale != 4:
            raise BenchError(f"{self.name} upscales x4 only, but clip {clip.label} has scale x{clip.scale}")
        pipe = self.pipeline(ctx.device)
        seed = int(self.options["seed"]) if int(self.options["seed"]) >= 0 else int(ctx.seed)
        chunk = int(self.options["chunk"])
        n = len(clip.lr)
        log: list[dict[str, Any]] = []
        try:
            for start in range(0, n, chunk):
                frames = np.stack([clip.lr[i] for i in range(start, min(start + chunk, n))])
                yield from self._upscale(pipe, frames, seed, ctx.device, log, start)
        finally:
            if ctx.log_dir is not None and log:
                Path(ctx.log_dir).mkdir(parents=True, exist_ok=True)
                (Path(ctx.log_dir) / "guidance.json").write_text(json.dumps(log, indent=1))

    def _upscale(
        self, pipe: Any, frames: np.ndarray, seed: int, device: str, log: list[dict[str, Any]], start: int
    ) -> Iterator[np.ndarray]:
        t, h, w = frames.shape[:3]
        m = int(getattr(pipe, "vae_scale_factor", 8))
        padded = _pad_to_multiple(frames, m)
        hp, wp = padded.shape[1:3]
        field = self.motion_field(padded, device)
        tile = (int(self.options["tile"]) // m) * m
        overlap = int(self.options["tile_overlap"])
        ys, xs = tile_starts(hp, tile, overlap), tile_starts(wp, tile, overlap)
        th, tw = (min(tile, hp) if tile else hp), (min(tile, wp) if tile else wp)
        acc: np.ndarray | None = None
        weight: np.ndarray | None = None
        ramp = blend_weights(4 * th, 4 * tw, 4 * overlap // 2) if len(ys) * len(xs) > 1 else None
        for y0 in ys:
            for x0 in xs:
                tile_log: list[dict[str, Any]] = []
                sub = field.crop(y0, y0 + th, x0, x0 + tw, recheck=True) if field is not None else None
                out = upscale_chunk(
                    pipe,
                    padded[:, y0 : y0 + th, x0 : x0 + tw],
                    seed=seed,
                    steps=int(self.options["steps"]),
                    noise_level=int(self.options["noise_level"]),
                    cfg_scale=float(self.options["cfg_scale"]),
                    prompt=str(self.options["prompt"]),
                    negative_prompt=str(self.options["negative_prompt"]),
                    field=sub,
                    guidance=self.guidance_settings(),
                    log=tile_log,
                )
                out = np.asarray(out, dtype=np.float32)
                if acc is None:
                    scale_h, scale_w = out.shape[1] // th, out.shape[2] // tw
                    if (scale_h, scale_w) != (4, 4) or out.shape[1] % th or out.shape[2] % tw:
                        raise BenchError(
                            f"{self.name}: the model at {self.options['model']} turned {th}x{tw} into "
                            f"{out.shape[1]}x{out.shape[2]}; an x4 upscaler is expected"
                        )
                    acc = np.zeros((t, 4 * hp, 4 * wp, 3), np.float32)
                    weight = np.zeros((4 * hp, 4 * wp, 1), np.float32)
                wt = ramp if ramp is not None else np.ones(out.shape[1:3], np.float32)
                acc[:, 4 * y0 : 4 * (y0 + th), 4 * x0 : 4 * (x0 + tw)] += out * wt[None, :, :, None]
                weight[4 * y0 : 4 * (y0 + th), 4 * x0 : 4 * (x0 + tw)] += wt[:, :, None]
                for entry in tile_log:
                    log.append({"first_frame": start, "tile": [y0, x0], **entry})
        assert acc is not None and weight is not None
        result = acc / weight[None]
        for frame in result[:, : 4 * h, : 4 * w]:
            yield np.clip(np.round(frame * 255.0), 0, 255).astype(np.uint8)


class MGLDGuidedSD(SDx4Upscaler):
    """The SD x4 upscaler with MGLD's motion-guided latent sampling (Eq. 2-3) after every step."""

    name = "mgld-sd"
    #: 2: the default guidance loss became ``official`` (was ``paired``).
    version = 2
    summary = "SD x4 upscaler + MGLD motion-guided latent sampling (own implementation, diffusers)"
    guided = True
    defaults: ClassVar[dict[str, Any]] = {
        **SDx4Upscaler.defaults,
        "flow": "dis-medium",
        "step_rule": "official",
        "motion_scale": -10.0,
        "eta": 10.0,
        "loss": "official",
        "occ_alpha": 0.01,
        "occ_beta": 0.5,
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        from mgld_bench.methods.mgld.guidance import LOSS_FORMS, STEP_RULES

        if self.options["step_rule"] not in STEP_RULES:
            raise BenchError(
                f"mgld-sd: step_rule must be one of {', '.join(STEP_RULES)} (got {self.options['step_rule']!r})"
            )
        if self.options["loss"] not in LOSS_FORMS:
            raise BenchError(f"mgld-sd: loss must be one of {', '.join(LOSS_FORMS)} (got {self.options['loss']!r})")

    def weight_files(self) -> list[WeightFile]:
        """The flow network's weights when the flow backend is RAFT."""
        from mgld_bench.methods.mgld.guidance.flows import flow_weight_files

        return flow_weight_files(str(self.options["flow"]))

    def availability(self) -> tuple[bool, str]:
        ok, reason = super().availability()
        missing = missing_weights(self.weight_files())
        if missing:
            return False, "; ".join(([reason] if reason else []) + missing)
        return ok, reason

    def extra_key(self, clip: Clip) -> str | None:
        """The model folder's digest and the flow backend's identity."""
        from mgld_bench.methods.mgld.guidance.flows import flow_identity

        key = {"model": super().extra_key(clip), "flow": flow_identity(str(self.options["flow"]))}
        return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()

    def guidance_settings(self) -> GuidanceSettings | None:
        o = self.options
        return GuidanceSettings(str(o["step_rule"]), float(o["motion_scale"]), float(o["eta"]), str(o["loss"]))

    def motion_field(self, frames: np.ndarray, device: str) -> Any:
        from mgld_bench.methods.mgld.guidance.flows import pair_flows
        from mgld_bench.methods.mgld.guidance.motion import MotionField

        if frames.shape[0] < 2:
            return None
        fwd, bwd = pair_flows(list(frames), backend=str(self.options["flow"]), device=device)
        # the x4 upscaler's latents have the LR frame's size
        return MotionField.from_flows(
            fwd, bwd, frames.shape[1:3], alpha=float(self.options["occ_alpha"]), beta=float(self.options["occ_beta"])
        )
