"""The local executor: a plain loop over the run's jobs, in this process.

For each dataset and clip it builds and runs the :class:`~mgld_bench.specs.InferJob` of every
method, then the :class:`~mgld_bench.specs.ScoreJob` of each output, all outputs of the clip in
one pass (:func:`~mgld_bench.runner.jobs.run_score_jobs`: GT work shared); results go to the
store.  Another executor (Ray) schedules the same specs and calls the same job functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mgld_bench.errors import BenchError, DiskFullError, describe, is_disk_full
from mgld_bench.frames import Clip
from mgld_bench.methods.base import Method
from mgld_bench.metrics.base import MetricResult
from mgld_bench.runner.jobs import infer_job, run_infer_job, run_score_jobs, score_job
from mgld_bench.runner.plan import DatasetPlan, Plan, unusable_methods_error
from mgld_bench.runner.progress import Console, console_for
from mgld_bench.specs import Ref
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
    #: What the executor adds to the run's provenance (Ray: the cluster's resources); when a job
    #: computed, also the device it used and the execution options as used (:func:`execution_record`).
    details: dict[str, Any] = field(default_factory=dict)


def execution_record(plan: Plan, device_info: dict[str, Any],
                     device_kind: str | Callable[[Any], str | None]) -> dict[str, Any]:
    """What a run that computed records about where and how (every executor writes it): the
    device (:func:`mgld_bench.provenance.device_info`) and the components' execution options as
    used on their device kind (:meth:`~mgld_bench.runner.plan.Plan.execution`)."""
    return {**device_info, "execution": plan.execution(device_kind)}


def _job_failed(exc: Exception, what: str, label: str, keep_going: bool, summary: RunSummary,
                console: Console | None = None) -> None:
    """Record a failed job under ``--keep-going``; otherwise (or for a full disk) re-raise it."""
    if is_disk_full(exc):
        if console is not None:
            console.close()
        raise DiskFullError(getattr(exc, "filename", None) or "the cache or output folder") from exc
    message, code = describe(exc)
    message = message if label in message else f"{what}: {message}"
    if not keep_going or isinstance(exc, DiskFullError):
        if console is not None:
            console.close()
        if isinstance(exc, BenchError) and label in str(exc):
            raise exc
        named = BenchError(message)  # the same message, now naming the clip, with the same exit code
        named.exit_code = code
        raise named from exc
    summary.failures.append(message)


def clip_extras(res: MetricResult) -> dict[str, Any]:
    """What the store keeps beside a clip value: the metric's extras and how many per-frame
    values are infinite (``inf_frames``; tables say so under the column)."""
    n_inf = sum(1 for v in res.frames.values() if math.isinf(v))
    return {**res.extras, "inf_frames": n_inf} if n_inf else dict(res.extras)


def record_scores(
    store: ResultStore, run_id: str, entry: DatasetPlan, method: Method, clip: Clip, infer_key: str,
    scores: dict[str, tuple[MetricResult, str, bool]], summary: RunSummary,
) -> None:
    """Write the scores of ``method`` on ``clip`` to the store (every executor writes through here)."""
    frame_ids = (clip.gt or clip.lr).ids
    for metric in entry.metrics:
        res, key, cached = scores[metric.name]
        summary.score_cached += int(cached)
        summary.scored += int(not cached)
        used = entry.used[metric.name]
        store.write(
            run_id,
            ClipRecord(
                dataset=entry.dataset.label, method=method.label, clip=clip.name,
                metric=metric.label, protocol=used.name, value=res.value,
                frames=res.frames,
                frame_ids={i: frame_ids[i] for i in res.frames if i < len(frame_ids)},
                higher_is_better=metric.higher_is_better, kind=metric.kind, unit=metric.unit,
                params={**metric.identity(), "backend": metric.backend()},
                protocol_fields=used.fields(), method_identity=method.identity(),
                infer_key=infer_key, score_key=key, extras=clip_extras(res),
            ),
        )


def available_methods(plan: Plan, keep_going: bool, summary: RunSummary) -> list[tuple[Ref, Method]]:
    """The plan's methods that can run here; the others fail the run (or, with ``keep_going``,
    are recorded as failures)."""
    methods, problems = [], []
    for ref, method in plan.methods:
        ok, reason = method.availability()
        if ok:
            methods.append((ref, method))
        else:
            problems.append(f"method {method.label} cannot run: {reason}")
    if problems and not keep_going:
        raise unusable_methods_error(problems)
    summary.failures.extend(problems)
    return methods


def mark_skipped(store: ResultStore, run_id: str, entry: DatasetPlan, methods: list[tuple[Ref, Method]],
                 summary: RunSummary) -> None:
    """Record the metrics that cannot run on ``entry``'s dataset as unavailable."""
    for metric_name, reason in entry.skipped:
        for _, method in methods:
            store.mark_unavailable(run_id, entry.dataset.label, method.label, metric_name, reason)
            summary.unavailable.append((entry.dataset.label, method.label, metric_name, reason))


