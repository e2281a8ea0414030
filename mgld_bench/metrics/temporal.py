"""Temporal-consistency metrics: warping error (Lai et al. 2018 / EvalCrafter), tOF and tLP (TecoGAN).

Each is fed the clip frame by frame and scores consecutive pairs (t, t+1) as they arrive, so
only two frames of each video are held at a time.  Temporal metrics always use every pair of the
clip (the protocol's frame subset applies to per-frame metrics only).  Flows go through the
content-addressed cache (:mod:`mgld_bench.flow.cached`), so flows of the GT (or LR) are computed
once per clip and backend and shared by every method; flows of an output are not kept.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.flow.backends import FLOW_BACKENDS, RAFT_BACKENDS, check_backend
from mgld_bench.flow.cached import cached_flow, frame_digest
from mgld_bench.metrics.base import (
    PAIR_CUT_DEFAULTS,
    Accumulator,
    Metric,
    MetricResult,
    ScoreContext,
    mean_value,
    pair_result,
)
from mgld_bench.metrics.functional import warping
from mgld_bench.weights import WeightFile

WARP_DEFINITIONS = ("lai", "evalcrafter")
FLOW_SOURCES = ("auto", "gt", "sr", "lr")


def _flow_weights(backend: str) -> list[WeightFile]:
    if backend in RAFT_BACKENDS:
        from mgld_bench.weights import RAFT_LARGE, RAFT_SMALL

        return [RAFT_LARGE if backend == "raft-large" else RAFT_SMALL]
    return []


class _FlowSource:
    """Yields the frames the flow is computed on, for one clip and one ``flow_source``."""

    def __init__(self, ctx: ScoreContext, source: str, metric: str) -> None:
        self.ctx = ctx
        self.source = source
        self.metric = metric

    def resolve(self, gt: np.ndarray | None) -> str:
        if self.source == "auto":
            return "gt" if gt is not None else "sr"
        if self.source == "gt" and gt is None:
            raise BenchError(
                f"{self.metric}: flow_source 'gt' but clip {self.ctx.clip.label} has no ground truth; "
                "use a protocol or --set with flow_source=sr or lr"
            )
        return self.source

    def frame(self, index: int, sr: np.ndarray, gt: np.ndarray | None) -> np.ndarray:
        src = self.resolve(gt)
        if src == "gt":
            assert gt is not None
            return gt
        if src == "sr":
            return sr
        import cv2

        lr = self.ctx.clip.lr[index]
        h, w = sr.shape[:2]
        return cv2.resize(lr, (w, h), interpolation=cv2.INTER_CUBIC)


class WarpingError(Metric):
    """Warping error E_warp × 10³ (lower is better).

    ``warp_definition="lai"``: Lai et al. (2018) -- flow t -> t+1 and t+1 -> t on the flow-source
    video, frame t+1 of the output warped to t, occluded pixels dropped (forward-backward check
    and motion boundaries), mean squared error over the remaining pixels and the 3 channels on
    [0, 1] frames; mean over pairs.  ``"evalcrafter"``: the EvalCrafter/STAR/DOVE variant -- both
    videos halved (bilinear) first, channels summed instead of averaged; ``flow_source="auto"``
    then means the output itself, as EvalCrafter does.
    """

    name = "warping-error"
    version: ClassVar[int] = 2  # 2: cached flows are float16 (mgld_bench.flow.cached)
    summary = "warping error x1e3 (Lai et al. 2018; flow backend/source/definition from the protocol)"
    defaults: ClassVar[dict[str, Any]] = {
        "warp_definition": "lai",
        "flow_backend": "dis-medium",
        "flow_source": "auto",
        "motion_boundaries": True,
        #: "auto": on for "lai" (see docs/metrics.md), off for "evalcrafter" (as its code); or true/false
        "exclude_outside": "auto",
        "scale": 1000.0,
        **PAIR_CUT_DEFAULTS,
    }

    choices: ClassVar[dict[str, tuple[Any, ...]]] = {
        "warp_definition": WARP_DEFINITIONS,
        "flow_source": FLOW_SOURCES,
        "exclude_outside": ("auto", "true", "false", True, False),
        "flow_backend": tuple(FLOW_BACKENDS),
    }

    def weight_files(self) -> list[WeightFile]:
        return _flow_weights(self.options["flow_backend"])

    def uses_device(self) -> bool:
        return str(self.options["flow_backend"]).startswith("raft")

    def start(self, ctx: ScoreContext) -> Accumulator:
        return _WarpAccumulator(self, ctx)


class _WarpAccumulator(Accumulator):
    def __init__(self, metric: WarpingError, ctx: ScoreContext) -> None:
        self.o = metric.options
        self.ctx = ctx
        self.source = _FlowSource(ctx, self.o["flow_source"], metric.name)
        self.evalcrafter = self.o["warp_definition"] == "evalcrafter"
        if self.evalcrafter and self.o["flow_source"] == "auto":
            self.source.source = "sr"
        outside = str(self.o["exclude_outside"]).lower()
        self.exclude_outside = (not self.evalcrafter) if outside == "auto" else outside == "true"
        self.prev: tuple[int, np.ndarray, np.ndarray, str] | None = None
        self.values: dict[int, float] = {}
        self.valid: dict[int, float] = {}
        self.resolved = ""

    def update(self, index: int, sr: np.ndarray, gt: np.ndarray | None) -> None:
        src = self.source.frame(index, sr, gt)
        self.resolved = self.source.resolve(gt)
        if self.evalcrafter:
            sr = warping.half_resolution(sr)
            src = warping.half_resolution(src)
        digest = frame_digest(src)
        if self.prev is not None:
            p_index, p_sr, p_src, p_digest = self.prev
            if p_sr.shape != sr.shape:
                raise BenchError(f"{self.ctx.clip.label}: frame {index} differs in size from frame {p_index}")
            backend, dev = self.o["flow_backend"], self.ctx.device
            # flows of the GT or LR are shared by every method and worth keeping; flows of one
            # output are used once (its score is cached), so they are not written to the cache
            cache = self.ctx.cache if self.resolved != "sr" else None
            fwd = cached_flow(cache, p_src, src, backend, dev, (p_digest, digest))
            bwd = cached_flow(cache, src, p_src, backend, dev, (digest, p_digest))
            err, frac = warping.warp_error_pair(
                p_sr, sr, fwd, bwd, "sum" if self.evalcrafter else "mean",
                motion_boundaries=bool(self.o["motion_boundaries"]), exclude_outside=self.exclude_outside,
            )
            self.values[p_index] = err * float(self.o["scale"])
            self.valid[p_index] = frac
        self.prev = (index, sr, src, digest)

    def result(self) -> MetricResult:
        values = dict(sorted(self.values.items()))
        extras = {"non_occluded_fraction": mean_value(list(self.valid.values())),
                  "flow_source": self.resolved}
        return pair_result(values, self.o, extras)


class TOF(Metric):
    """TecoGAN's tOF: mean |OF(sr_{t-1}, sr_t) - OF(gt_{t-1}, gt_t)| (Euclidean, px), lower is better."""

    name = "tof"
    version: ClassVar[int] = 2  # 2: cached GT flows are float16 (mgld_bench.flow.cached)
    summary = "tOF (TecoGAN): mean flow difference SR vs GT in px, Farneback on the centre crop"
    defaults: ClassVar[dict[str, Any]] = {"flow_backend": "farneback", "tecogan_crop": True, **PAIR_CUT_DEFAULTS}

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        check_backend(self.options["flow_backend"])

    def weight_files(self) -> list[WeightFile]:
        return _flow_weights(self.options["flow_backend"])

    def uses_device(self) -> bool:
        return str(self.options["flow_backend"]).startswith("raft")

    def start(self, ctx: ScoreContext) -> Accumulator:
        return _PairAccumulator(ctx, self._pair, bool(self.options["tecogan_crop"]), options=self.options)

    def _pair(self, ctx: ScoreContext, prev: tuple[np.ndarray, np.ndarray, tuple[str, str]],
              cur: tuple[np.ndarray, np.ndarray, tuple[str, str]]) -> float:
        backend = self.options["flow_backend"]
        f_sr = cached_flow(None, prev[0], cur[0], backend, ctx.device)  # used once: not cached
        f_gt = cached_flow(ctx.cache, prev[1], cur[1], backend, ctx.device, (prev[2][1], cur[2][1]))
        return warping.flow_difference(f_sr, f_gt)


