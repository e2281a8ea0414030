"""Learned and no-reference image metrics through a backend: mgld-bench's own code, ``native``, by
default for LPIPS, DISTS, MUSIQ (plain torch networks, ``backends/native_nets.py`` and
``native_musiq.py``), NIQE and BRISQUE
(NumPy/OpenCV); pyiqa for the others and on request; the ``lpips`` package for LPIPS on request.

Each metric is a :class:`LearnedMetric` whose ``model`` option names a backend model (the registry
entries ``lpips``, ``lpips-vgg``, ``dists``, ``brisque``, ``musiq`` differ only in it);
frames are scored in batches of ``batch_size`` on the run's device.  ``availability()`` only
checks that the weight files exist (no model is built), and names each missing file, its URL
and the ``mgld-bench weights fetch`` command.
"""

from __future__ import annotations

from collections.abc import Mapping
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

#: The weight files of each backend model: (the file passed as the model's own weights, all files).
MODEL_FILES: dict[str, tuple[WeightFile, tuple[WeightFile, ...]]] = {
    "lpips": (LPIPS_ALEX_HEAD, (LPIPS_ALEX_HEAD, ALEXNET)),
    "lpips-vgg": (LPIPS_VGG_HEAD, (LPIPS_VGG_HEAD, VGG16)),
    "dists": (DISTS_HEAD, (DISTS_HEAD, VGG16)),
    "niqe": (NIQE_PARAMS, (NIQE_PARAMS,)),
    "brisque": (BRISQUE_SVM, (BRISQUE_SVM,)),
    "musiq": (MUSIQ_KONIQ, (MUSIQ_KONIQ,)),
}
#: Backends that can compute each model (pyiqa computes all of them; ``native`` is mgld-bench's
#: own code: for NIQE/BRISQUE NumPy/OpenCV, equal to pyiqa within 1e-4 relative,
#: tests/metrics/test_nss.py; for LPIPS/DISTS/MUSIQ torch networks equal to pyiqa's up to float32
#: rounding, tests/metrics/test_native_nets.py and test_native_musiq.py).
MODEL_BACKENDS: dict[str, tuple[str, ...]] = {
    "lpips": ("native", "pyiqa", "lpips"),
    "lpips-vgg": ("native", "pyiqa", "lpips"),
    "dists": ("native", "pyiqa"),
    "niqe": ("native", "pyiqa"),
    "brisque": ("native", "pyiqa"),
    "musiq": ("native", "pyiqa"),
}
#: Models whose ``native`` backend is a network, loaded and called like a library's model
#: (``backends/native_nets.py``, ``native_musiq.py``); the other native models are NumPy code
#: scored frame by frame.
NATIVE_NETWORKS = ("lpips", "lpips-vgg", "dists", "musiq")
#: Models whose GT-side features are kept in the cache across runs under ``gt_cache=auto``
#: (float32 per 720p GT frame: LPIPS-alex ~40 MB; LPIPS-vgg and DISTS ~450 MB, so off unless
#: ``gt_cache=on``).
GT_CACHE_AUTO = ("lpips",)

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


