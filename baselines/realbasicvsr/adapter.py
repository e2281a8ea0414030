"""The ``realbasicvsr`` method: RealBasicVSR with its official weights, run natively.

Importing this module does not import torch (``mgld-bench list`` loads it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from baselines.weight_files import REALBASICVSR_X4, UsesCheckpoint, resolve_weight
from mgld_bench.errors import BenchError, FrameError, WeightsMissingError
from mgld_bench.frames import Clip
from mgld_bench.methods.base import Method, RunContext
from mgld_bench.specs import ONE_GPU, Resources

log = logging.getLogger(__name__)

MIN_SIDE = 64  # = arch.MIN_SIDE (kept here so this module stays torch-free)
SCALE = 4


class RealBasicVSR(UsesCheckpoint, Method):
    """RealBasicVSR x4 (Chan et al., CVPR 2022), own PyTorch port loading the official weights."""

    name = "realbasicvsr"
    version = 1
    summary = "RealBasicVSR x4 (official weights, native PyTorch port; no mmcv)"
    defaults: ClassVar[dict[str, Any]] = {
        "weights": REALBASICVSR_X4.name,
        "branch": "auto",
        "dynamic_refine_thres": 255.0,
        "max_seq_len": 0,
        "chunk_overlap": 0,
        "fp16": False,
        "tile": 0,
        "tile_overlap": 32,
        "pad_small": False,
        "allow_pickle": False,
    }

    resources: ClassVar[Resources] = ONE_GPU

    #: Constructor arguments of the network beyond the options (tests shrink it; users never need to).
    net_options: ClassVar[dict[str, Any]] = {}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        o = self.options
        if o["branch"] not in ("auto", "ema", "generator"):
            raise BenchError(f"realbasicvsr.branch: {o['branch']!r} is not auto, ema or generator")
        if int(o["max_seq_len"]) < 0:
            raise BenchError("realbasicvsr.max_seq_len must be 0 (whole clip) or a positive frame count")
        if int(o["chunk_overlap"]) < 0:
            raise BenchError("realbasicvsr.chunk_overlap must be 0 or a positive frame count")
        if o["tile"] and int(o["tile"]) < MIN_SIDE:
            raise BenchError(f"realbasicvsr.tile must be 0 (off) or at least {MIN_SIDE} LR pixels")
        if o["tile"] and not 0 <= int(o["tile_overlap"]) < int(o["tile"]):
            raise BenchError("realbasicvsr.tile_overlap must be at least 0 and smaller than realbasicvsr.tile")
        self.weight_file, self.weight_path = resolve_weight(o["weights"], REALBASICVSR_X4, self.name)
        self._model: Any = None
        self._device: str | None = None
        #: which part of the checkpoint was loaded ("ema", "generator" or "bare"), once loaded.
        self.branch_used: str | None = None
        self.load_message = ""

    # -- identity and availability ---------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        ident = super().identity()
        ident["options"].pop("allow_pickle", None)  # changes only whether a file may be read
        return ident


    def _require_weights(self) -> None:
        if self.weight_path.is_file():
            return
        wf = self.weight_file
        raise WeightsMissingError(
            wf.name if wf else self.weight_path.name, wf.url if wf else None, str(self.weight_path), self.name
        )

    # -- model ------------------------------------------------------------------------------
    def model(self, device: str) -> Any:
        """The network on ``device`` (loaded once per method instance)."""
        if self._model is None:
            self._require_weights()
            from baselines.realbasicvsr.checkpoint import load_realbasicvsr

            net, selected = load_realbasicvsr(
                self.weight_path,
                branch=self.options["branch"],
                allow_pickle=bool(self.options["allow_pickle"]),
                dynamic_refine_thres=float(self.options["dynamic_refine_thres"]),
                is_sequential_cleaning=True,
                **self.net_options,
            )
            self.branch_used = selected.branch
            self.load_message = f"loaded {selected.describe()} from {self.weight_path}"
            log.info("realbasicvsr: %s", self.load_message)
            self._model = net
        if self._device != device:
            self._model = self._model.to(device)
            self._device = device
        return self._model

    # -- running ----------------------------------------------------------------------------
    def run(self, clip: Clip, ctx: RunContext) -> Iterator[np.ndarray]:
        from baselines.tensors import check_device

        if clip.scale != SCALE:
            raise BenchError(f"realbasicvsr is x{SCALE} only, but clip {clip.label} asks for x{clip.scale}")
        check_device(ctx.device, bool(self.options["fp16"]), self.name)
        net = self.model(ctx.device)
        if ctx.log_dir is not None:
            ctx.log_dir.mkdir(parents=True, exist_ok=True)
            (ctx.log_dir / "realbasicvsr.log").write_text(self.load_message + "\n")
        n = len(clip.lr)
        chunk = int(self.options["max_seq_len"]) or n
        overlap = int(self.options["chunk_overlap"]) if chunk < n else 0
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            first, last = max(0, start - overlap), min(n, stop + overlap)  # context frames, outputs dropped
            frames = [clip.lr[i] for i in range(first, last)]
            sizes = {f.shape for f in frames}
            if len(sizes) > 1:
                raise FrameError(f"realbasicvsr: the LR frames of clip {clip.label} differ in size ({sorted(sizes)})")
            for index, frame in enumerate(self.upscale(net, np.stack(frames), ctx.device, clip.label), first):
                if start <= index < stop:
                    yield frame
                if index >= stop - 1:  # the trailing context frames need no upsampling
                    break

    def upscale(self, net: Any, lr: np.ndarray, device: str, label: str = "clip") -> Iterator[np.ndarray]:
        """SR frames for one chunk ``lr`` (t, h, w, 3) uint8, applying the 64-px rule and tiling."""
        _, h, w, _ = lr.shape
        pad_h, pad_w = max(0, MIN_SIDE - h), max(0, MIN_SIDE - w)
        if pad_h or pad_w:
            if not self.options["pad_small"]:
                raise FrameError(
                    f"realbasicvsr: clip {label} has {w}x{h} LR frames, but RealBasicVSR needs at least "
                    f"{MIN_SIDE}x{MIN_SIDE} (its SPyNet pyramid); set realbasicvsr.pad_small=true to "
                    "reflect-pad them (the padding is cropped from the output)"
                )
            lr = np.pad(lr, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="reflect")
        tile = int(self.options["tile"])
        if tile and (lr.shape[1] > tile or lr.shape[2] > tile):
            from baselines.tiling import run_tiled

            out = run_tiled(
                lr, SCALE, tile, int(self.options["tile_overlap"]), lambda x: self._forward_all(net, x, device)
            )
            for frame in out:
                yield np.ascontiguousarray(frame[: h * SCALE, : w * SCALE])
            return
        for frame in self._forward_iter(net, lr, device):
            yield np.ascontiguousarray(frame[: h * SCALE, : w * SCALE])

    def _forward_iter(self, net: Any, lr: np.ndarray, device: str) -> Iterator[np.ndarray]:
        import contextlib

        import torch

        from baselines.tensors import frames_to_tensor, is_out_of_memory, out_of_memory_error, tensor_to_frames

        fp16 = bool(self.options["fp16"]) and device.startswith("cuda")

        def step_context() -> contextlib.ExitStack:
            stack = contextlib.ExitStack()
            stack.enter_context(torch.inference_mode())
            if fp16:
                stack.enter_context(torch.autocast("cuda", dtype=torch.float16))
            return stack

        # The contexts are entered around each step, never held across a ``yield``.
        with step_context():
            steps = net.iter_forward(frames_to_tensor(lr, device)[None])
        while True:
            with step_context():
                try:
                    out = next(steps, None)
                except (RuntimeError, MemoryError) as exc:
                    if not is_out_of_memory(exc):
                        raise
                    raise out_of_memory_error(
                        self.name,
                        f"{lr.shape[0]} frames of {lr.shape[2]}x{lr.shape[1]}",
                        device,
                        "set realbasicvsr.max_seq_len (e.g. 30), realbasicvsr.tile (e.g. 256) "
                        "or realbasicvsr.fp16=true",
                    ) from None
                frame = None if out is None else tensor_to_frames(out)[0]
            if frame is None:
                return
            yield frame

    def _forward_all(self, net: Any, lr: np.ndarray, device: str) -> np.ndarray:
        return np.stack(list(self._forward_iter(net, lr, device)))
