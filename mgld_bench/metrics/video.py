"""Clip-level video quality: DOVER (Wu et al., ICCV 2023), technical / aesthetic / overall.

DOVER scores a whole clip, not frames: its sampling protocol (see
:mod:`mgld_bench.metrics.functional.dover_views` and docs/metrics.md) picks the frames each
branch sees.  The accumulator keeps only what those frames contribute (the fragment mosaic and
the 224-px resized view), so memory does not grow with frame size or clip length.  The stored
value is one number per clip; the three fused scores and the two raw branch outputs are kept in
the result's extras.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.metrics.base import Accumulator, Metric, MetricResult, ScoreContext
from mgld_bench.weights import DOVER_WEIGHTS, WeightFile, require_weights

SCORES = ("overall", "technical", "aesthetic")
_NETS: dict[tuple[str, str], Any] = {}


def load_dover(path: Any, device: str) -> Any:
    """The DOVER network with the weights in ``path`` (read without pickle), once per process and device."""
    key = (str(path), device)
    if key not in _NETS:
        from mgld_bench.metrics.dover_arch import DOVERNet
        from mgld_bench.safeload import load_weights

        state = load_weights(path)
        if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
            state = state["state_dict"]
        net = DOVERNet()
        try:
            net.load_state_dict(state, strict=True)
        except (RuntimeError, TypeError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BenchError(f"{path} is not a DOVER checkpoint ({first}); fetch it with "
                             "`mgld-bench weights fetch DOVER.pth`") from None
        _NETS[key] = net.eval().to(device)
    return _NETS[key]


class DOVER(Metric):
    """DOVER video quality in [0, 1] (higher is better); ``score`` picks overall, technical or aesthetic.

    The registry entries ``dover``, ``dover-technical`` and ``dover-aesthetic`` are this class
    with another ``score``.
    """

    name = "dover"
    summary = "DOVER video quality, overall (0-1): fused technical+aesthetic, official sampling, seeded offsets"
    defaults: ClassVar[dict[str, Any]] = {"score": "overall", "seed": 0}
    choices: ClassVar[dict[str, tuple[Any, ...]]] = {"score": SCORES}

    def weight_files(self) -> list[WeightFile]:
        return [DOVER_WEIGHTS]

    def backend(self) -> str:
        from mgld_bench import __version__

        return f"mgld_bench {__version__} DOVER port (VQAssessment/DOVER f1ddc96)"

    def start(self, ctx: ScoreContext) -> Accumulator:
        return _DoverAccumulator(self, ctx)


class _DoverAccumulator(Accumulator):
    def __init__(self, metric: DOVER, ctx: ScoreContext) -> None:
        from mgld_bench.metrics.functional import dover_views as dv

        self.metric = metric
        self.ctx = ctx
        self.s = dv.DoverSampling()
        self.n = len(ctx.clip.lr)
        if self.n < 1:
            raise BenchError(f"dover: clip {ctx.clip.label} has no frames")
        self.rng = np.random.default_rng(int(metric.options["seed"]))
        s = self.s
        tech_off = dv.segment_offsets(self.rng, self.n, s.clip_len, s.clips, s.frame_interval)
        aes_off = dv.segment_offsets(self.rng, self.n, s.aesthetic_clip_len // s.aesthetic_frames,
                                     s.aesthetic_frames, s.frame_interval)
        self.t_idx = dv.technical_indices(self.n, s, tech_off)
        self.a_idx = dv.aesthetic_indices(self.n, s, aes_off)
        self.tech: Any = None
        self.aes: Any = None
        self.geometry: tuple[Any, ...] | None = None
        self.seen: set[int] = set()

    def update(self, index: int, sr: np.ndarray, gt: np.ndarray | None) -> None:
        import torch

        from mgld_bench.metrics.functional import dover_views as dv

        s = self.s
        tpos = np.flatnonzero(self.t_idx == index)
        apos = np.flatnonzero(self.a_idx == index)
        if not len(tpos) and not len(apos):
            return
        h, w = sr.shape[:2]
        if self.geometry is None:
            rows, cols, _, _ = dv.fragment_origins(h, w, s)
            oh, ow = dv.fragment_offsets(self.rng, h, w, s, s.clips)
            self.geometry = (h, w, dv.upsample_factor(h, w, s), rows, cols, oh, ow)
            self.tech = torch.zeros((3, len(self.t_idx), s.mosaic, s.mosaic), dtype=torch.float32)
            self.aes = torch.zeros((3, len(self.a_idx), s.aesthetic_size, s.aesthetic_size), dtype=torch.float32)
        gh, gw, factor, rows, cols, oh, ow = self.geometry
        if (h, w) != (gh, gw):
            raise BenchError(f"dover: clip {self.ctx.clip.label} frame {index} is {w}x{h}, frame 0 was {gw}x{gh}")
        if len(tpos):
            up = dv.upsample_frame(sr, factor)
            for p in tpos:
                c = int(p) // s.clip_len
                self.tech[:, p] = dv.mosaic(up, rows, cols, oh[:, :, c], ow[:, :, c], s)
        if len(apos):
            small = dv.resized_frame(sr, s.aesthetic_size).float()
            for p in apos:
                self.aes[:, p] = small
        self.seen.add(index)

    def result(self) -> MetricResult:
        from mgld_bench.metrics.dover_arch import fuse
        from mgld_bench.metrics.functional import dover_views as dv

        missing = sorted((set(self.t_idx.tolist()) | set(self.a_idx.tolist())) - self.seen)
        if missing or self.tech is None:
            raise BenchError(f"dover: clip {self.ctx.clip.label} ended before frame(s) {missing[:5]} it samples")
        (path,) = require_weights([DOVER_WEIGHTS], self.metric.name)
        net = load_dover(path, self.ctx.device)
        dev = self.ctx.device
        raw_t = net.branch("technical", dv.as_clips(dv.normalise(self.tech), self.s.clips).to(dev))
        raw_a = net.branch("aesthetic", dv.as_clips(dv.normalise(self.aes), 1).to(dev))
        fused = fuse(raw_t, raw_a)
        extras = {**{f"dover_{k}": v for k, v in fused.items()}, "raw_technical": raw_t, "raw_aesthetic": raw_a,
                  "technical_frames": sorted(set(self.t_idx.tolist())),
                  "aesthetic_frames": sorted(set(self.a_idx.tolist()))}
        return MetricResult(fused[self.metric.options["score"]], {}, extras)