class LearnedMetric(FrameMetric):
    """A per-frame metric computed by a backend model: ``model`` names it (pyiqa's name), the
    registry entry's facts say whether it is full-reference and which way is better.  The
    registered metrics ``lpips``, ``lpips-vgg``, ``dists``, ``brisque`` and ``musiq`` are entries
    of this one class with another ``model``."""

    defaults: ClassVar[dict[str, Any]] = {"model": "", "backend": "pyiqa", "batch_size": 4, "gt_cache": "auto"}
    minimum: ClassVar[dict[str, float]] = {"batch_size": 1}
    choices: ClassVar[dict[str, tuple[Any, ...]]] = {"gt_cache": ("auto", "on", "off")}
    #: batching changes how frames go through the network, not the values (equal to pyiqa's batch
    #: 1 within the metric's tolerance, tests/metrics/test_execution_options.py), and GT features
    #: read from the cache are the computed ones bit for bit (tests/metrics/test_gt_feature_cache.py):
    #: neither is in the identity
    execution_options: ClassVar[tuple[str, ...]] = ("batch_size", "gt_cache")

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        model = self.options["model"]
        if model not in MODEL_FILES:
            raise BenchError(f"{self.name}: model must be one of {', '.join(MODEL_FILES)}, got {model!r}")
        backends = MODEL_BACKENDS.get(model, ("pyiqa",))
        if self.options["backend"] not in backends:
            raise BenchError(f"{self.name}: backend must be one of {', '.join(backends)}, "
                             f"got {self.options['backend']!r}")
        self.batch_size = int(self.options["batch_size"])  # type: ignore[misc]
        #: batch_size given explicitly (else batches apply on CUDA only: on CPU they gave no
        #: speed-up for LPIPS/MUSIQ, and DISTS peaked at 6.3 GB with 4 720p frames vs 2.3 GB with 1)
        self._batch_explicit = "batch_size" in options
        self.device = "cpu"

    @property
    def mode(self) -> str:
        """pyiqa's mode: "FR" (distorted, reference) or "NR"."""
        return "FR" if self.facts.needs_gt else "NR"

    @property
    def files(self) -> tuple[WeightFile, ...]:
        return MODEL_FILES[self.options["model"]][1]

    # -- identity --------------------------------------------------------------------------
    def backend(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        lib = self.options["backend"]
        if lib == "native":
            from mgld_bench import __version__

            return f"mgld_bench {__version__} {self.options['model']}"
        if lib not in BACKENDS:
            return lib
        try:
            return f"{lib} {version(lib)}"
        except PackageNotFoundError:
            return f"{lib} (not installed)"

    def weight_files(self) -> list[WeightFile]:
        return list(self.files)

    def availability(self) -> tuple[bool, str]:
        """The backend package must be installed (``[learned]`` extra) and the weight files present."""
        from mgld_bench.extras import EXTRAS, extra_availability

        lib = self.options["backend"]
        if lib in EXTRAS:  # a backend library (pyiqa, lpips); in-house backends need none
            ok, reason = extra_availability(lib, used_by=self.name)
            if not ok:
                return ok, reason
        return super().availability()

    def numpy_code(self) -> bool:
        """Scored by mgld-bench's NumPy code (native NIQE/BRISQUE): no network, no device."""
        return self.options["backend"] == "native" and self.options["model"] not in NATIVE_NETWORKS

    def uses_device(self) -> bool:
        return not self.numpy_code()

    def execution(self, device_kind: str | None = None) -> dict[str, Any]:
        """``batch_size`` as used: unless set explicitly, 1 on CPU (see :meth:`start`)."""
        out = super().execution(device_kind)
        if "batch_size" in out and not self._batch_explicit and device_kind == "cpu":
            out["batch_size"] = 1
        return out

    def model_options(self) -> dict[str, Any]:
        """Options passed to the library's constructor (beyond the weights path)."""
        return {}

    def spec(self) -> ModelSpec:
        model = self.options["model"]
        return ModelSpec(self.name, self.mode, not self.higher_is_better, model, self.files,
                         MODEL_FILES[model][0], self.model_options())

    # -- scoring ---------------------------------------------------------------------------
    def start(self, ctx: ScoreContext) -> Accumulator:
        self.device = ctx.device
        if not self._batch_explicit:
            default = int(self.options["batch_size"])
            self.batch_size = 1 if ctx.device == "cpu" else default  # type: ignore[misc]
        self._label = ctx.clip.label if ctx.clip is not None else ""
        self._stored = None
        if self.keeps_gt_features() and ctx.cache is not None:
            from mgld_bench.metrics.backends.base import ReferenceFeatures

            self._stored = ReferenceFeatures(ctx.cache, self.identity(), self.backend())
        return super().start(ctx)

    def keeps_gt_features(self) -> bool:
        """Whether GT-side features go to the cache (``gt_cache``: on, off, or auto = on for
        the models in :data:`GT_CACHE_AUTO`); only full-reference library models have them."""
        setting = self.options.get("gt_cache", "off")
        if self.mode != "FR" or self.numpy_code() or setting == "off":
            return False
        return setting == "on" or self.options["model"] in GT_CACHE_AUTO

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        return frame

    def release(self) -> None:
        if not self.numpy_code() and self.mode == "FR":
            from mgld_bench.metrics.backends.base import release_references

            release_references()

    def native_scores(self, frames: list[np.ndarray]) -> list[float]:
        """Scores computed by mgld-bench's own code (``backend=native``: NIQE, BRISQUE)."""
        if self.options["model"] == "brisque":
            from mgld_bench.metrics.functional import brisque

            svr = _native_model(brisque.load_brisque_model, BRISQUE_SVM)
            return [brisque.brisque(f, svr) for f in frames]
        raise BenchError(f"{self.name}: no native implementation of {self.options['model']}")

    def score_batch(self, srs: list[np.ndarray], gts: list[np.ndarray] | None) -> list[float]:
        dist = [self.prepare(f) for f in srs]
        try:
            if self.numpy_code():
                return self.native_scores(dist)
            model = load_model(self.spec(), self.options["backend"], self.device)
            ref = [self.prepare(f) for f in gts] if (self.mode == "FR" and gts is not None) else None
            return model.score(dist, ref, stored=getattr(self, "_stored", None))
        except (RuntimeError, ValueError, AssertionError) as exc:  # e.g. NIQE's SVD on a flat frame
            where = f" on clip {self._label}" if getattr(self, "_label", "") else ""
            raise BenchError(
                f"{self.name} failed{where} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
                "flat or tiny frames are a known cause for NIQE/BRISQUE -- leave this metric out for such clips"
            ) from exc


class NIQE(LearnedMetric):
    """NIQE with the official LIVE pristine model; lower is better.

    ``color_space`` comes from the protocol: "y" scores BT.601 luma (MATLAB ``rgb2ycbcr``, as
    BasicSR/mmagic NIQE used by RealBasicVSR); "gray" (also used when the protocol says "rgb",
    since NIQE is defined on one channel) scores MATLAB ``rgb2gray`` luma, as the LIVE code and
    pyiqa's default do.  ``crop_border`` also comes from the protocol.
    """

    name = "niqe"
    summary = "NIQE, LIVE pristine model; luma per protocol (BT.601 Y or rgb2gray); own NumPy code or pyiqa"
    #: batch 1: pyiqa's NIQE loops over images anyway; bigger float64 batches were slower on CPU
    defaults: ClassVar[dict[str, Any]] = {**LearnedMetric.defaults, "model": "niqe", "backend": "native",
                                          "batch_size": 1, "color_space": "y", "crop_border": 0}
    choices: ClassVar[dict[str, tuple[str, ...]]] = {"color_space": ("y", "gray", "rgb")}
    minimum: ClassVar[dict[str, float]] = {"batch_size": 1, "crop_border": 0}

    def model_options(self) -> dict[str, Any]:
        pyiqa_space = "ycbcr" if self.options["color_space"] == "y" else "yiq"
        return {"color_space": pyiqa_space}

    def native_scores(self, frames: list[np.ndarray]) -> list[float]:
        from mgld_bench.metrics.functional import niqe

        params = _native_model(niqe.load_niqe_model, NIQE_PARAMS)
        space = self.model_options()["color_space"]
        return [niqe.niqe(f, params, space) for f in frames]

    def prepare(self, frame: np.ndarray) -> np.ndarray:
        c = int(self.options["crop_border"])
        if c and 2 * c >= min(frame.shape[:2]):
            raise BenchError(f"niqe: crop border {c} leaves nothing of a {frame.shape[1]}x{frame.shape[0]} frame")
        frame = frame[c:-c, c:-c] if c else frame
        if min(frame.shape[:2]) < 96:
            raise BenchError(f"niqe needs frames of at least 96x96 pixels, got {frame.shape[1]}x{frame.shape[0]}")
        return frame


class PyiqaMetric(LearnedMetric):
    """Any pyiqa metric: ``pyiqa:NAME`` (the ``model`` option); direction, range and FR/NR mode come from pyiqa.

    pyiqa's model table is read without importing pyiqa (:func:`facts_for` gives the facts of
    ``pyiqa:NAME`` from it); its facts (mode, lower_better, score_range) also go into the metric's
    identity, hence into every stored result's parameters.  The first-class entries ``musiq-*``,
    ``maniqa*`` and ``clipiqa*`` are this class with a fixed ``model`` and declared facts, which
    are checked against pyiqa's table when the metric is built.  pyiqa finds its files in the
    weights folder and downloads nothing
    (:func:`~mgld_bench.metrics.backends.pyiqa_backend.guarded_loading`).
    """

    name = "pyiqa"
    summary = "any pyiqa metric by name, pyiqa:NAME (direction, range, FR/NR read from pyiqa)"
    #: ``backbone_in_checkpoint``: the pyiqa checkpoint holds the whole timm backbone (MANIQA), so
    #: timm's own ImageNet download is skipped (the strict checkpoint load overwrites it anyway).
    defaults: ClassVar[dict[str, Any]] = {"model": "", "backend": "pyiqa", "batch_size": 1,
                                          "backbone_in_checkpoint": False}
    choices: ClassVar[dict[str, tuple[str, ...]]] = {"backend": ("pyiqa",)}
    #: ``NAME:ARG`` sets this option (``pyiqa:topiq_nr``).
    argument_option: ClassVar[str] = "model"
    #: batch_size stays in the identity here: an arbitrary pyiqa model is not shown to give the
    #: same values in any batch (some take random crops per call)
    execution_options: ClassVar[tuple[str, ...]] = ()

    def complete_options(self, values: dict[str, Any], given: Mapping[str, Any]) -> None:
        """``model`` spelt as pyiqa's model table spells it."""
        from mgld_bench.extras import MissingExtraError, is_installed, missing_message
        from mgld_bench.metrics.backends.pyiqa_backend import pyiqa_info

        if not is_installed("pyiqa"):  # its model table is read from pyiqa's own source
            raise MissingExtraError(missing_message("pyiqa", used_by=self.name))
        model = str(values["model"]).strip()
        if not model:
            raise BenchError(f"{self.name}: name the pyiqa metric, e.g. --metrics pyiqa:topiq_nr")
        self.info = pyiqa_info(model)
        values["model"] = self.info.name

    def __init__(self, **options: Any) -> None:
        FrameMetric.__init__(self, **options)
        if self.name == PyiqaMetric.name:  # built directly, not through the registry
            self.name = f"pyiqa:{self.info.name.lower()}"  # type: ignore[misc]
            self.facts = self.facts_for(self.info.name)
        if self.facts.higher_is_better == self.info.lower_better or self.facts.needs_gt != (self.info.mode == "FR"):
            raise BenchError(
                f"{self.name}: pyiqa reports {self.info.name} as {self.info.mode}/lower_better="
                f"{self.info.lower_better}, which contradicts the declared facts; update mgld_bench/builtins.py"
            )
        self.batch_size = int(self.options["batch_size"])  # type: ignore[misc]
        self._batch_explicit = "batch_size" in options  # as LearnedMetric: batches on CUDA only unless set
        self.device = "cpu"
        self._files = self._weight_files()

    @classmethod
    def facts_for(cls, model: str) -> Any:
        """The facts of ``pyiqa:model``, read from pyiqa's model table."""
        from mgld_bench.metrics.backends.pyiqa_backend import pyiqa_info
        from mgld_bench.specs import MetricFacts, Tolerance

        info = pyiqa_info(model)
        return MetricFacts(
            f"pyiqa:{info.name}", "full-reference" if info.mode == "FR" else "no-reference", not info.lower_better,
            ("sr", "gt") if info.mode == "FR" else ("sr",),
            tolerance=Tolerance(1e-3, 1e-3, f"float32 pyiqa model (range {info.score_range or 'unknown'}): "
                                            "CPU/GPU kernels move the 4th significant digit"),
        )

    def _weight_files(self) -> tuple[WeightFile, ...]:
        from mgld_bench.metrics.backends.pyiqa_backend import pyiqa_model_files
        from mgld_bench.weights import PYIQA_URL, known_weights, register_weight

        users = {self.name, f"pyiqa:{self.info.name.lower()}"}
        files = [wf for wf in known_weights().values() if users & set(wf.used_by)]
        declared = {wf.name for wf in files}
        for fname in pyiqa_model_files(self.info.name):  # the model's own file, when pyiqa's source names it
            if fname not in declared:
                files.append(register_weight(WeightFile(fname, PYIQA_URL + fname, "pyiqa", used_by=tuple(users))))
        return tuple(files)

    @property
    def mode(self) -> str:
        return self.info.mode

    @property
    def files(self) -> tuple[WeightFile, ...]:
        return self._files

    def spec(self) -> ModelSpec:
        return ModelSpec(self.name, self.info.mode, self.info.lower_better, self.info.name, self.files, None, {},
                         bool(self.options["backbone_in_checkpoint"]))

    def identity(self) -> dict[str, Any]:
        ident = super().identity()
        ident["pyiqa"] = {"name": self.info.name, "mode": self.info.mode, "lower_better": self.info.lower_better,
                          "score_range": self.info.score_range}
        return ident
