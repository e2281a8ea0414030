"""``mgld``: MGLD-VSR run in this process from the two released checkpoints.

No official environment is needed: the networks are the port in this package, loaded strictly
from ``mgldvsr_unet.ckpt`` and ``video_vae_cfw.ckpt`` (:mod:`.checkpoint`), and the clip runs
through the official pipeline (:mod:`.pipeline`, :mod:`.sampler`).  Clips are cut into chunks of
5 frames; a last, shorter chunk is filled with copies of its last frame (as the official script
pads) and only its real frames are kept -- the script instead writes the copies' outputs over
the last real frame's file.

The device comes from the run (``--device``) and nothing else; ``precision`` ``auto`` means
fp16 autocast on CUDA (the official ``--precision autocast``) and float32 on the CPU.  Peak
memory and timings go to ``mgld.json`` in the job's log folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.frames import Clip
from mgld_bench.methods.base import Method, RunContext
from mgld_bench.methods.mgld.weights import MGLD_SOURCE, MGLD_UNET, MGLD_VAE
from mgld_bench.specs import ONE_GPU
from mgld_bench.weights import WeightFile

log = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "fp16", "bf16")
CONFIGS = ("full", "tiny")
#: Options about where files are: they do not change the output (the files' sha256 does).
LOCAL_OPTIONS = ("unet_ckpt", "vae_ckpt")
#: Cache namespace of values derived from the weights (the empty-prompt context).
CONTEXT_NAMESPACE = "mgld"
#: dtype of the loaded parameters (precision comes from autocast around them), part of the memo key
PARAM_DTYPE = "float32"

#: Per-process memo of built networks: (unet sha256, vae sha256, device, dtype, config) -> the
#: dict :meth:`MGLD.load` returns.  Holds at most one model set; a memo only (outputs unchanged).
_MEMO: dict[tuple[str, ...], dict[str, Any]] = {}
_MEMO_LOCK = threading.Lock()


def clear_model_memo() -> None:
    """Forget the memoised networks of this process (frees their memory)."""
    with _MEMO_LOCK:
        _MEMO.clear()


def resolve_precision(device_kind: str, precision: str) -> str:
    """The precision in effect on a ``device_kind`` (``cpu``/``cuda``): ``auto`` is fp16 on CUDA
    (the script's ``--precision autocast``) and fp32 elsewhere; the others stand as given.  The
    one place it is resolved: the run and the cache key (``MGLD.device_options``) both ask here."""
    if precision == "auto":
        return "fp16" if device_kind == "cuda" else "fp32"
    return precision


def autocast_factory(device: str, precision: str) -> tuple[Callable[[], Any], str]:
    """The autocast context for ``device`` and ``precision``, and the precision in effect.

    ``precision`` is resolved by :func:`resolve_precision`; fp16/bf16 autocast on the device's
    own type (CPU autocast included, which is how the CUDA path is tested without a GPU).
    """
    import torch

    kind = torch.device(device).type
    precision = resolve_precision(kind, precision)
    if precision == "fp32":
        return contextlib.nullcontext, "fp32"
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[precision]
    return (lambda: torch.autocast(kind, dtype=dtype)), precision


class MGLD(Method):
    """MGLD-VSR in-process (port of the official networks and sampler; see docs/mgld.md)."""

    name = "mgld"
    version = 1
    summary = "MGLD-VSR in-process from the released checkpoints (50 DDPM steps, motion guidance; docs/mgld.md)"
    uses_seed = True
    requires_cuda = False
    #: the precision ``auto`` resolves to depends on the device kind (fp16 on CUDA, fp32 on the CPU)
    device_dependent = True
    #: a GPU when the Ray cluster has one (the CPU works, slowly)
    resources = ONE_GPU
    defaults: ClassVar[dict[str, Any]] = {
        "steps": 50,
        "dec_w": 1.0,
        "colorfix": "adain",
        "guidance": True,
        "guidance_scale": -10.0,
        "chunk": 5,
        "tile": 64,
        "tile_overlap": 32,
        "vae_tile": 960,
        "vae_stride": 750,
        "min_side": 512,
        "seed": 42,
        "precision": "auto",
        "config": "full",
        "unet_ckpt": "",
        "vae_ckpt": "",
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        o = self.options
        if o["colorfix"] not in ("adain", "wavelet", "none"):
            raise BenchError(f"mgld: colorfix must be adain, wavelet or none (got {o['colorfix']!r})")
        if o["precision"] not in PRECISIONS:
            raise BenchError(f"mgld: precision must be one of {', '.join(PRECISIONS)} (got {o['precision']!r})")
        if o["config"] not in CONFIGS:
            raise BenchError(f"mgld: config must be full or tiny (got {o['config']!r})")
        for key in ("steps", "chunk", "tile", "vae_tile", "vae_stride", "min_side"):
            if int(o[key]) < 1:
                raise BenchError(f"mgld: {key} must be at least 1 (got {o[key]})")
        if not 0 <= int(o["tile_overlap"]) < int(o["tile"]):
            raise BenchError("mgld: tile_overlap must lie in [0, tile)")
        if int(o["vae_stride"]) > int(o["vae_tile"]) or int(o["vae_tile"]) % 8:
            raise BenchError("mgld: vae_tile must be a multiple of 8 and vae_stride must not exceed it")
        if int(o["steps"]) > 1000:
            raise BenchError("mgld: steps must not exceed the 1000 training timesteps")
        # a fixed seed option (default 42, the official seed) makes the run's --seed irrelevant
        self.uses_seed = int(o["seed"]) < 0
        # each chunk is sampled from its own frames alone (noise re-seeded per outer tile, flows
        # within the chunk, no state carried over; a short last chunk is filled the same way
        # whether it is run alone or in the whole clip), so an executor may split a clip there
        self.chunk_frames = int(o["chunk"])
        self._loaded: dict[str, Any] = {}
        self._digest: str | None = None

    # -- identity and files ----------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        ident = super().identity()
        ident["options"] = {k: v for k, v in ident["options"].items() if k not in LOCAL_OPTIONS}
        return ident

    def device_options(self, device_kind: str) -> dict[str, Any]:
        """The precision in effect on ``device_kind`` (part of the inference key)."""
        return {"precision": resolve_precision(device_kind, str(self.options["precision"]))}

    def checkpoint_path(self, option: str) -> Path:
        """The file for ``unet_ckpt`` / ``vae_ckpt``: the option's path, else the weights folder's."""
        value = str(self.options[option])
        if value:
            return Path(value).expanduser()
        return (MGLD_UNET if option == "unet_ckpt" else MGLD_VAE).path()

    def weight_files(self) -> list[WeightFile]:
        """The declared files read from the weights folder (those given by path are in extra_key)."""
        return [wf for opt, wf in (("unet_ckpt", MGLD_UNET), ("vae_ckpt", MGLD_VAE)) if not self.options[opt]]

    def availability(self) -> tuple[bool, str]:
        problems = [
            f"{wf.name} missing at {wf.path()}: download it and put it there, or set mgld.{opt}=PATH"
            for opt, wf in (("unet_ckpt", MGLD_UNET), ("vae_ckpt", MGLD_VAE))
            if not self.options[opt] and not wf.path().is_file()
        ]
        for option in LOCAL_OPTIONS:
            if self.options[option] and not self.checkpoint_path(option).is_file():
                problems.append(f"mgld.{option}: {self.checkpoint_path(option)} not found")
        if problems:
            return False, "; ".join(problems) + f" (download: {MGLD_SOURCE})"
        from mgld_bench.weight_trust import check_all

        try:
            check_all(self.weight_files())  # sha256 recorded on first use, checked afterwards
        except BenchError as exc:
            return False, str(exc)
        return True, ""

    def extra_key(self, clip: Clip) -> str | None:
        """sha256 of the checkpoints given by path (the weights folder's are keyed by the runner)."""
        if self._digest is None:
            from mgld_bench.fileio import file_sha256

            parts = {
                opt: file_sha256(self.checkpoint_path(opt))
                for opt in LOCAL_OPTIONS
                if self.options[opt] and self.checkpoint_path(opt).is_file()
            }
            self._digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest() if parts else ""
        return self._digest or None

    # -- loading -----------------------------------------------------------------------------------
    def _config(self) -> Any:
        from mgld_bench.methods.mgld.config import MGLDConfig

        return MGLDConfig.tiny() if self.options["config"] == "tiny" else MGLDConfig.full()

    def empty_context(self, cache: Any, text_sd: Any = None) -> Any:
        """The 1×77×width empty-prompt context: from ``cache`` (keyed by the checkpoint's sha256),
        else computed from ``text_sd`` (the text tower's tensors) and stored; None when neither."""
        import torch

        from mgld_bench.fileio import file_sha256
        from mgld_bench.specs import digest as make_key

        path = self.checkpoint_path("unet_ckpt")
        key = make_key(
            {"kind": "mgld-empty-context", "format": 1, "ckpt": file_sha256(path), "config": self.options["config"]}
        )
        if cache is not None:
            hit = cache.get_array(CONTEXT_NAMESPACE, key)
            if hit is not None:
                return torch.from_numpy(np.ascontiguousarray(hit))
        if text_sd is None:
            return None
        from mgld_bench.methods.mgld.checkpoint import compute_empty_context

        ctx = compute_empty_context(text_sd, self._config(), str(path))
        if cache is not None:
            cache.put_array(CONTEXT_NAMESPACE, key, ctx.numpy())
        return ctx

    def load(self, device: str, cache: Any = None) -> dict[str, Any]:
        """The networks on ``device`` and the empty-prompt context (loaded once per device).

        Built networks are also kept in a per-process memo (:data:`_MEMO`, one model set, keyed
        by both files' sha256, the device, the parameters' dtype and the config), so that
        consecutive jobs in one worker process -- e.g. the 5-frame chunk tasks of a Ray run --
        load the checkpoints once.  The memo changes no output: the networks are only read.
        """
        if device in self._loaded:
            return self._loaded[device]
        import torch

        from mgld_bench.fileio import file_sha256
        from mgld_bench.methods.mgld.checkpoint import load_checkpoints

        ok, reason = self.availability()
        if not ok:
            raise BenchError(f"mgld cannot run: {reason}")
        self._loaded.clear()  # one device at a time
        unet_path, vae_path = self.checkpoint_path("unet_ckpt"), self.checkpoint_path("vae_ckpt")
        key = (file_sha256(unet_path), file_sha256(vae_path), str(torch.device(device)), str(PARAM_DTYPE),
               str(self.options["config"]))
        with _MEMO_LOCK:
            hit = _MEMO.get(key)
            if hit is not None:
                loaded = {**hit, "load_seconds": 0.0, "reused": True}
                self._loaded[device] = loaded
                return loaded
            _MEMO.clear()  # at most one model set per process: free the old one before loading
            context = self.empty_context(cache)
            t0 = time.perf_counter()
            modules = load_checkpoints(unet_path, vae_path, self._config(), context is None)
            if context is None:
                context = self.empty_context(cache, modules.text_sd)
            modules.text_sd = None  # the text tower is never needed again
            modules.to(device)
            loaded = {
                "modules": modules,
                "context": context.to(device=device, dtype=torch.float32),
                "load_seconds": time.perf_counter() - t0,
                "reused": False,
            }
            _MEMO[key] = loaded
        self._loaded[device] = loaded
        return loaded

    def networks(self, loaded: dict[str, Any], num_frames: int) -> Any:
        """The pipeline's callables over the loaded modules."""
        import torch

        from mgld_bench.methods.mgld.pipeline import Networks

        m, context = loaded["modules"], loaded["context"]

        def denoise(x: torch.Tensor, lr: torch.Tensor, t: int) -> torch.Tensor:
            tt = torch.full((x.shape[0],), int(t), device=x.device, dtype=torch.long)
            struct = m.encoder(lr, tt)
            return m.unet(x, tt, context, struct, num_frames)

        return Networks(
            denoise=denoise,
            encode_moments=m.sd_vae.encode_moments,
            encode_features=m.video_vae.encode_features,
            decode=lambda z, feats, w: m.video_vae.decode(z, feats, w, num_frames),
            flow=m.raft,
        )

    # -- running -----------------------------------------------------------------------------------
    def settings(self, seed: int) -> Any:
        from mgld_bench.methods.mgld.pipeline import Settings

        o = self.options
        return Settings(
            dec_w=float(o["dec_w"]),
            colorfix=str(o["colorfix"]),
            guidance=bool(o["guidance"]),
            guidance_scale=float(o["guidance_scale"]),
            tile=int(o["tile"]),
            tile_overlap=int(o["tile_overlap"]),
            outer_tile=int(o["vae_tile"]),
            outer_stride=int(o["vae_stride"]),
            seed=seed,
            min_side=int(o["min_side"]),
        )

    def run(self, clip: Clip, ctx: RunContext) -> Iterator[np.ndarray]:
        import torch

        from mgld_bench.methods.mgld.pipeline import ChunkLog, peak_memory, upscale_chunk
        from mgld_bench.methods.mgld.schedule import respaced_schedule

        if clip.scale != 4:
            raise BenchError(f"mgld upscales x4 only, but clip {clip.label} has scale x{clip.scale}")
        device = ctx.device
        if torch.device(device).type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        loaded = self.load(device, ctx.cache)
        precision = self.device_options(torch.device(device).type)["precision"]
        autocast, precision = autocast_factory(device, precision)
        chunk = int(self.options["chunk"])
        nets = self.networks(loaded, chunk)
        schedule = respaced_schedule(int(self.options["steps"]))
        seed = int(self.options["seed"]) if int(self.options["seed"]) >= 0 else int(ctx.seed)
        settings = self.settings(seed)
        n = len(clip.lr)
        record: dict[str, Any] = {
            "clip": clip.label,
            "device": device,
            "precision": precision,
            "options": dict(self.options),
            "timesteps": [int(t) for t in schedule.timesteps],
            "load_seconds": round(loaded["load_seconds"], 3),
            "networks_reused": bool(loaded.get("reused", False)),
            "chunks": [],
        }
        t_all = time.perf_counter()
        try:
            for start in range(0, n, chunk):
                real = list(range(start, min(start + chunk, n)))
                idx = real + [n - 1] * (chunk - len(real))  # fill with the last frame; keep the real ones
                frames = np.stack([clip.lr[i] for i in idx])
                chunk_log = ChunkLog()
                t0 = time.perf_counter()
                out = upscale_chunk(nets, frames, schedule, settings, device, autocast, chunk_log)
                record["chunks"].append(
                    {"first_frame": start, "frames": len(real), "seconds": round(time.perf_counter() - t0, 3),
                     "tiles": chunk_log.tiles}
                )
                yield from out[: len(real)]
        finally:
            seconds = time.perf_counter() - t_all
            record.update(seconds=round(seconds, 3), seconds_per_frame=round(seconds / max(n, 1), 3))
            record.update(peak_memory(device))
            log.info(
                "mgld on %s: %.2f s/frame, peak %.0f MB (%s), %s on %s",
                clip.label, record["seconds_per_frame"], record["peak_mb"], record["memory"], precision, device,
            )
            if ctx.log_dir is not None:
                Path(ctx.log_dir).mkdir(parents=True, exist_ok=True)
                (Path(ctx.log_dir) / "mgld.json").write_text(json.dumps(record, indent=1, default=str))
