"""Image SR models through spandrel, frame by frame: ``realesrgan`` and ``spandrel:PATH``.

spandrel detects the architecture and its hyper-parameters from the state dict (Real-ESRGAN's
RRDBNet and SRVGGNetCompact, SwinIR, HAT, DAT, ... ; see its documentation) and unwraps the
usual containers (``params_ema``, ``params``, ``state_dict``, ...), so any checkpoint it
supports runs here without the unmaintained ``basicsr``/``realesrgan`` packages.  Frames are
processed independently (no temporal information), optionally in overlapping tiles.

Importing this module does not import torch or spandrel.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from baselines.weight_files import REALESRGAN_X4PLUS, UsesCheckpoint, resolve_weight
from mgld_bench.errors import BenchError, WeightsMissingError
from mgld_bench.frames import Clip
from mgld_bench.methods.base import Method, RunContext
from mgld_bench.specs import ONE_GPU, Resources

log = logging.getLogger(__name__)

COMMON_DEFAULTS: dict[str, Any] = {"tile": 0, "tile_overlap": 16, "fp16": False}


class SpandrelImageModel(Method):
    """Base of the spandrel adapters: load once, run frame by frame with optional tiling."""

    version = 1
    resources: ClassVar[Resources] = ONE_GPU

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        tile, overlap = int(self.options["tile"]), int(self.options["tile_overlap"])
        if tile < 0 or (tile and not 0 <= overlap < tile):
            raise BenchError(f"{self.name}.tile must be 0 (off) or positive, and tile_overlap in [0, tile)")
        self._descriptor: Any = None
        self._device: str | None = None

    def availability(self) -> tuple[bool, str]:
        from mgld_bench.extras import extra_availability

        ok, reason = extra_availability("spandrel", used_by=self.name)
        return (ok, reason) if not ok else super().availability()

    # subclasses say where the checkpoint is
    def model_path(self) -> Path:
        raise NotImplementedError

    def _missing(self) -> BenchError:
        return BenchError(f"{self.name}: checkpoint {self.model_path()} does not exist")

    def descriptor(self, device: str) -> Any:
        """spandrel's ImageModelDescriptor on ``device`` (loaded once, checked to be RGB image SR)."""
        if self._descriptor is None:
            path = self.model_path()
            if not path.is_file():
                raise self._missing()
            from mgld_bench.extras import import_extra

            spandrel = import_extra("spandrel", self.name)
            ImageModelDescriptor, ModelLoader = spandrel.ImageModelDescriptor, spandrel.ModelLoader

            from mgld_bench.safeload import UnsafeWeightsError, routed_torch_load

            try:
                with routed_torch_load():  # spandrel's torch.load goes through safeload
                    desc = ModelLoader(device="cpu").load_from_file(path)
            except UnsafeWeightsError:
                raise
            except Exception as exc:
                text = " ".join(str(exc).split())
                text = text if len(text) <= 300 else text[:300] + " ..."
                raise BenchError(
                    f"{self.name}: spandrel cannot load {path}: {type(exc).__name__}: {text}. Is it a "
                    "complete checkpoint of an architecture spandrel supports?"
                ) from None
            if not isinstance(desc, ImageModelDescriptor):
                raise BenchError(f"{self.name}: {path} is a {desc.purpose} model, not an image SR model")
            if desc.input_channels != 3 or desc.output_channels != 3:
                raise BenchError(
                    f"{self.name}: {path} maps {desc.input_channels} to {desc.output_channels} channels; "
                    "only RGB models are supported"
                )
            if self.options["fp16"] and not desc.supports_half:
                raise BenchError(f"{self.name}: the {desc.architecture.name} architecture does not support fp16")
            log.info("%s: loaded %s x%d (%s) from %s", self.name, desc.architecture.name, desc.scale, desc.tags, path)
            self._descriptor = desc.eval()
        if self._device != device:
            self._descriptor = self._descriptor.to(device)
            if self.options["fp16"]:
                self._descriptor = self._descriptor.half()
            self._device = device
        return self._descriptor

    def run(self, clip: Clip, ctx: RunContext) -> Iterator[np.ndarray]:
        from baselines.tensors import check_device

        check_device(ctx.device, bool(self.options["fp16"]), self.name)
        desc = self.descriptor(ctx.device)
        if desc.scale != clip.scale:
            raise BenchError(
                f"{self.name}: the model is x{desc.scale} but clip {clip.label} needs x{clip.scale}; "
                "use a checkpoint of the clip's scale"
            )
        if ctx.log_dir is not None:
            ctx.log_dir.mkdir(parents=True, exist_ok=True)
            (ctx.log_dir / f"{self.name}.log").write_text(
                f"{desc.architecture.name} x{desc.scale} {desc.tags} from {self.model_path()}\n"
            )
        tile, overlap = int(self.options["tile"]), int(self.options["tile_overlap"])
        for frame in clip.lr:
            if tile:
                from baselines.tiling import run_tiled

                yield run_tiled(frame[None], desc.scale, tile, overlap, lambda x: self._forward(desc, x, ctx.device))[0]
            else:
                yield self._forward(desc, frame[None], ctx.device)[0]

    def _forward(self, desc: Any, frames: np.ndarray, device: str) -> np.ndarray:
        import torch

        from baselines.tensors import frames_to_tensor, is_out_of_memory, out_of_memory_error, tensor_to_frames

        dtype = torch.float16 if self.options["fp16"] else torch.float32
        try:
            with torch.inference_mode():
                return tensor_to_frames(desc(frames_to_tensor(frames, device, dtype)))
        except (RuntimeError, MemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            size = f"{frames.shape[2]}x{frames.shape[1]}"
            raise out_of_memory_error(
                self.name, f"a {size} frame", device, f"set {self.name}.tile (e.g. 256) or {self.name}.fp16=true"
            ) from None


class SpandrelModel(SpandrelImageModel):
    """Any spandrel-supported image SR checkpoint: ``--methods spandrel:/path/model.pth``."""

    name = "spandrel"
    summary = "any spandrel-supported image SR checkpoint, frame by frame (use spandrel:PATH)"
    defaults: ClassVar[dict[str, Any]] = {"path": "", **COMMON_DEFAULTS, "label": ""}
    path_options: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if not self.options["path"]:
            raise BenchError("spandrel: give the checkpoint, e.g. --methods spandrel:/weights/4x_model.pth")

    @property
    def label(self) -> str:
        return str(self.options["label"] or f"spandrel:{Path(self.options['path']).stem}")

    def model_path(self) -> Path:
        return Path(self.options["path"]).expanduser()

    def identity(self) -> dict[str, Any]:
        ident = super().identity()
        for key in ("path", "label"):  # the checkpoint enters the key by content (extra_key)
            ident["options"].pop(key, None)
        return ident

    def extra_key(self, clip: Clip) -> str | None:
        from mgld_bench.fileio import file_sha256

        path = self.model_path()
        if not path.is_file():
            raise self._missing()
        return file_sha256(path)

    def availability(self) -> tuple[bool, str]:
        ok, reason = super().availability()
        if not ok:
            return ok, reason
        if not self.model_path().is_file():
            return False, f"checkpoint {self.model_path()} does not exist"
        return True, ""


class RealESRGAN(UsesCheckpoint, SpandrelImageModel):
    """Real-ESRGAN (Wang et al., 2021) x4plus through spandrel, frame by frame."""

    name = "realesrgan"
    summary = "Real-ESRGAN x4plus (official weights via spandrel), frame by frame"
    defaults: ClassVar[dict[str, Any]] = {"weights": REALESRGAN_X4PLUS.name, **COMMON_DEFAULTS}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.weight_file, self.weight_path = resolve_weight(self.options["weights"], REALESRGAN_X4PLUS, self.name)

    def model_path(self) -> Path:
        return self.weight_path

    def _missing(self) -> BenchError:
        wf = self.weight_file
        if wf is None:
            return BenchError(f"{self.name}: checkpoint {self.weight_path} (realesrgan.weights) does not exist")
        return WeightsMissingError(wf.name, wf.url, str(self.weight_path), self.name)

