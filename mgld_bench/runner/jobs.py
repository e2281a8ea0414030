"""The two job kinds: a frozen spec (:class:`~mgld_bench.specs.InferJob`,
:class:`~mgld_bench.specs.ScoreJob`) and a pure function that carries it out against the
content-addressed cache.

* :func:`infer_job` / :func:`run_infer_job` -- LR clip -> method -> SR frames (cached under the
  job's key);
* :func:`score_job` / :func:`run_score_job` -- SR (+ GT, LR) frames -> metrics (each cached under its
  score key: identity + backend + digests of exactly the inputs its facts say it reads).

A job function takes no global state; given only the spec it rebuilds the method, clip and
metrics through the registries (:func:`resolve_infer`), so the same functions run in this
process (the local loop passes the objects it already built) or in a remote worker.  The
device is resolved here, once per process, and only when a job really computes.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError, OutputMismatchError
from mgld_bench.fileio import file_sha256
from mgld_bench.frames import Clip, FrameSequence
from mgld_bench.methods.base import Method, RunContext
from mgld_bench.metrics.base import Metric, MetricResult, ScoreContext
from mgld_bench.protocol import Protocol
from mgld_bench.registry import DATASETS, METHODS, METRICS
from mgld_bench.runner.device import resolve_device
from mgld_bench.specs import InferJob, MetricJob, Ref, ScoreJob, canonical_json
from mgld_bench.store.cache import Cache
from mgld_bench.store.outputs import CachedFrames, InferResult, load_infer, save_infer, save_infer_files

__all__ = [
    "CachedFrames", "InferResult", "cached_scores", "chunk_bounds", "infer_job", "infer_key", "join_infer_chunks",
    "load_infer", "run_infer", "run_infer_chunk", "run_infer_job", "run_score_job", "run_score_jobs", "score_frames",
    "score_job",
]

SCORE_FORMAT = 1


# -- inference --------------------------------------------------------------------------------
def infer_job(method: Method, method_ref: Ref, dataset_ref: Ref, clip: Clip, seed: int) -> InferJob:
    """The spec of running ``method`` on ``clip``: its identity, weight digests, extra inputs,
    LR digest, and the seed when the output can depend on it (``uses_seed``, or a method that is
    not deterministic: its outputs are cached under their seed)."""
    weights = []
    for wf in method.weight_files():
        path = wf.path()
        weights.append((wf.name, file_sha256(path) if path.is_file() else "missing"))
    seeded = method.uses_seed or not method.deterministic
    return InferJob(
        method=method_ref,
        dataset=dataset_ref,
        clip=clip.name,
        identity=canonical_json(method.identity()),
        weights=tuple(sorted(weights)),
        extra=canonical_json(method.extra_key(clip)),
        lr=clip.lr.digest(),
        scale=clip.scale,
        seed=seed if seeded else None,
    )


def resolve_infer(job: InferJob, data_root: str | None = None) -> tuple[Method, Clip]:
    """Rebuild the method and clip of ``job`` from its refs (what a remote worker does)."""
    dataset = DATASETS.instantiate(job.dataset, root=data_root)
    return METHODS.instantiate(job.method), dataset.clip(job.clip)


def run_infer_job(
    job: InferJob, cache: Cache, device: str = "auto", method: Method | None = None, clip: Clip | None = None
) -> InferResult:
    """The SR frames of ``job``, running the method only on a cache miss.

    Frames are validated (dtype, size, count) as they arrive and stored only when the whole
    clip is valid (:func:`~mgld_bench.store.outputs.save_infer`): a failure leaves nothing in the
    cache (and no log folder).
    """
    key = job.key()
    label = f"{job.method.spec} on {job.dataset.spec}/{job.clip}"
    hit = load_infer(cache, key, label)
    if hit is not None:
        return hit
    if method is None or clip is None:
        method, clip = resolve_infer(job)
    label = f"{method.label} on {clip.label}"
    files = method.frame_files(clip)
    if files is not None:  # outputs made elsewhere: stored as they are, no device, no re-encoding
        return save_infer_files(cache, key, files, len(clip.lr), clip.expected_sr_size(), label,
                                {"method": method.identity(), "clip": clip.label})
    log_dir = cache.log_dir(key)
    workdir = Path(tempfile.mkdtemp(prefix=f"mgld-bench-job-{os.getpid()}-"))  # pid: see store.sweep
    ctx = RunContext(resolve_device(device), job.seed or 0, workdir, log_dir, cache=cache)
    try:
        return save_infer(
            cache, key, method.run(clip, ctx), len(clip.lr), clip.expected_sr_size(), label,
            {"method": method.identity(), "clip": clip.label},
        )
    except BaseException:
        shutil.rmtree(log_dir, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run_infer_chunk(
    job: InferJob, clip: Clip, start: int, stop: int, device: str = "auto", method: Method | None = None
) -> list[np.ndarray]:
    """Frames ``[start, stop)`` of ``job``'s output, computed from those LR frames alone (for a
    method that declares ``chunk_frames``).  Nothing is cached: :func:`join_infer_chunks` stores
    the joined output under the job's key."""
    if method is None:
        method = METHODS.instantiate(job.method)
    part = clip.chunk(start, stop)
    label = f"{method.label} on {clip.label} frames {start}-{stop - 1}"
    workdir = Path(tempfile.mkdtemp(prefix="mgld-bench-job-"))
    try:
        frames = list(method.run(part, RunContext(resolve_device(device), job.seed or 0, workdir, None)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if len(frames) != stop - start:
        raise OutputMismatchError(f"{label}: the method produced {len(frames)} frames for {stop - start} LR frames")
    return frames


def join_infer_chunks(job: InferJob, clip: Clip, chunks: list[list[np.ndarray]], cache: Cache) -> InferResult:
    """Store the chunks of :func:`run_infer_chunk`, in order, as the output of ``job`` (checked and
    written exactly as :func:`run_infer_job` writes a whole clip)."""
    key = job.key()
    hit = load_infer(cache, key, f"{job.method.spec} on {clip.label}")
    if hit is not None:
        return hit
    return save_infer(
        cache, key, itertools.chain.from_iterable(chunks), len(clip.lr), clip.expected_sr_size(),
        f"{job.method.spec} on {clip.label}", {"method": json.loads(job.identity), "clip": clip.label},
    )


def chunk_bounds(n_frames: int, chunk_frames: int | None) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` splitting ``n_frames`` into chunks of ``chunk_frames`` (one chunk
    when None or when the clip is not longer than a chunk)."""
    if not chunk_frames or n_frames <= chunk_frames:
        return [(0, n_frames)]
    return [(a, min(a + chunk_frames, n_frames)) for a in range(0, n_frames, chunk_frames)]


def run_infer(method: Method, clip: Clip, cache: Cache, ctx: RunContext | None = None) -> InferResult:
    """:func:`run_infer_job` for a method object (tests, scripts): the job is built here."""
    ctx = ctx or RunContext()
    job = infer_job(method, Ref.of("method", method.name, method.options), Ref.of("dataset", clip.dataset), clip,
                    ctx.seed)
    return run_infer_job(job, cache, ctx.device, method, clip)


def infer_key(method: Method, clip: Clip, seed: int) -> str:
    """The cache key of ``method`` on ``clip`` with ``seed``."""
    return infer_job(method, Ref.of("method", method.name, method.options), Ref.of("dataset", clip.dataset), clip,
                     seed).key()


# -- scoring ----------------------------------------------------------------------------------
def metric_job(metric: Metric, ref: Ref) -> MetricJob:
    """How to rebuild ``metric`` and what identifies its results."""
    return MetricJob(
        metric=ref,
        identity=canonical_json(metric.identity()),
        backend=metric.backend(),
        reads=tuple(metric.facts.reads),
        uses_frame_subset=metric.facts.uses_frame_subset,
    )


def score_job(
    infer: InferJob, sr_digest: str, clip: Clip, protocol: Protocol, metrics: list[Metric]
) -> ScoreJob:
    """The spec of scoring one SR output with ``metrics`` under ``protocol``."""
    gt = clip.gt.digest() if clip.gt is not None else None
    needs_lr = any("lr" in m.facts.reads for m in metrics)
    return ScoreJob(
        infer=infer,
        protocol=canonical_json(protocol.fields()),
        frames=(protocol.frames, protocol.frames_past_end),
        inputs=(("sr", sr_digest), ("gt", gt), ("lr", clip.lr.digest() if needs_lr else None)),
        metrics=tuple(metric_job(m, Ref.of("metric", m.name, m.options)) for m in metrics),
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


def cached_scores(
    job: ScoreJob, cache: Cache, metrics: list[Metric]
) -> dict[str, tuple[MetricResult, str, bool]] | None:
    """The results of every metric of ``job`` when all are cached, else None."""
    out: dict[str, tuple[MetricResult, str, bool]] = {}
    for metric, mj in zip(metrics, job.metrics, strict=True):
        key = job.metric_key(mj)
        res = _result_from_json(cache.get_json("score", key))
        if res is None:
            return None
        out[metric.name] = (res, key, True)
    return out


def run_score_job(
    job: ScoreJob,
    sr: FrameSequence,
    clip: Clip,
    cache: Cache,
    protocol: Protocol,
    device: str = "auto",
    metrics: list[Metric] | None = None,
) -> dict[str, tuple[MetricResult, str, bool]]:
    """Score ``sr`` with every metric of ``job``; return {metric name: (result, key, was cached)}.

    Cached results are returned as they are.  For the rest, each SR frame (and GT frame) is
    decoded once and fed to every metric that still needs computing; results are written only
    after every metric of the clip succeeded.
    """
    return _score_pass([(job, sr)], clip, cache, protocol, device, metrics)[0]


def run_score_jobs(
    jobs: list[tuple[ScoreJob, FrameSequence]],
    clip: Clip,
    cache: Cache,
    protocol: Protocol,
    device: str = "auto",
    metrics: list[Metric] | None = None,
) -> list[dict[str, tuple[MetricResult, str, bool]] | BaseException]:
    """:func:`run_score_job` for several outputs of one clip (one per method) in one pass.

    Each GT frame is decoded once for all of them, and the outputs are scored frame by frame one
    after the other, so a full-reference network runs on each GT frame once and every output
    reuses its features (:class:`~mgld_bench.metrics.backends.base.ReferenceSplit`); GT flows are
    read from the cache by every output after the first.  The values are those of separate
    :func:`run_score_job` calls.  Returns, per job, its results or the exception it raised: when
    the shared pass fails, each job is scored alone so that the failure is pinned on its output
    and the others still finish.
    """
    if len(jobs) <= 1:
        try:
            return [run_score_job(job, sr, clip, cache, protocol, device, metrics) for job, sr in jobs]
        except Exception as exc:
            return [exc]
    try:
        return list(_score_pass(jobs, clip, cache, protocol, device, metrics))
    except Exception:  # which output failed? score each alone (the finished ones are cached already)
        out: list[dict[str, tuple[MetricResult, str, bool]] | BaseException] = []
        for job, sr in jobs:
            try:
                out.append(run_score_job(job, sr, clip, cache, protocol, device, metrics))
            except Exception as exc:
                out.append(exc)
        return out


def _score_pass(
    jobs: list[tuple[ScoreJob, FrameSequence]],
    clip: Clip,
    cache: Cache,
    protocol: Protocol,
    device: str,
    metrics: list[Metric] | None,
) -> list[dict[str, tuple[MetricResult, str, bool]]]:
    """Score every job of ``jobs`` (outputs of ``clip``, same metrics) in one pass over the frames."""
    if metrics is None:
        metrics = [METRICS.instantiate(mj.metric) for mj in jobs[0][0].metrics]
    gt = clip.gt
    outs: list[dict[str, tuple[MetricResult, str, bool]]] = []
    todos: list[list[tuple[Metric, str]]] = []
    for job, sr in jobs:
        out: dict[str, tuple[MetricResult, str, bool]] = {}
        todo: list[tuple[Metric, str]] = []
        for metric, mj in zip(metrics, job.metrics, strict=True):
            if metric.needs_gt and gt is None:
                raise BenchError(f"metric {metric.name} needs ground truth, but clip {clip.label} has none")
            key = job.metric_key(mj)
            cached = _result_from_json(cache.get_json("score", key))
            if cached is not None:
                out[metric.name] = (cached, key, True)
            else:
                todo.append((metric, key))
        if todo and len(sr) != len(clip.lr):
            raise OutputMismatchError(f"{clip.label}: {len(sr)} SR frames for {len(clip.lr)} LR frames")
        outs.append(out)
        todos.append(todo)
    active = [j for j, todo in enumerate(todos) if todo]
    if not active:
        return outs
    # the device (and torch) only when a metric runs on it
    dev = resolve_device(device) if any(m.uses_device() for t in todos for m, _ in t) else "cpu"
    ctx = ScoreContext(clip=clip, protocol=protocol, device=dev, cache=cache)
    accs = {j: [(m, k, m.start(ctx)) for m, k in todos[j]] for j in active}
    try:
        srs = [jobs[j][1] for j in active]
        for i, sr_frames, gt_frame in _decode_ahead(srs, gt, len(clip.lr), [accs[j] for j in active]):
            for j, sr_frame in zip(active, sr_frames, strict=True):
                if sr_frame is None:
                    continue
                if gt_frame is not None and gt_frame.shape != sr_frame.shape:
                    raise OutputMismatchError(
                        f"{clip.label}: frame {i} SR is {sr_frame.shape[1]}x{sr_frame.shape[0]} but GT is "
                        f"{gt_frame.shape[1]}x{gt_frame.shape[0]}"
                    )
                for _, _, acc in accs[j]:
                    if acc.wants(i):
                        acc.update(i, sr_frame, gt_frame)
        for j in active:
            results = [(m, k, acc.result()) for m, k, acc in accs[j]]
            for m, k, res in results:
                cache.put_json("score", k, _result_to_json(res))
                outs[j][m.name] = (res, k, False)
    finally:
        for m in metrics:
            m.release()
    return outs


def _decode_ahead(
    srs: list[FrameSequence], gt: FrameSequence | None, n: int, accumulators: list[list[Any]]
) -> Iterator[tuple[int, list[Any], Any]]:
    """(index, [SR frame of each output, or None], GT frame or None) for the frames some metric
    wants, in order.

    Only those frames are decoded (a protocol scoring frames 0/50/99 decodes 3, unless a temporal
    metric wants them all), the GT only where a GT reader wants it; each is decoded once and
    shared by every metric.  Decoding runs one frame ahead in a background thread (OpenCV
    releases the GIL), so metrics rarely wait for it; at most two frames per output are held.
    """
    from concurrent.futures import ThreadPoolExecutor

    def wants(accs: list[Any], i: int, reads: str | None = None) -> bool:
        return any(acc.wants(i) for m, _, acc in accs if reads is None or reads in m.facts.reads)

    wanted = [i for i in range(n) if any(wants(a, i) for a in accumulators)]

    def load(i: int) -> tuple[int, list[Any], Any]:
        need_gt = gt is not None and any(wants(a, i, "gt") for a in accumulators)
        frames = [sr[i] if wants(a, i) else None for sr, a in zip(srs, accumulators, strict=True)]
        return i, frames, (gt[i] if need_gt and gt is not None else None)

    if len(wanted) < 2:
        yield from (load(i) for i in wanted)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mgld-decode") as pool:
        ahead = pool.submit(load, wanted[0])
        for j in range(len(wanted)):
            current = ahead.result()
            if j + 1 < len(wanted):
                ahead = pool.submit(load, wanted[j + 1])
            yield current


def score_frames(
    metrics: list[Metric], clip: Clip, sr: FrameSequence, cache: Cache, protocol: Protocol, device: str = "auto"
) -> dict[str, tuple[MetricResult, str, bool]]:
    """Score ``sr`` (no inference job behind it: ``mgld-bench score``) with ``metrics``."""
    infer = InferJob(Ref("method", "frames"), Ref("dataset", clip.dataset), clip.name, "{}", (), "null",
                     clip.lr.digest(), clip.scale, None)
    job = score_job(infer, sr.digest(), clip, protocol, metrics)
    return run_score_job(job, sr, clip, cache, protocol, device, metrics)
