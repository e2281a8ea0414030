"""The local runner: every (dataset, clip, method) job in turn, in this process."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from mgld_bench.errors import BenchError, DiskFullError, describe, is_disk_full
from mgld_bench.methods.base import RunContext
from mgld_bench.metrics.base import ScoreContext
from mgld_bench.runner.jobs import run_infer, run_scores
from mgld_bench.runner.plan import Plan
from mgld_bench.store.cache import Cache
from mgld_bench.store.results import ClipRecord, ResultStore


@dataclass
class RunSummary:
    """What a run did (for the console and for tests that count work)."""

    inferred: int = 0
    infer_cached: int = 0
    scored: int = 0
    score_cached: int = 0
    failures: list[str] = field(default_factory=list)
    unavailable: list[tuple[str, str, str, str]] = field(default_factory=list)


def _job_failed(exc: Exception, what: str, label: str, keep_going: bool, summary: RunSummary, bar: object) -> None:
    """Record a failed job under ``--keep-going``; otherwise (or for a full disk) re-raise it."""
    if is_disk_full(exc):
        bar.close()  # type: ignore[attr-defined]
        raise DiskFullError(getattr(exc, "filename", None) or "the cache or output folder") from exc
    message, code = describe(exc)
    message = message if label in message else f"{what}: {message}"
    if not keep_going or isinstance(exc, DiskFullError):
        bar.close()  # type: ignore[attr-defined]
        if isinstance(exc, BenchError) and label in str(exc):
            raise exc
        named = BenchError(message)  # the same message, now naming the clip, with the same exit code
        named.exit_code = code
        raise named from exc
    summary.failures.append(message)
    bar.update(1)  # type: ignore[attr-defined]


def execute(
    plan: Plan, cache: Cache, store: ResultStore, run_id: str, device: str = "cpu", seed: int = 0,
    keep_going: bool = False, progress: bool = True,
) -> RunSummary:
    """Run every job of ``plan``; results go to ``store``, outputs and scores to ``cache``."""
    from tqdm import tqdm

    summary = RunSummary()
    methods = []
    for method in plan.methods:
        ok, reason = method.availability()
        if ok:
            methods.append(method)
            continue
        msg = f"method {method.label} cannot run: {reason}"
        if not keep_going:
            raise BenchError(msg)
        summary.failures.append(msg)

    for dataset in plan.datasets:
        protocol = plan.protocol_for(dataset)
        metrics, skipped = plan.metrics_for(protocol, dataset.has_gt)
        for metric_name, reason in skipped:
            for method in methods:
                store.mark_unavailable(run_id, dataset.label, method.label, metric_name, reason)
                summary.unavailable.append((dataset.label, method.label, metric_name, reason))
        names = plan.clips or dataset.clip_names()
        jobs = [(c, m) for c in names for m in methods]
        bar = tqdm(total=len(jobs), desc=f"{dataset.label}", unit="job", disable=not progress or None, file=sys.stderr)
        for clip_name in names:
            try:
                clip = dataset.clip(clip_name)
            except Exception as exc:  # a clip that cannot be read fails all its jobs
                _job_failed(exc, f"clip {dataset.label}/{clip_name}", clip_name, keep_going, summary, bar)
                bar.update(len(methods) - 1)
                continue
            frame_ids = (clip.gt or clip.lr).ids
            for method in methods:
                bar.set_postfix_str(f"{method.label} {clip.name}")
                try:
                    inf = run_infer(method, clip, cache, RunContext(device=device, seed=seed))
                    if inf.cached:
                        summary.infer_cached += 1
                    else:
                        summary.inferred += 1
                    ctx = ScoreContext(clip=clip, protocol=protocol, device=device, cache=cache)
                    scores = run_scores(metrics, clip, inf.frames, cache, ctx)
                except Exception as exc:  # any per-job failure; Ctrl-C / SIGTERM are not Exceptions
                    _job_failed(exc, f"{method.label} on clip {clip.label}", clip.name, keep_going, summary, bar)
                    continue
                for metric in metrics:
                    res, key, cached = scores[metric.name]
                    summary.score_cached += int(cached)
                    summary.scored += int(not cached)
                    store.write(
                        run_id,
                        ClipRecord(
                            dataset=dataset.label, method=method.label, clip=clip.name,
                            metric=metric.name, protocol=protocol.name, value=res.value,
                            frames=res.frames,
                            frame_ids={i: frame_ids[i] for i in res.frames if i < len(frame_ids)},
                            higher_is_better=metric.higher_is_better, kind=metric.kind, unit=metric.unit,
                            params={**metric.identity(), "backend": metric.backend()},
                            protocol_fields=protocol.fields(), method_identity=method.identity(),
                            infer_key=inf.key, score_key=key,
                        ),
                    )
                bar.update(1)
        bar.close()
    return summary
