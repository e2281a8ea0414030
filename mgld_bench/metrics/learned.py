"""Learned and no-reference image metrics through a backend (pyiqa by default; lpips for LPIPS).

Each metric is a :class:`LearnedMetric` naming a :class:`~mgld_bench.metrics.backends.ModelSpec`;
frames are scored in batches of ``batch_size`` on the run's device.  ``availability()`` only
checks that the weight files exist (no model is built), and names each missing file, its URL
and the ``mgld-bench weights fetch`` command.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.metrics.backends.base import BACKENDS, ModelSpec, load_model
from mgld_bench.metrics.base import Accumulator, FrameMetric, ScoreContext
from mgld_bench.weights import (
    ALEXNET,
    BRISQUE_SVM,
    DISTS_HEAD,
    LPIPS_ALEX_HEAD,
    LPIPS_VGG_HEAD,
    MUSIQ_KONIQ,
    NIQE_PARAMS,
    VGG16,
    WeightFile,
    require_weights,
)


class LearnedMetric(FrameMetric):
    """A per-frame metric computed by a backend model."""

    #: pyiqa's model name, mode ("FR"/"NR"), the file passed as the model's weights, all files.
    pyiqa_name: ClassVar[str] = ""
    mode: ClassVar[str] = "FR"
    model_file: ClassVar[WeightFile | None] = None
    files: ClassVar[tuple[WeightFile, ...]] = ()
    backends: ClassVar[tuple[str, ...]] = ("pyiqa",)
    defaults: ClassVar[dict[str, Any]] = {"backend": "pyiqa", "batch_size": 4}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if self.options["backend"] not in self.backends:
            raise BenchError(f"{self.name}: backend must be one of {', '.join(self.backends)}, "
                             f"got {self.options['backend']!r}")
        if int(self.options["batch_size"]) < 1:
            raise BenchError(f"{self.name}: batch_size must be >= 1")
        self.batch_size = int(self.options["batch_size"])  # type: ignore[misc]
        self.device = "cpu"

    # -- identity --------------------------------------------------------------------------
    def backend(self) -> str:
        from importlib.metadata import version

        lib = self.options["backend"]
        if lib == "native":
            from mgld_bench import __version__

            return f"mgld_bench {__version__} {self.name}"
        return f"{lib} {version(lib)}" if lib in BACKENDS else lib

    def weight_files(self) -> list[WeightFile]:
        return list(self.files)

    def model_options(self) -> dict[str, Any]:
        """Options passed to the library's constructor (beyond the weights path)."""
        return {}

    def spec(self) -> ModelSpec:
        return ModelSpec(self.name, self.mode, not self.higher_is_better, self.pyiqa_name, tuple(self.files),
                         self.model_file, self.model_options())

    # -- scoring ---------------------------------------------------------------------------
    def start(self, ctx: ScoreContext) -> Accumulator:
        self.device = ctx.device
        self._label = ctx.clip.label if ctx.clip is not None else ""
        return super().start(ctx)

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        return frame

    def native_scores(self, frames: list[np.ndarray]) -> list[float]:
        """Scores computed by mgld-bench itself (``backend=native``); only some metrics have them."""
        raise NotImplementedError

    def score_batch(self, srs: list[np.ndarray], gts: list[np.ndarray] | None) -> list[float]:
        dist = [self.prepare(f) for f in srs]
        try:
            if self.options["backend"] == "native":
                return self.native_scores(dist)
            model = load_model(self.spec(), self.options["backend"], self.device)
            ref = [self.prepare(f) for f in gts] if (self.mode == "FR" and gts is not None) else None
            return model.score(dist, ref)
        except (RuntimeError, ValueError, AssertionError) as exc:  # e.g. NIQE's SVD on a flat frame
            where = f" on clip {self._label}" if getattr(self, "_label", "") else ""
            raise BenchError(
                f"{self.name} failed{where} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                "flat or tiny frames are a known cause for NIQE/BRISQUE -- leave this metric out for such clips"
            ) from exc


_NATIVE_MODELS: dict[tuple[Any, str, int, int], Any] = {}


def _native_model(loader: Any, wf: WeightFile) -> Any:
    """``loader(path)`` of a weight file, once per process and file version."""
    require_weights([wf])
    path = wf.path()
    st = path.stat()
    key = (loader, str(path), st.st_mtime_ns, st.st_size)
    if key not in _NATIVE_MODELS:
        _NATIVE_MODELS[key] = loader(path)
    return _NATIVE_MODELS[key]


class LPIPS(LearnedMetric):
    """LPIPS v0.1 with AlexNet (Zhang et al. 2018), inputs in [0, 1]; lower is better."""

    name = "lpips"
    summary = "LPIPS v0.1 AlexNet (pyiqa; backend=lpips for the BSD lpips package)"
    higher_is_better = False
    pyiqa_name = "lpips"
    model_file = LPIPS_ALEX_HEAD
    files = (LPIPS_ALEX_HEAD, ALEXNET)
    backends = ("pyiqa", "lpips")