class _PairAccumulator(Accumulator):
    """Calls ``pair(ctx, previous, current)`` on (sr, gt, digests) of consecutive frames."""

    def __init__(
        self, ctx: ScoreContext, pair: Any, crop: bool, digests: bool = True, options: dict[str, Any] | None = None
    ) -> None:
        self.ctx = ctx
        self.options = options or {}
        self.pair = pair
        self.crop = crop
        self.digests = digests
        self.prev: tuple[int, tuple[np.ndarray, np.ndarray, tuple[str, str]]] | None = None
        self.values: dict[int, float] = {}

    def update(self, index: int, sr: np.ndarray, gt: np.ndarray | None) -> None:
        if gt is None:
            raise BenchError(f"clip {self.ctx.clip.label} has no ground truth; tOF/tLP need it")
        if self.crop:
            sr, gt = warping.tecogan_crop(sr), warping.tecogan_crop(gt)
        d = (frame_digest(sr), frame_digest(gt)) if self.digests else ("", "")
        cur = (sr, gt, d)
        if self.prev is not None:
            self.values[self.prev[0]] = float(self.pair(self.ctx, self.prev[1], cur))
        self.prev = (index, cur)

    def result(self) -> MetricResult:
        return pair_result(self.values, self.options)


class TLP(Metric):
    """TecoGAN's tLP: |LPIPS(gt_{t-1}, gt_t) - LPIPS(sr_{t-1}, sr_t)| × 100 (AlexNet v0.1), lower is better."""

    name = "tlp"
    version: ClassVar[int] = 2  # 2: the GT pair is scored alone (not batched with the output's), shared
    summary = "tLP x100 (TecoGAN): LPIPS-AlexNet change SR vs GT between frames, on the centre crop"
    defaults: ClassVar[dict[str, Any]] = {"backend": "native", "tecogan_crop": True, "scale": 100.0,
                                          **PAIR_CUT_DEFAULTS}

    def _lpips(self) -> Any:
        from mgld_bench.registry import METRICS

        return METRICS.create("lpips", backend=self.options["backend"])

    def backend(self) -> str:
        return self._lpips().backend()

    def weight_files(self) -> list[WeightFile]:
        return self._lpips().weight_files()

    def availability(self) -> tuple[bool, str]:
        return self._lpips().availability()

    def uses_device(self) -> bool:
        return True

    def start(self, ctx: ScoreContext) -> Accumulator:
        from mgld_bench.metrics.backends.base import load_model

        lpips = self._lpips()
        model = load_model(lpips.spec(), self.options["backend"], ctx.device)
        scale = float(self.options["scale"])
        gt_pairs = _GTPairValues(ctx.cache, lpips.identity(), lpips.backend(), ctx.device)

        def pair(_ctx: ScoreContext, prev: tuple, cur: tuple) -> float:
            # pairs of consecutive frames: no reference is seen twice, the LPIPS metric's held GT stays.
            # The GT pair is scored on its own (never batched with an output), so its value is the
            # same whichever method's pass computed it and can be shared through the cache.
            lp_sr = model.score([prev[0]], [cur[0]], keep_reference=False)[0]
            lp_gt = gt_pairs.get((prev[2][1], cur[2][1]),
                                 lambda: model.score([prev[1]], [cur[1]], keep_reference=False)[0])
            return abs(lp_gt - lp_sr) * scale

        return _PairAccumulator(ctx, pair, bool(self.options["tecogan_crop"]), options=self.options)


