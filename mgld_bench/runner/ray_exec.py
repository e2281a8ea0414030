"""The Ray executor: the local executor's job specs and job functions, scheduled as Ray tasks.

* inference: one task per (method, dataset, clip) running :func:`~mgld_bench.runner.jobs.run_infer_job`;
  for a method that declares ``chunk_frames``, one task per chunk
  (:func:`~mgld_bench.runner.jobs.run_infer_chunk`) and a CPU task joining them into the cache;
* scoring: one task per (clip, metric group) running :func:`~mgld_bench.runner.jobs.run_score_jobs`
  on the outputs of every method on that clip (GT frames decoded and GT-side network features
  computed once for all of them), metrics grouped by their declared resources (a GPU is never
  held while CPU metrics run).  It starts once every method's output of the clip is there.

Each task sets its worker's thread counts to the CPUs Ray gave it.  The run's method, metric and
dataset objects are put in Ray's object store once and handed to tasks by reference; each worker
keeps the last one of each role it used (:func:`_shared`), so consecutive tasks of one run in a
worker reuse the same instance -- a network a method loaded for one clip is not rebuilt for the next,
as in the local loop.

Each task asks Ray for the resources its method or metric declares (``Method.resources``,
``MetricFacts.resources``).  The cache is the shared state: every worker must see the same cache
folder.  Only this process (the driver) writes the result store, through the same
:func:`~mgld_bench.runner.local.record_scores` as the local loop, so the rows are the same.
A worker or node that dies is retried up to :data:`RETRIES` times by Ray; an exception raised by
a method or metric is not retried and is reported with its clip.  Ctrl-C cancels the outstanding
tasks; a rerun finds the finished work in the cache.
"""

from __future__ import annotations

import contextlib
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from mgld_bench.errors import BenchError
from mgld_bench.frames import Clip
from mgld_bench.methods.base import Method
from mgld_bench.metrics.base import Metric, MetricResult
from mgld_bench.protocol import Protocol
from mgld_bench.runner.jobs import (
    cached_scores,
    chunk_bounds,
    infer_job,
    join_infer_chunks,
    load_infer,
    run_infer_chunk,
    run_infer_job,
    run_score_jobs,
    score_job,
)
from mgld_bench.runner.local import RunSummary, available_methods, execution_record, mark_skipped, record_scores
from mgld_bench.runner.plan import DatasetPlan, Plan
from mgld_bench.specs import CPU, InferJob, Resources, ScoreJob
from mgld_bench.store.cache import Cache
from mgld_bench.store.results import ResultStore

#: How many times Ray reruns a task whose worker or node died (exceptions are never retried).
RETRIES = 3
INSTALL_HINT = "--executor ray needs Ray: pip install 'mgld-bench[ray]' (or: pip install ray)"


def import_ray() -> Any:
    """The ``ray`` module, or a one-line error saying how to install it."""
    from mgld_bench.extras import import_extra, is_installed

    if not is_installed("ray"):
        raise BenchError(INSTALL_HINT)
    return import_extra("ray", used_by="--executor ray")


# -- task bodies: plain functions of the job specs (wrapped by ray.remote in _tasks) -------------
def _worker_threads() -> None:
    """Thread counts of this worker = the CPUs Ray assigned to the task (not every core of the node:
    two 1-CPU tasks on a 2-core node must not run 2 x 2 OpenCV/torch threads)."""
    from mgld_bench.extras import import_extra
    from mgld_bench.runner.device import configure_threads

    try:
        ray = import_extra("ray", used_by="--executor ray")
        if not ray.is_initialized():  # a task body called directly (get_runtime_context would start Ray)
            return
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
    except Exception:  # not in a Ray worker
        return
    configure_threads(max(1, int(cpus)))


#: Per-worker memo of the current run's shared objects: (run token, {object ref id: object}).
#: A worker keeps what it fetched for one run -- as the local loop keeps the run's components --
#: and drops it all when a task of another run arrives.
_SHARED: list[Any] = ["", {}]
#: What a task is handed for a shared object: (run token, object ref).
Boxed = tuple[str, Any]