class LPIPSVGG(LPIPS):
    """LPIPS v0.1 with VGG16."""

    name = "lpips-vgg"
    summary = "LPIPS v0.1 VGG16 (pyiqa; backend=lpips for the BSD lpips package)"
    pyiqa_name = "lpips-vgg"
    model_file = LPIPS_VGG_HEAD
    files = (LPIPS_VGG_HEAD, VGG16)


class DISTS(LearnedMetric):
    """DISTS (Ding et al. 2020) at full resolution (no resizing, unlike piq); lower is better."""

    name = "dists"
    summary = "DISTS, VGG16, full resolution (pyiqa)"
    higher_is_better = False
    pyiqa_name = "dists"
    model_file = DISTS_HEAD
    files = (DISTS_HEAD, VGG16)


class NIQE(LearnedMetric):
    """NIQE with the official LIVE pristine model; lower is better.

    ``color_space`` comes from the protocol: "y" scores BT.601 luma (MATLAB ``rgb2ycbcr``, as
    BasicSR/mmagic NIQE used by RealBasicVSR); "gray" (also used when the protocol says "rgb",
    since NIQE is defined on one channel) scores MATLAB ``rgb2gray`` luma, as the LIVE code and
    pyiqa's default do.  ``crop_border`` also comes from the protocol.
    """

    name = "niqe"
    summary = "NIQE, LIVE pristine model; luma per protocol (BT.601 Y or rgb2gray); own NumPy code or pyiqa"
    kind: ClassVar[str] = "no-reference"
    needs_gt: ClassVar[bool] = False
    higher_is_better = False
    mode = "NR"
    pyiqa_name = "niqe"
    model_file = NIQE_PARAMS
    files = (NIQE_PARAMS,)
    protocol_fields: ClassVar[tuple[str, ...]] = ("color_space", "crop_border")
    backends = ("native", "pyiqa")
    #: batch 1: pyiqa's NIQE loops over images anyway; bigger float64 batches were slower on CPU
    defaults: ClassVar[dict[str, Any]] = {**LearnedMetric.defaults, "backend": "native", "batch_size": 1,
                                          "color_space": "y", "crop_border": 0}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if self.options["color_space"] not in ("y", "gray", "rgb"):
            raise BenchError(f"niqe: color_space must be y, gray or rgb, got {self.options['color_space']!r}")
        if int(self.options["crop_border"]) < 0:
            raise BenchError("niqe: crop_border must be >= 0")

    def model_options(self) -> dict[str, Any]:
        pyiqa_space = "ycbcr" if self.options["color_space"] == "y" else "yiq"
        return {"color_space": pyiqa_space}

    def native_scores(self, frames: list[np.ndarray]) -> list[float]:
        from mgld_bench.metrics.functional import niqe

        model = _native_model(niqe.load_niqe_model, NIQE_PARAMS)
        space = self.model_options()["color_space"]
        return [niqe.niqe(f, model, space) for f in frames]

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        c = int(self.options["crop_border"])
        if c and 2 * c >= min(frame.shape[:2]):
            raise BenchError(f"niqe: crop border {c} leaves nothing of a {frame.shape[1]}x{frame.shape[0]} frame")
        frame = frame[c:-c, c:-c] if c else frame
        if min(frame.shape[:2]) < 96:
            raise BenchError(f"niqe needs frames of at least 96x96 pixels, got {frame.shape[1]}x{frame.shape[0]}")
        return frame


class BRISQUE(LearnedMetric):
    """BRISQUE (LIVE model, YIQ luma, unclipped SVR output that can be negative); lower is better."""

    name = "brisque"
    summary = "BRISQUE, LIVE SVR model; own NumPy code or pyiqa"
    kind: ClassVar[str] = "no-reference"
    needs_gt: ClassVar[bool] = False
    higher_is_better = False
    mode = "NR"
    pyiqa_name = "brisque"
    model_file = BRISQUE_SVM
    files = (BRISQUE_SVM,)
    backends = ("native", "pyiqa")
    #: batch 1: batches of 4 ran at half the speed on CPU (benchmarks/bench_metrics.py)
    defaults: ClassVar[dict[str, Any]] = {**LearnedMetric.defaults, "backend": "native", "batch_size": 1}

    def native_scores(self, frames: list[np.ndarray]) -> list[float]:
        from mgld_bench.metrics.functional import brisque

        model = _native_model(brisque.load_brisque_model, BRISQUE_SVM)
        return [brisque.brisque(f, model) for f in frames]


class MUSIQ(LearnedMetric):
    """MUSIQ trained on KonIQ-10k (0-100); higher is better.  Cost grows with frame size."""

    name = "musiq"
    summary = "MUSIQ KonIQ-10k (pyiqa)"
    kind: ClassVar[str] = "no-reference"
    needs_gt: ClassVar[bool] = False
    higher_is_better = True
    mode = "NR"
    pyiqa_name = "musiq"
    model_file = MUSIQ_KONIQ
    files = (MUSIQ_KONIQ,)
