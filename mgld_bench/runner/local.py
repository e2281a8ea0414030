"""The local executor: a plain loop over the run's jobs, in this process.

For each dataset, clip and method it builds the :class:`~mgld_bench.specs.InferJob`, runs it,
builds the :class:`~mgld_bench.specs.ScoreJob` of its output and runs that; results go to the
store.  Another executor (Ray) schedules the same specs and calls the same job functions.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from mgld_bench.errors import BenchError
from mgld_bench.runner.jobs import infer_job, run_infer_job, run_score_job, score_job
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


def execute(
    plan: Plan, cache: Cache, store: ResultStore, run_id: str, device: str = "auto", seed: int = 0,
    keep_going: bool = False, progress: bool = True,
) -> RunSummary:
    """Run every job of ``plan``; results go to ``store``, outputs and scores to ``cache``."""
    from tqdm import tqdm

    from mgld_bench.runner.device import configure_threads

    configure_threads()
    summary = RunSummary()
    methods = []
    for ref, method in plan.methods:
        ok, reason = method.availability()
        if ok:
            methods.append((ref, method))
            continue
        msg = f"method {method.label} cannot run: {reason}"
        if not keep_going:
            raise BenchError(msg)
        summary.failures.append(msg)

    for entry in plan.datasets:
        ds_ref, dataset, protocol, metrics, used = entry.ref, entry.dataset, entry.protocol, entry.metrics, entry.used
        for metric_name, reason in entry.skipped:
            for _, method in methods:
                store.mark_unavailable(run_id, dataset.label, method.label, metric_name, reason)
                summary.unavailable.append((dataset.label, method.label, metric_name, reason))
        names = plan.clips or dataset.clip_names()
        bar = tqdm(total=len(names) * len(methods), desc=f"{dataset.label}", unit="job",
                   disable=not progress or None, file=sys.stderr)
        for clip_name in names:
            clip = dataset.clip(clip_name)
            frame_ids = (clip.gt or clip.lr).ids
            for m_ref, method in methods:
                bar.set_postfix_str(f"{method.label} {clip.name}")
                try:
                    job = infer_job(method, m_ref, ds_ref, clip, seed)
                    inf = run_infer_job(job, cache, device, method, clip)
                    summary.infer_cached += int(inf.cached)
                    summary.inferred += int(not inf.cached)
                    sjob = score_job(job, inf.frames.digest(), clip, protocol, metrics)
                    scores = run_score_job(sjob, inf.frames, clip, cache, protocol, device, metrics)
                except BenchError as exc:
                    if not keep_going:
                        bar.close()
                        raise
                    summary.failures.append(str(exc))
                    bar.update(1)
                    continue
                for metric in metrics:
                    res, key, cached = scores[metric.name]
                    summary.score_cached += int(cached)
                    summary.scored += int(not cached)
                    store.write(
                        run_id,
                        ClipRecord(
                            dataset=dataset.label, method=method.label, clip=clip.name,
                            metric=metric.name, protocol=used[metric.name].name, value=res.value,
                            frames=res.frames,
                            frame_ids={i: frame_ids[i] for i in res.frames if i < len(frame_ids)},
                            higher_is_better=metric.higher_is_better, kind=metric.kind, unit=metric.unit,
                            params={**metric.identity(), "backend": metric.backend()},
                            protocol_fields=used[metric.name].fields(), method_identity=method.identity(),
                            infer_key=inf.key, score_key=key,
                        ),
                    )
                bar.update(1)
        bar.close()
    return summary