def _shared(boxed: Boxed) -> Any:
    """The object behind ``boxed`` = (run token, object ref) (boxed so that Ray hands the task the
    ref, not a fresh copy of the object): the instance this worker fetched for the same ref
    before, else fetched now."""
    run, ref = boxed
    if _SHARED[0] != run:
        _SHARED[:] = [run, {}]  # another run: free the previous run's objects first
    memo: dict[str, Any] = _SHARED[1]
    key = ref.hex()
    if key not in memo:
        from mgld_bench.extras import import_extra

        memo[key] = import_extra("ray", used_by="--executor ray").get(ref)
    return memo[key]


def _infer(job: InferJob, cache: Cache, device: str, method: Boxed, dataset: Boxed) -> tuple[str, str, bool]:
    _worker_threads()
    clip = _shared(dataset).clip(job.clip)
    inf = run_infer_job(job, cache, device, _shared(method), clip)
    return inf.key, inf.frames.digest(), inf.cached


def _infer_chunk(
    job: InferJob, cache: Cache, start: int, stop: int, device: str, method: Boxed, dataset: Boxed
) -> list[Any]:
    _worker_threads()
    clip = _shared(dataset).clip(job.clip)
    return run_infer_chunk(job, clip, start, stop, device, _shared(method), cache)


def _join(job: InferJob, cache: Cache, dataset: Boxed, *chunks: list[Any]) -> tuple[str, str, bool]:
    inf = join_infer_chunks(job, _shared(dataset).clip(job.clip), list(chunks), cache)
    return inf.key, inf.frames.digest(), False


def _score(
    jobs: list[ScoreJob], cache: Cache, protocol: Protocol, device: str, metrics: Boxed, dataset: Boxed
) -> list[dict[str, tuple[MetricResult, str, bool]] | BaseException]:
    """Every output of one clip (one job per method) scored in one pass: per job, its results or
    the exception it raised (:func:`~mgld_bench.runner.jobs.run_score_jobs`)."""
    _worker_threads()
    clip = _shared(dataset).clip(jobs[0].infer.clip)
    metric_list: list[Metric] = _shared(metrics)
    items = []
    for job in jobs:
        inf = load_infer(cache, job.infer.key(), f"{job.infer.method.spec} on {clip.label}")
        if inf is None:
            raise BenchError(
                f"{clip.label}: the output of {job.infer.method.spec} is not in the cache {cache.root} on this "
                "worker; every Ray worker must see the same cache folder (--cache-dir on a shared file system)"
            )
        items.append((job, inf.frames))
    return run_score_jobs(items, clip, cache, protocol, device, metric_list)


_TASKS: dict[str, Any] = {}


def _tasks(ray: Any) -> dict[str, Any]:
    if not _TASKS:
        for name, fn in (("infer", _infer), ("chunk", _infer_chunk), ("join", _join), ("score", _score)):
            _TASKS[name] = ray.remote(max_retries=RETRIES, retry_exceptions=False)(fn)
    return _TASKS


# -- placement ----------------------------------------------------------------------------------
def task_device(opts: dict[str, Any]) -> str:
    """The device a task placed with ``opts`` runs on: a GPU only where it reserved one (Ray makes
    the reserved GPU its ``cuda``), else the CPU -- never a GPU another task holds, and no torch
    import to find out."""
    return "cuda" if opts.get("num_gpus") else "cpu"


def task_options(res: Resources, cluster: dict[str, float], device: str, who: str) -> dict[str, Any]:
    """The Ray options of a job declaring ``res`` on a cluster with ``cluster`` resources.

    GPUs are asked for only when they can be used: not with ``--device cpu``, and with ``auto``
    only when the cluster has GPUs (the job then runs on the CPU, as the local executor would).
    A resource no node has is an error here rather than a task that never starts."""
    gpus = res.num_gpus
    if device == "cpu" or (device == "auto" and not cluster.get("GPU")):
        gpus = 0.0
    if gpus and not cluster.get("GPU"):
        raise BenchError(f"{who} asks for {gpus:g} GPU but the Ray cluster has none; use --device auto or cpu")
    opts: dict[str, Any] = {"num_cpus": res.num_cpus, "num_gpus": gpus}
    if res.memory:
        opts["memory"] = res.memory
    if res.custom:
        missing = [name for name, _ in res.custom if name not in cluster]
        if missing:
            raise BenchError(
                f"{who} asks for the resource {', '.join(missing)}, which no node of the Ray cluster has; "
                f"start nodes with: ray start --resources '{{\"{missing[0]}\": 1}}'"
            )
        opts["resources"] = dict(res.custom)
    return opts