class _GTPairValues:
    """LPIPS of consecutive GT frames, computed once per pair for every method of a run and
    later runs: kept in the content-addressed cache (namespace ``tlp-gt``, one float64 per pair),
    keyed by the two frames' digests, the LPIPS identity and backend, the device kind and torch's
    version.  Without a cache (tests, ``score`` without one) every call computes."""

    NAMESPACE = "tlp-gt"

    def __init__(self, cache: Any, identity: Any, backend: str, device: str) -> None:
        self.cache = cache
        self.identity = identity
        self.backend = backend
        self.device_kind = str(device).split(":")[0]
        #: pairs computed (tests count them)
        self.computed = 0

    def get(self, digests: tuple[str, str], compute: Any) -> float:
        if self.cache is None:
            self.computed += 1
            return float(compute())
        import torch

        from mgld_bench.specs import digest

        key = digest({"kind": self.NAMESPACE, "metric": self.identity, "backend": self.backend,
                      "device": self.device_kind, "torch": torch.__version__, "pair": list(digests)})
        hit = self.cache.get_array(self.NAMESPACE, key)
        if hit is not None and hit.shape == (1,):
            return float(hit[0])
        value = float(compute())
        self.computed += 1
        self.cache.put_array(self.NAMESPACE, key, np.array([value], dtype=np.float64))
        return value