def execute(
    plan: Plan, cache: Cache, store: ResultStore, run_id: str, device: str = "auto", seed: int = 0,
    keep_going: bool = False, progress: bool | str | Console = True,
) -> RunSummary:
    """Run every job of ``plan``; results go to ``store``, outputs and scores to ``cache``.

    ``progress``: a :class:`~mgld_bench.runner.progress.Console`, a mode (``auto``, ``tty``,
    ``plain``, ``off``) or a bool; frame-level progress reaches it through the jobs' callback."""
    from mgld_bench.runner.device import configure_threads

    configure_threads()
    console = console_for(progress)
    summary = RunSummary()
    methods = available_methods(plan, keep_going, summary)
    for entry in plan.datasets:
        ds_ref, dataset, protocol, metrics = entry.ref, entry.dataset, entry.protocol, entry.metrics
        mark_skipped(store, run_id, entry, methods, summary)
        names = plan.clips or dataset.clip_names()
        console.dataset(dataset.label, len(names) * len(methods))
        failed = len(summary.failures)
        for clip_name in names:
            try:
                clip = dataset.clip(clip_name)
            except Exception as exc:  # a clip that cannot be read fails all its jobs
                _job_failed(exc, f"clip {dataset.label}/{clip_name}", clip_name, keep_going, summary, console)
                console.job_index += len(methods)
                continue
            ready = []  # (method, infer key, score job, SR frames) of the clip's finished inferences
            for m_ref, method in methods:
                console.job(f"{method.label} on {clip.name}")
                try:
                    job = infer_job(method, m_ref, ds_ref, clip, seed, device)
                    inf = run_infer_job(job, cache, device, method, clip, progress=console.frames)
                    summary.infer_cached += int(inf.cached)
                    summary.inferred += int(not inf.cached)
                    sjob = score_job(job, inf.frames.digest(), clip, protocol, metrics)
                except Exception as exc:  # any per-job failure; Ctrl-C / SIGTERM are not Exceptions
                    _job_failed(exc, f"{method.label} on clip {clip.label}", clip.name, keep_going, summary, console)
                    continue
                ready.append((method, inf.key, sjob, inf.frames))
            # every output of the clip in one pass: GT frames decoded once, GT-side features shared
            console.what = f"scoring {len(ready)} output(s) of {clip.name}"
            outcomes = run_score_jobs([(sjob, frames) for _, _, sjob, frames in ready], clip, cache, protocol,
                                      device, metrics, progress=console.frames)
            for (method, key, _, _), scores in zip(ready, outcomes, strict=True):
                if isinstance(scores, BaseException):
                    _job_failed(scores, f"{method.label} on clip {clip.label}", clip.name, keep_going, summary,
                                console)
                    continue
                record_scores(store, run_id, entry, method, clip, key, scores, summary)
        console.dataset_done(len(summary.failures) - failed)
    console.close()
    if summary.inferred or summary.scored:  # the device was resolved by a job that computed
        from mgld_bench import provenance
        from mgld_bench.runner.device import used_device

        used = used_device(device)
        summary.details.update(execution_record(plan, provenance.device_info(used),
                                                "cuda" if used.startswith("cuda") else "cpu"))
    return summary