def metric_groups(metrics: list[Metric]) -> list[tuple[Resources, list[Metric]]]:
    """Metrics grouped by declared resources, in plan order (one score task per group and clip)."""
    groups: dict[Resources, list[Metric]] = {}
    for metric in metrics:
        groups.setdefault(getattr(metric.facts, "resources", CPU), []).append(metric)
    return list(groups.items())


def connect(address: str | None) -> tuple[Any, bool]:
    """Ray, initialised: the session already open in this process, else the cluster at
    ``address`` (or ``RAY_ADDRESS``), else a new local one.  Returns (ray, started here)."""
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    if address:
        ray.init(address=address)
    else:
        ray.init(include_dashboard=False)
    return ray, True


# -- the driver ---------------------------------------------------------------------------------
@dataclass
class _Unit:
    """One (dataset, clip, method) of the plan and where its tasks stand."""

    entry: DatasetPlan
    method: Method
    clip: Clip
    job: InferJob
    group: _ClipGroup | None = None
    infer_key: str = ""
    digest: str = ""
    inferred: bool = False
    waiting: int = 0
    scores: dict[str, tuple[MetricResult, str, bool]] = field(default_factory=dict)
    failed: bool = False

    @property
    def label(self) -> str:
        return f"{self.method.label} on {self.clip.label}"


@dataclass
class _ClipGroup:
    """The units of one (dataset, clip): scored together once all their inferences are done."""

    units: list[_Unit] = field(default_factory=list)
    scoring: bool = False

    def ready(self) -> bool:
        return not self.scoring and all(u.inferred or u.failed for u in self.units)


def _reraise(exc: BaseException) -> None:
    raise exc


def _failure(ray: Any, unit: _Unit, exc: BaseException) -> str:
    """One line naming the clip: the job's own error, or the worker loss Ray gave up on."""
    if isinstance(exc, ray.exceptions.RayTaskError):
        cause = getattr(exc, "cause", None) or exc
        msg = str(cause) if isinstance(cause, BenchError) else f"{type(cause).__name__}: {cause}"
    elif isinstance(exc, ray.exceptions.RayError):
        msg = (f"the Ray worker running it was lost {RETRIES + 1} times ({type(exc).__name__}); "
               "rerun to resume from the cache")
    else:
        msg = f"{type(exc).__name__}: {exc}"
    msg = msg.strip().splitlines()[0] if msg.strip() else type(exc).__name__
    return msg if unit.clip.label in msg else f"{unit.label}: {msg}"


def execute(
    plan: Plan, cache: Cache, store: ResultStore, run_id: str, device: str = "auto", seed: int = 0,
    keep_going: bool = False, progress: bool = True, address: str | None = None,
) -> RunSummary:
    """Run every job of ``plan`` on Ray; same results in ``store`` and ``cache`` as
    :func:`mgld_bench.runner.local.execute`."""
    from tqdm import tqdm

    ray, started = connect(address)
    try:
        return _Driver(ray, plan, cache, store, run_id, device, seed, keep_going, progress, tqdm).run()
    finally:
        if started:
            ray.shutdown()