class MAWE(Metric):
    """StreamingT2V's motion-aware warping error (lower is better); see :mod:`mgld_bench.metrics.functional.mawe`.

    Flow on the scored video itself, frames resized to ``size`` squared first; RAFT-large as in
    the original (``flow_backend`` may name another backend, whose numbers are then not comparable).
    Not a warping-error variant of Lai or EvalCrafter: forward splatting, 0-255 scale, divided by
    the mean motion.
    """

    name = "mawe"
    summary = "MAWE (StreamingT2V): forward-splat warp error / (9.5 x mean motion), RAFT-large at 720x720"
    defaults: ClassVar[dict[str, Any]] = {"flow_backend": "raft-large", "size": 720, "coeff": 9.5, **PAIR_CUT_DEFAULTS}
    choices: ClassVar[dict[str, tuple[Any, ...]]] = {"flow_backend": tuple(FLOW_BACKENDS)}
    minimum: ClassVar[dict[str, float]] = {"size": 8}

    def weight_files(self) -> list[WeightFile]:
        return _flow_weights(self.options["flow_backend"])

    def start(self, ctx: ScoreContext) -> Accumulator:
        return _MaweAccumulator(self, ctx)


class _MaweAccumulator(Accumulator):
    def __init__(self, metric: MAWE, ctx: ScoreContext) -> None:
        self.o = metric.options
        self.ctx = ctx
        self.prev: tuple[int, np.ndarray] | None = None
        self.values: dict[int, float] = {}
        self.errors: list[float] = []
        self.motions: list[float] = []

    def update(self, index: int, sr: np.ndarray, gt: np.ndarray | None) -> None:
        from mgld_bench.metrics.functional import mawe

        cur = mawe.resize_square(sr, int(self.o["size"]))
        if self.prev is not None:
            p_index, prev = self.prev
            flow = cached_flow(None, prev, cur, self.o["flow_backend"], self.ctx.device)  # used once: not cached
            value, err, motion = mawe.mawe_pair(prev, cur, flow, float(self.o["coeff"]))
            self.values[p_index] = value
            self.errors.append(err)
            self.motions.append(motion)
        self.prev = (index, cur)

    def result(self) -> MetricResult:
        values = dict(sorted(self.values.items()))
        extras = {"warp_error_255": mean_value(self.errors), "mean_motion_px": mean_value(self.motions)}
        return pair_result(values, self.o, extras)
