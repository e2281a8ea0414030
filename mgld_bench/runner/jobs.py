"""The two job kinds, each a pure function of its inputs and the content-addressed cache.

* :func:`run_infer` -- LR clip -> method -> SR frames (cached under the inference key);
* :func:`run_scores` -- SR (+ GT) frames -> metrics (each cached under its score key).

They take no global state and choose no device themselves, so the same functions can later
run in Ray workers across GPUs and machines.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError, OutputMismatchError, writing
from mgld_bench.frames import Clip, FrameSequence, check_frame, encode_png
from mgld_bench.methods.base import Method, RunContext
from mgld_bench.metrics.base import Metric, MetricResult, ScoreContext
from mgld_bench.protocol import Protocol
from mgld_bench.runner.device import resolve_device
from mgld_bench.store.cache import Cache
from mgld_bench.store.filehash import file_sha256
from mgld_bench.store.keys import make_key

INFER_FORMAT = 1
SCORE_FORMAT = 1


# -- inference --------------------------------------------------------------------------------
def infer_key(method: Method, clip: Clip, seed: int) -> str:
    """Covers the method's identity and options, its weight files, extra inputs, LR and seed."""
    weights = {}
    for wf in method.weight_files():
        path = wf.path()
        weights[wf.name] = file_sha256(path) if path.is_file() else "missing"
    return make_key(
        {
            "kind": "infer",
            "format": INFER_FORMAT,
            "method": method.identity(),
            "weights": weights,
            "extra": method.extra_key(clip),
            "lr": clip.lr.digest(),
            "scale": clip.scale,
            "seed": seed if method.uses_seed else None,
        }
    )


class CachedFrames(FrameSequence):
    """SR frames stored in the cache as PNG blobs, decoded lazily."""

    def __init__(self, cache: Cache, shas: list[str], digest: str, label: str) -> None:
        self.cache = cache
        self.shas = shas
        super().__init__([f"{i:08d}" for i in range(len(shas))], label)
        self._digest = digest

    def _read(self, index: int) -> np.ndarray:
        import cv2

        data = np.frombuffer(self.cache.read_blob(self.shas[index]), dtype=np.uint8)
        img = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if img is None:
            raise BenchError(f"cache blob {self.shas[index]} is not a PNG; delete it and rerun")
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)

    def path(self, index: int) -> Path:
        return self.cache.blob_path(self.shas[index])


@dataclass
class InferResult:
    key: str
    frames: CachedFrames
    cached: bool
    manifest: dict[str, Any] = field(default_factory=dict)


def load_infer(cache: Cache, key: str, label: str = "") -> InferResult | None:
    """The cached output of an inference key, or None (also when a blob has gone missing)."""
    manifest = cache.get_json("infer", key)
    if not isinstance(manifest, dict) or manifest.get("format") != INFER_FORMAT:
        return None
    shas, digest = manifest.get("frames"), manifest.get("digest")
    if not (isinstance(shas, list) and all(isinstance(s, str) and len(s) == 64 for s in shas)
            and digest == hashlib.sha256("".join(shas).encode()).hexdigest()):
        return None  # a hand-edited or foreign entry counts as absent: recomputed and replaced
    if not all(cache.has_blob(s) for s in shas):
        return None
    return InferResult(key, CachedFrames(cache, shas, digest, label or key), True, manifest)


