"""The Python API: what ``mgld-bench run``, ``score`` and ``list`` do, callable from a notebook.

    import mgld_bench as mb

    df = mb.evaluate(methods=["bicubic"], datasets="synthetic", metrics=["psnr", "ssim"], out="reports/nb")
    mb.score("outputs/clip", "gt/clip", metrics=["psnr", "ssim"])      # {"psnr": 31.2, "ssim": 0.87}
    mb.load_results("reports/nb")                                       # the run's clip scores
    mb.list_metrics()                                                   # what is registered and can run

:func:`run_config` is the one implementation of a run; the ``run`` sub-command calls it too.
Everything heavy is imported inside the functions, so ``import mgld_bench`` stays cheap.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError
from mgld_bench.extras import MissingExtraError
from mgld_bench.runner.config import RunConfig, resolve_config

Names = str | Sequence[str]


@dataclass
class RunOutcome:
    """What one run did and wrote."""

    config: RunConfig
    out: Path
    run_id: str
    rows: list[dict[str, Any]]
    table: str
    summary: Any  # mgld_bench.runner.local.RunSummary
    elapsed_s: float
    reports: str = ""
    failures: list[str] = field(default_factory=list)
    #: some value is n/a (NaN)
    has_nan: bool = False
    #: OUT/report.html, when written
    html: Path | None = None

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0


def _against_out(plan: Any, store_path: Path) -> tuple[list[str], str]:
    """``plan`` held against the rows already in ``store_path``, read only and before anything is
    written: (the rows it would write that could not share a column with those there, see
    report.aggregate.planned_conflicts; a note when it brings datasets, metrics or protocols that
    the store's rows lack -- its tables will mix both -- or "" when OUT is new or the run only
    adds methods or clips)."""
    import json

    from mgld_bench.report.aggregate import held_settings, planned_conflicts
    from mgld_bench.store.results import ResultStore

    if not store_path.is_file():
        return [], ""
    with ResultStore(store_path, readonly=True) as store:
        labels = [store.planned_dataset_label(dp.dataset) for dp in plan.datasets]
    methods = [m.label for _, m in plan.methods if m.availability()[0]]
    planned = []
    for label, dp in zip(labels, plan.datasets, strict=True):
        rewrites = {(m, c) for m in methods for c in (plan.clips or dp.dataset.clip_names())}
        for metric in dp.metrics:
            used = dp.used[metric.name]
            planned.append({
                "dataset": label, "metric": metric.label, "protocol": used.name, "rewrites": rewrites,
                "params": json.dumps({**metric.identity(), "backend": metric.backend()}, sort_keys=True),
                "protocol_fields": json.dumps(used.fields(), sort_keys=True),
            })
    conflicts = planned_conflicts(store_path, planned)
    held = held_settings(store_path)
    if conflicts or not held["datasets"]:
        return conflicts, ""
    mine = {
        "datasets": set(labels),
        "metrics": {m.label for dp in plan.datasets for m in dp.metrics},
        "protocols": {dp.used[m.name].name for dp in plan.datasets for m in dp.metrics},
    }
    differ = [  # only what this run brings that OUT lacks: a subset (fewer metrics, say) is no news
        f"{what} ({', '.join(sorted(held[what]))}; this run adds {', '.join(sorted(mine[what] - held[what]))})"
        for what in ("datasets", "metrics", "protocols") if mine[what] - held[what]
    ]
    if not differ:
        return [], ""
    return [], (f"note: {store_path.parent} already holds results of other {' and '.join(differ)}; its tables "
                f"will show both -- to keep this comparison apart, use --out {store_path.parent.parent / 'NAME'}")


def run_config(cfg: RunConfig, argv: Sequence[str] = (), progress: Any = True) -> RunOutcome:
    """Run ``cfg``: every method on every clip (outputs cached), scored; results, tables and figures in ``cfg.out``.

    Before any work, every unusable method and every metric skipped on a dataset is named with
    its reason (an error naming all unusable methods unless ``cfg.keep_going``).  Raises
    :class:`BenchError` on the first failing job unless ``cfg.keep_going``, in which case the
    failures are listed in the outcome.  ``progress``: a mode (``auto``, ``tty``, ``plain``,
    ``off``), a bool, or a :class:`~mgld_bench.runner.progress.Console`.
    """
    from mgld_bench import provenance
    from mgld_bench.report.run_reports import write_run_reports
    from mgld_bench.runner.local import execute
    from mgld_bench.runner.plan import build_plan, check_plan
    from mgld_bench.runner.progress import console_for
    from mgld_bench.store.cache import Cache
    from mgld_bench.store.results import ResultStore
    from mgld_bench.store.sweep import collect_stale

    if cfg.executor == "ray":
        from mgld_bench.runner.ray_exec import import_ray

        import_ray()  # fail before any work when Ray is not installed
    plan = build_plan(
        cfg.datasets, cfg.methods, cfg.metrics, cfg.options,
        data_root=cfg.data_root, protocol=cfg.protocol, clips=cfg.clips or None,
    )
    notices = check_plan(plan, strict=cfg.strict, keep_going=cfg.keep_going)  # raises before any work
    console = console_for(progress)
    for line in notices:
        console.notice(line)
    out = Path(cfg.out)
    conflicts, mixing = _against_out(plan, out / "results.sqlite")
    if conflicts:
        raise BenchError(conflicts[0] + (f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""))
    if mixing:
        console.notice(mixing)
    cache = Cache(cfg.cache_dir)
    collect_stale(cache.root)  # job folders that killed runs left behind
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with ResultStore(out / "results.sqlite") as store:
        store.claim_dataset_labels([d.dataset for d in plan.datasets])  # folder:x from two places never share a label
        extra = {"seed": cfg.seed, "device_requested": cfg.device, **plan.provenance, "config": cfg.to_dict()}
        run_id = store.start_run(list(argv), provenance.collect(cfg.device, cache.root, extra))
        if cfg.executor == "ray":
            from mgld_bench.runner import ray_exec

            summary = ray_exec.execute(
                plan, cache, store, run_id, device=cfg.device, seed=cfg.seed, keep_going=cfg.keep_going,
                progress=console.mode == "tty", address=cfg.ray_address,
            )
        else:
            summary = execute(
                plan, cache, store, run_id, device=cfg.device, seed=cfg.seed, keep_going=cfg.keep_going,
                progress=console,
            )
        # the executor's details: with a job that computed, the device and the execution options as used
        finished: dict[str, object] = {"elapsed_s": round(time.perf_counter() - started, 3), **summary.details}
        if summary.failures:
            finished["failures"] = list(summary.failures)  # the HTML report lists them with the fix
        store.finish_run(run_id, finished)
        rows = store.clip_rows()
    with console.phase(f"writing reports to {out}"):
        reports = write_run_reports(
            out, out / "results.sqlite", reference=cfg.reference, html=cfg.html, html_force=bool(summary.failures)
        )
    note = f", {len(reports.written)} report files" + (", figures unchanged" if reports.figures_reused else "")
    return RunOutcome(
        cfg, out, run_id, rows, reports.table, summary, time.perf_counter() - started, note, list(summary.failures),
        bool(reports.has_nan), reports.html,
    )


def forget(out: str | Path, run: str | None = None, dataset: str | None = None, method: str | None = None,
           metric: str | None = None, protocol: str | None = None, html: bool = False) -> int:
    """Drop rows from the run folder ``out`` (those of run ``run`` and/or of a dataset, method,
    metric, protocol), then rewrite its reports; return how many clip rows went.  The fix for a
    folder whose rows cannot share a column (``mgld-bench forget OUT --run RUN_ID``)."""
    from mgld_bench.report.run_reports import write_run_reports
    from mgld_bench.store.results import ResultStore

    path = Path(out) / "results.sqlite"
    if not path.is_file():
        raise BenchError(f"{out} holds no result store (results.sqlite); give the --out folder of a run")
    with ResultStore(path) as store:
        gone = store.forget(run, dataset=dataset, method=method, metric=metric, protocol=protocol)
    write_run_reports(Path(out), path, html=html)
    return gone


def run_history(out: str | Path) -> list[dict[str, Any]]:
    """The runs recorded in ``out``: run_id, started, argv and how many clip rows each still owns."""
    from mgld_bench.store.results import ResultStore

    with ResultStore(Path(out) / "results.sqlite", readonly=True) as store:
        counts = dict(store.query("SELECT run_id, COUNT(*) AS n FROM clip_scores GROUP BY run_id").values.tolist())
        return [
            {"run_id": r["run_id"], "started": r["started"], "argv": r["argv"], "rows": int(counts.get(r["run_id"], 0))}
            for r in store.runs()
        ]


def evaluate(
    datasets: Names | None = None,
    methods: Names | None = None,
    metrics: Names | None = None,
    *,
    protocol: str | None = None,
    clips: Names | None = None,
    data_root: str | Path | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    cache_dir: str | Path | None = None,
    device: str | None = None,
    keep_going: bool | None = None,
    strict: bool | None = None,
    reference: str | None = None,
    html: bool | None = None,
    config: str | Path | Mapping[str, Any] | None = None,
    progress: bool = False,
) -> Any:
    """Run methods on datasets and score them, as ``mgld-bench run`` does; return the clip scores.

    Arguments mirror the ``run`` flags (names as lists or comma-separated strings; ``options``
    as ``{"bicubic": {"kernel": "cv2"}}`` = ``--set bicubic.kernel=cv2``).  ``config`` is a run
    config file (YAML) or mapping; the other arguments override it.  Results go to ``out``
    (default ``reports/latest``) exactly as the CLI writes them, and the returned
    ``pandas.DataFrame`` is :func:`load_results` of it (one row per dataset, method, clip and
    metric).  With ``keep_going`` the failed jobs are in ``df.attrs["failures"]`` (and warned).
    """
    overrides = {
        "datasets": datasets, "methods": methods, "metrics": metrics, "protocol": protocol, "clips": clips,
        "data_root": None if data_root is None else str(data_root),
        "options": {k: dict(v) for k, v in options.items()} if options else None,
        "seed": seed, "out": None if out is None else str(out),
        "cache_dir": None if cache_dir is None else str(cache_dir),
        "device": device, "keep_going": keep_going, "strict": strict, "reference": reference,
        "html": html,
    }
    cfg = resolve_config(config, overrides)
    outcome = run_config(cfg, argv=["mgld_bench.evaluate"], progress=progress)
    df = load_results(outcome.out)
    if outcome.failures:
        warnings.warn("; ".join(outcome.failures), stacklevel=2)
        df.attrs["failures"] = list(outcome.failures)
    return df


def load_results(out: str | Path, frames: bool = False) -> Any:
    """The results of a run folder (or a ``results.sqlite`` path) as a ``pandas.DataFrame``.

    One row per (dataset, method, clip, metric) with the columns of ``results.csv`` plus the
    method identity and cache keys; ``frames=True`` gives the per-frame values instead.  The
    store is opened read-only.
    """
    from mgld_bench.report.store_read import frame_scores, query
    from mgld_bench.store.results import CLIP_COLUMNS

    path = Path(out)
    if path.is_dir():
        path = path / "results.sqlite"
    if frames:
        return frame_scores(path)
    df = query(path, f"SELECT {', '.join(CLIP_COLUMNS)} FROM clip_scores ORDER BY dataset, method, clip, metric")
    df["value"] = df["value"].astype(float)
    df["higher_is_better"] = df["higher_is_better"].astype(bool)
    return df


# -- score ---------------------------------------------------------------------------------
def _frames(source: Any, what: str) -> Any:
    """A FrameSequence from a folder, a video file, or uint8 RGB arrays (N x H x W x 3 or a list)."""
    import numpy as np

    from mgld_bench.frames import ArrayFrames, FolderFrames, FrameSequence

    if isinstance(source, FrameSequence):
        return source
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_file():
            from mgld_bench.datasets.videofile import VideoFrames

            return VideoFrames(path)
        return FolderFrames.from_folder(path)
    arrays = [np.asarray(f) for f in source]
    return ArrayFrames(arrays, what)


def compute_scores(
    sr: Any,
    gt: Any = None,
    metrics: Names = ("psnr", "ssim"),
    protocol: str = "default",
    crop_border: int | None = None,
    color_space: str | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    device: str = "auto",
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> tuple[Any, list[Any], dict[str, Any]]:
    """Score ``sr`` against ``gt``: (protocol, metrics, {name: MetricResult}).  ``mgld-bench score`` calls this."""
    import tempfile

    from mgld_bench.errors import FrameError
    from mgld_bench.frames import Clip
    from mgld_bench.protocol import get_protocol
    from mgld_bench.registry import METRICS
    from mgld_bench.runner.config import split_names
    from mgld_bench.runner.jobs import score_frames
    from mgld_bench.runner.plan import build_metric, check_option_targets, override_protocol
    from mgld_bench.store.cache import Cache

    proto = override_protocol(get_protocol(protocol), crop_border=crop_border, color_space=color_space)
    names = [METRICS.canonical(m) for m in (split_names(metrics) if isinstance(metrics, str) else list(metrics))]
    opts = {str(k).lower(): dict(v) for k, v in (options or {}).items()}
    check_option_targets(opts, {"metric": names})
    built = [build_metric(m, proto, opts) for m in names]
    sr_frames = _frames(sr, "SR frames")
    gt_frames = _frames(gt, "GT frames") if gt is not None else None
    if gt_frames is not None and len(gt_frames) != len(sr_frames):
        raise FrameError(f"{sr} holds {len(sr_frames)} frames but {gt} holds {len(gt_frames)}; they must match")
    for m in built:
        ok, reason = m.availability()
        if not ok:
            raise BenchError(f"metric {m.name} is unavailable: {reason}")
    label = Path(sr).name if isinstance(sr, str | Path) else "frames"
    clip = Clip(dataset="score", name=label, lr=sr_frames, gt=gt_frames, scale=1)
    with tempfile.TemporaryDirectory(prefix="mgld-bench-score-") as tmp:
        cache = Cache(cache_dir) if use_cache else Cache(tmp)
        results = score_frames(built, clip, sr_frames, cache, proto, device)
    return proto, built, {name: res for name, (res, _, _) in results.items()}


def score(
    sr: Any,
    gt: Any = None,
    metrics: Names = ("psnr", "ssim"),
    *,
    protocol: str = "default",
    crop_border: int | None = None,
    color_space: str | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    device: str = "auto",
    per_frame: bool = False,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> dict[str, Any]:
    """Score SR frames against GT frames, as ``mgld-bench score`` does.

    ``sr``/``gt``: a folder of images, a video file, or uint8 RGB frames (a list of H x W x 3
    arrays or one N x H x W x 3 array).  Returns ``{metric: mean over frames}``, or with
    ``per_frame=True`` ``{metric: {"mean": ..., "frames": [...]}}``.
    """
    _, _, results = compute_scores(
        sr, gt, metrics, protocol, crop_border, color_space, options, device, cache_dir, use_cache
    )
    if per_frame:
        return {n: {"mean": r.value, "frames": [v for _, v in sorted(r.frames.items())]} for n, r in results.items()}
    return {n: r.value for n, r in results.items()}


# -- listing -------------------------------------------------------------------------------
def list_components(kind: str) -> list[dict[str, Any]]:
    """Registered ``datasets``, ``methods`` or ``metrics``: name, summary, whether it can run here, why not, origin.

    Methods also carry ``needs_cuda`` and ``uses_gpu`` (declared on the class) and, when they
    can be built without options, ``weights`` (the weight files they read); metrics carry
    ``kind`` and ``higher_is_better``."""
    from mgld_bench.registry import DATASETS, METHODS, METRICS

    registries = {"datasets": DATASETS, "methods": METHODS, "metrics": METRICS}
    if kind not in registries:
        raise BenchError(f"unknown kind {kind!r}; use one of {', '.join(registries)}")
    rows: list[dict[str, Any]] = []
    gpu: bool | None = None
    registry = registries[kind]
    for entry in registry.entries():
        row: dict[str, Any] = {"name": entry.name, "summary": entry.summary, "available": False, "reason": "",
                               "origin": entry.origin}
        if kind == "metrics" and entry.facts is not None:  # declared facts: no import needed
            row["kind"], row["higher_is_better"] = entry.facts.kind, bool(entry.facts.higher_is_better)
        try:
            cls = entry.load()
        except BenchError as exc:
            row["reason"] = str(exc)
            rows.append(row)
            continue
        row["summary"] = entry.summary or getattr(cls, "summary", "")
        if kind == "methods":  # declared facts of the class
            row["needs_cuda"] = bool(getattr(cls, "needs_cuda", False) or getattr(cls, "requires_cuda", False))
            row["uses_gpu"] = row["needs_cuda"] or float(getattr(getattr(cls, "resources", None), "num_gpus", 0)) > 0
        if kind == "metrics" and "kind" not in row:
            facts = registry.facts(entry.name)
            if facts is not None:
                row["kind"], row["higher_is_better"] = facts.kind, bool(facts.higher_is_better)
        try:
            instance = entry.create()
            weight_files = getattr(instance, "weight_files", None)
            if callable(weight_files):
                row["weights"] = [wf.name for wf in weight_files()]
            ok, reason = instance.availability()
            row["available"], row["reason"] = bool(ok), reason
        except MissingExtraError as exc:
            row["available"], row["reason"] = False, str(exc)
        except BenchError as exc:
            row["available"], row["reason"] = None, str(exc)  # needs options (e.g. a path)
        if getattr(cls, "requires_cuda", False):
            if gpu is None:
                import torch

                gpu = torch.cuda.is_available()
            if not gpu:
                row["available"] = False
                row["reason"] = (row["reason"] + "; " if row["reason"] else "") + "needs a CUDA GPU"
        rows.append(row)
    return rows


def _frame_of(rows: list[dict[str, Any]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows)


def list_metrics() -> Any:
    """Registered metrics as a DataFrame: name, summary, available, reason, origin, kind, higher_is_better."""
    return _frame_of(list_components("metrics"))


def list_methods() -> Any:
    """Registered methods as a DataFrame: name, summary, available (None = needs options), reason, origin."""
    return _frame_of(list_components("methods"))


def list_datasets() -> Any:
    """Registered datasets as a DataFrame: name, summary, available (None = needs options), reason, origin."""
    return _frame_of(list_components("datasets"))