class _Driver:
    def __init__(self, ray: Any, plan: Plan, cache: Cache, store: ResultStore, run_id: str, device: str,
                 seed: int, keep_going: bool, progress: bool, tqdm: Any) -> None:
        self.ray, self.plan, self.cache, self.store, self.run_id = ray, plan, cache, store, run_id
        # a worker holding one GPU sees it as cuda:0
        self.device = "cuda" if device.startswith("cuda") else device
        self.seed, self.keep_going, self.progress, self.tqdm = seed, keep_going, progress, tqdm
        self.summary = RunSummary()
        self.tasks = _tasks(ray)
        self.cluster = dict(ray.cluster_resources())
        self.pending: dict[Any, tuple[list[_Unit], str]] = {}
        self.shared: dict[int, Any] = {}  # id(component) -> object ref (each shipped once)
        self.token = uuid.uuid4().hex  # names this run to the workers' memo (_shared)
        self.failed = 0
        # computed once per dataset, so each group is shipped once
        self.groups = {id(e): metric_groups(e.metrics) for e in plan.datasets}

    def device_kind(self, method: Method) -> str:
        """Where ``method``'s inference tasks run: ``cuda`` when they are given a GPU, else ``cpu``
        (part of the key of a ``device_dependent`` method); a placement error is raised later, when
        the task is started."""
        if not method.device_dependent:
            return "cpu"  # not asked
        try:
            opts = task_options(method.resources, self.cluster, self.device, f"method {method.label}")
        except BenchError:
            return "cuda"
        return "cuda" if opts["num_gpus"] else "cpu"

    def put(self, obj: Any) -> Boxed:
        """``obj`` in Ray's object store (put once per run), boxed for :func:`_shared`."""
        if id(obj) not in self.shared:
            self.shared[id(obj)] = self.ray.put(obj)
        return self.token, self.shared[id(obj)]

    def run(self) -> RunSummary:
        summary = self.summary
        methods = available_methods(self.plan, self.keep_going, summary)
        names = {e.dataset.label: self.plan.clips or e.dataset.clip_names() for e in self.plan.datasets}
        total = sum(len(n) for n in names.values()) * len(methods)
        self.bar = self.tqdm(total=total, desc="ray", unit="job", disable=not self.progress or None, file=sys.stderr)
        self.started = time.perf_counter()
        try:
            for entry in self.plan.datasets:
                mark_skipped(self.store, self.run_id, entry, methods, summary)
                for clip_name in names[entry.dataset.label]:
                    clip = entry.dataset.clip(clip_name)
                    group = _ClipGroup()
                    for m_ref, method in methods:
                        job = infer_job(method, m_ref, entry.ref, clip, self.seed, self.device_kind(method))
                        unit = _Unit(entry, method, clip, job, group)
                        group.units.append(unit)
                    for unit in group.units:
                        self._guard(unit, self._start, unit)
                    self._drain(timeout=0)
            while self.pending:
                self._drain(timeout=1.0)
        except BaseException:
            self._cancel()
            raise
        finally:
            self.bar.close()
        summary.details = {"executor": "ray", "retries": RETRIES, "cluster_resources": self.cluster}
        if summary.inferred or summary.scored:
            summary.details.update(execution_record(self.plan, self._device_info(), self.component_kind))
        return summary

    def component_kind(self, component: Method | Metric) -> str | None:
        """The kind of device (``cpu``/``cuda``) the tasks of a method or metric are placed on."""
        res = component.resources if isinstance(component, Method) else getattr(component.facts, "resources", CPU)
        try:
            return task_device(task_options(res, self.cluster, self.device, component.label))
        except BenchError:  # not placeable: it did not run
            return None

    def _device_info(self) -> dict[str, Any]:
        """The device record of the run (:func:`mgld_bench.provenance.device_info`), read by a task
        placed as the run's jobs were: on a GPU when any method or metric was given one."""
        from mgld_bench import provenance

        components = [m for _, m in self.plan.methods] + [x for e in self.plan.datasets for x in e.metrics]
        gpu = any(self.component_kind(c) == "cuda" for c in components)
        probe = self.ray.remote(num_cpus=0, num_gpus=1 if gpu else 0, max_retries=RETRIES)(provenance.device_info)
        try:
            return dict(self.ray.get(probe.remote("cuda" if gpu else "cpu"), timeout=60))
        except Exception:  # the work is done: its record must not fail the run
            return {"device": "cuda" if gpu else "cpu"}

    # submitting
    def _start(self, unit: _Unit) -> None:
        hit = load_infer(self.cache, unit.job.key(), unit.label)
        if hit is not None:
            self._inferred(unit, hit.key, hit.frames.digest(), True)
            return
        method, entry = unit.method, unit.entry
        opts = task_options(method.resources, self.cluster, self.device, f"method {method.label}")
        m, ds = self.put(method), self.put(entry.dataset)
        bounds = chunk_bounds(len(unit.clip.lr), method.chunk_frames)
        if len(bounds) == 1:
            ref = self.tasks["infer"].options(**opts).remote(unit.job, self.cache, task_device(opts), m, ds)
        else:
            chunks = [self.tasks["chunk"].options(**opts).remote(unit.job, self.cache, a, b, task_device(opts), m, ds)
                      for a, b in bounds]
            ref = self.tasks["join"].options(num_cpus=1).remote(unit.job, self.cache, ds, *chunks)
        self.pending[ref] = ([unit], "infer")
        self._postfix()

    def _inferred(self, unit: _Unit, key: str, digest: str, cached: bool) -> None:
        self.summary.infer_cached += int(cached)
        self.summary.inferred += int(not cached)
        unit.infer_key, unit.digest, unit.inferred = key, digest, True
        self._score_clip(unit.group)

    def _score_clip(self, group: _ClipGroup | None) -> None:
        """Once every output of the clip is there: one score task per metric group for all of them."""
        if group is None or not group.ready():
            return
        group.scoring = True
        live = [u for u in group.units if not u.failed]
        if not live:
            return
        entry, clip = live[0].entry, live[0].clip
        for res, metrics in self.groups[id(entry)]:
            todo = []
            for unit in live:
                sjob = score_job(unit.job, unit.digest, clip, entry.protocol, metrics)
                hit = cached_scores(sjob, self.cache, metrics)
                if hit is not None:
                    unit.scores.update(hit)
                else:
                    todo.append((unit, sjob))
            if not todo:
                continue
            opts = task_options(res, self.cluster, self.device, f"metric {metrics[0].name}")
            ref = self.tasks["score"].options(**opts).remote(
                [sjob for _, sjob in todo], self.cache, entry.protocol, task_device(opts), self.put(metrics),
                self.put(entry.dataset),
            )
            self.pending[ref] = ([u for u, _ in todo], "score")
            for unit, _ in todo:
                unit.waiting += 1
        for unit in live:
            self._maybe_done(unit)

    def _maybe_done(self, unit: _Unit) -> None:
        if unit.waiting or unit.failed:
            return
        record_scores(self.store, self.run_id, unit.entry, unit.method, unit.clip, unit.infer_key, unit.scores,
                      self.summary)
        self.bar.update(1)
        self._postfix()

    # collecting
    def _drain(self, timeout: float) -> None:
        if not self.pending:
            return
        refs = list(self.pending)
        done, _ = self.ray.wait(refs, num_returns=1, timeout=timeout)  # back as soon as one is done
        if done:
            done, _ = self.ray.wait(refs, num_returns=len(refs), timeout=0)
        for ref in done:
            units, kind = self.pending.pop(ref)
            live = [u for u in units if not u.failed]
            if not live:
                continue
            try:
                value = self.ray.get(ref)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # the task failed as a whole: each of its units did
                for unit in live:
                    self._guard(unit, _reraise, exc)
                continue
            if kind == "infer":
                self._guard(live[0], self._inferred, live[0], *value)
                continue
            for unit, res in zip(units, value, strict=True):
                if not unit.failed:
                    self._guard(unit, self._scored, unit, res)

    def _scored(self, unit: _Unit, res: Any) -> None:
        if isinstance(res, BaseException):
            raise res
        unit.waiting -= 1
        unit.scores.update(res)
        self._maybe_done(unit)

    def _guard(self, unit: _Unit, fn: Any, *args: Any) -> None:
        """Call ``fn``; a failure of the job is recorded (``--keep-going``) or ends the run."""
        try:
            fn(*args)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BenchError as exc:
            self._fail(unit, str(exc) if unit.clip.label in str(exc) else f"{unit.label}: {exc}", exc)
        except Exception as exc:  # a task's error, as Ray hands it back
            self._fail(unit, _failure(self.ray, unit, exc), exc)

    def _fail(self, unit: _Unit, msg: str, exc: BaseException) -> None:
        unit.failed = True
        self.failed += 1
        if not self.keep_going:
            raise BenchError(msg) from exc
        self.summary.failures.append(msg)
        self.bar.update(1)
        self._postfix()
        self._score_clip(unit.group)  # the clip's other outputs need not wait for this one

    def _postfix(self) -> None:
        self.bar.set_postfix_str(f"running {len(self.pending)} tasks, failed {self.failed}")

    def _cancel(self) -> None:
        for ref in list(self.pending):
            with contextlib.suppress(Exception):  # already finished or gone
                self.ray.cancel(ref, force=True)
        self.pending.clear()