def run_infer(method: Method, clip: Clip, cache: Cache, ctx: RunContext) -> InferResult:
    """Return the SR frames of ``clip`` under ``method``, running the method only on a cache miss.

    Frames are validated (dtype, size, count) as they arrive and staged in a private folder;
    only when the whole clip is valid are they moved into the blob store and the manifest is
    written (last, atomically).  A failure leaves nothing in the cache.
    """
    key = infer_key(method, clip, ctx.seed)
    label = f"{method.label} on {clip.label}"
    hit = load_infer(cache, key, label)
    if hit is not None:
        return hit

    expected = clip.expected_sr_size()
    staging = cache.root / "tmp" / f"{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}"  # pid: see store.sweep
    staging.mkdir(parents=True)
    log_dir = cache.log_dir(key)
    workdir = Path(tempfile.mkdtemp(prefix=f"mgld-bench-job-{os.getpid()}-"))
    ctx = RunContext(resolve_device(ctx.device), ctx.seed, workdir, log_dir, dict(ctx.extras), cache=cache)
    try:
        staged: list[tuple[str, Path]] = []
        for i, frame in enumerate(method.run(clip, ctx)):
            check_frame(frame, f"{label}: output frame {i}")
            if frame.shape[:2] != expected:
                raise OutputMismatchError(
                    f"{label}: output frame {i} is {frame.shape[1]}x{frame.shape[0]} but the clip "
                    f"needs {expected[1]}x{expected[0]} (the GT size, or scale x LR)"
                )
            if i >= len(clip.lr):
                raise OutputMismatchError(f"{label}: the method produced more than the clip's {len(clip.lr)} frames")
            data = encode_png(frame)
            sha = hashlib.sha256(data).hexdigest()
            path = staging / sha
            with writing(cache.root, f"staging {label}"):
                path.write_bytes(data)
            staged.append((sha, path))
        if len(staged) != len(clip.lr):
            raise OutputMismatchError(
                f"{label}: the method produced {len(staged)} frames but the clip has {len(clip.lr)} LR frames"
            )
        for sha, path in staged:
            target = cache.blob_path(sha)
            target.parent.mkdir(parents=True, exist_ok=True)
            path.replace(target)
        shas = [s for s, _ in staged]
        digest = hashlib.sha256("".join(shas).encode()).hexdigest()
        manifest = {
            "format": INFER_FORMAT,
            "frames": shas,
            "digest": digest,
            "method": method.identity(),
            "clip": clip.label,
            "size": list(expected),
        }
        cache.put_json("infer", key, manifest)
    except BaseException:
        shutil.rmtree(log_dir, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return InferResult(key, CachedFrames(cache, shas, digest, label), False, manifest)


# -- scoring ----------------------------------------------------------------------------------
def score_key(
    metric: Metric, protocol: Protocol, sr_digest: str, gt_digest: str | None, lr_digest: str | None = None
) -> str:
    """Covers the metric, its resolved options and backend, the protocol fields it reads, and the
    content it reads: SR, GT (full-reference metrics, and temporal ones whose flow may come from
    the GT) and LR (temporal metrics whose flow may come from the upsampled input)."""
    temporal = metric.kind == "temporal"
    return make_key(
        {
            "kind": "score",
            "format": SCORE_FORMAT,
            "metric": metric.identity(),
            "backend": metric.backend(),
            "frames": [protocol.frames, protocol.frames_past_end],
            "protocol": {f: getattr(protocol, f) for f in ("warp_definition", "flow_backend", "flow_source")}
            if temporal
            else {},
            "sr": sr_digest,
            "gt": gt_digest if (metric.needs_gt or temporal) else None,
            "lr": lr_digest if temporal else None,
        }
    )


def _result_to_json(res: MetricResult) -> dict[str, Any]:
    return {
        "format": SCORE_FORMAT,
        "value": res.value,
        "frames": {str(k): v for k, v in res.frames.items()},
        "extras": res.extras,
    }


def _result_from_json(obj: dict[str, Any]) -> MetricResult | None:
    if not isinstance(obj, dict) or obj.get("format") != SCORE_FORMAT:
        return None
    try:
        return MetricResult(
            float(obj["value"]), {int(k): float(v) for k, v in obj["frames"].items()}, dict(obj.get("extras") or {})
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # a hand-edited entry counts as absent: recomputed and replaced


def run_scores(
    metrics: list[Metric], clip: Clip, sr: FrameSequence, cache: Cache, ctx: ScoreContext
) -> dict[str, tuple[MetricResult, str, bool]]:
    """Score ``sr`` with every metric; return {metric name: (result, score key, was cached)}.

    Cached results are returned as they are.  For the rest, each SR frame (and GT frame) is
    decoded once and fed to every metric that still needs computing.
    """
    gt = clip.gt
    out: dict[str, tuple[MetricResult, str, bool]] = {}
    todo: list[tuple[Metric, str]] = []
    for metric in metrics:
        if metric.needs_gt and gt is None:
            raise BenchError(f"metric {metric.name} needs ground truth, but clip {clip.label} has none")
        key = score_key(
            metric,
            ctx.protocol,
            sr.digest(),
            gt.digest() if gt is not None else None,
            clip.lr.digest() if metric.kind == "temporal" else None,
        )
        cached = _result_from_json(cache.get_json("score", key))
        if cached is not None:
            out[metric.name] = (cached, key, True)
        else:
            todo.append((metric, key))
    if not todo:
        return out
    if len(sr) != len(clip.lr):
        raise OutputMismatchError(f"{clip.label}: {len(sr)} SR frames for {len(clip.lr)} LR frames")
    ctx = replace(ctx, device=resolve_device(ctx.device))
    accumulators = [(m, k, m.start(ctx)) for m, k in todo]
    need_gt = gt is not None and any(m.needs_gt or m.kind == "temporal" for m, _ in todo)
    for i in range(len(sr)):
        sr_frame = sr[i]
        gt_frame = gt[i] if need_gt and gt is not None else None
        if gt_frame is not None and gt_frame.shape != sr_frame.shape:
            raise OutputMismatchError(
                f"{clip.label}: frame {i} SR is {sr_frame.shape[1]}x{sr_frame.shape[0]} but GT is "
                f"{gt_frame.shape[1]}x{gt_frame.shape[0]}"
            )
        for _, _, acc in accumulators:
            acc.update(i, sr_frame, gt_frame)
    results = [(m, k, acc.result()) for m, k, acc in accumulators]
    for m, k, res in results:  # write only after every metric of the clip succeeded
        cache.put_json("score", k, _result_to_json(res))
        out[m.name] = (res, k, False)
    return out
