"""The Ray executor: the same store as the local loop, retries of lost workers, errors named by
clip, resource requests.  One local Ray (2 CPUs, a custom ``accel`` resource) serves the module."""

from __future__ import annotations

import itertools
import math
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from mgld_bench.errors import BenchError
from mgld_bench.runner import local, ray_exec
from mgld_bench.runner.plan import Plan, build_plan
from mgld_bench.specs import CPU, ONE_GPU, Ref, Resources
from mgld_bench.store.cache import Cache
from mgld_bench.store.results import ResultStore
from tests.runner import _ray_methods

SYNTH = {"synthetic": {"frames": 20, "size": 48}}  # 20 frames: bicubic (16-frame chunks) runs as 2 chunks


# -- without a cluster ---------------------------------------------------------------------------
def test_task_options_ask_for_declared_resources() -> None:
    gpus = {"CPU": 16.0, "GPU": 8.0}
    assert ray_exec.task_options(ONE_GPU, gpus, "auto", "m") == {"num_cpus": 1.0, "num_gpus": 1.0}
    assert ray_exec.task_options(ONE_GPU, gpus, "cuda", "m")["num_gpus"] == 1.0
    assert ray_exec.task_options(ONE_GPU, gpus, "cpu", "m")["num_gpus"] == 0.0
    assert ray_exec.task_options(ONE_GPU, {"CPU": 2.0}, "auto", "m")["num_gpus"] == 0.0  # runs on the CPU
    with pytest.raises(BenchError, match="has none"):
        ray_exec.task_options(ONE_GPU, {"CPU": 2.0}, "cuda", "method x")
    big = Resources(num_cpus=4, num_gpus=0.5, memory=8 << 30, custom=(("a100", 1.0),))
    assert ray_exec.task_options(big, {"GPU": 1.0, "a100": 2.0}, "auto", "m") == {
        "num_cpus": 4, "num_gpus": 0.5, "memory": 8 << 30, "resources": {"a100": 1.0}}
    with pytest.raises(BenchError, match="a100"):
        ray_exec.task_options(big, {"GPU": 1.0}, "auto", "m")


def test_a_task_uses_a_gpu_only_where_it_reserved_one() -> None:
    gpus = {"CPU": 16.0, "GPU": 8.0}
    cpu_only = Resources(num_cpus=1.0)
    # on a GPU node, a task that reserved no GPU runs on the CPU (not on a GPU another task holds)
    assert ray_exec.task_device(ray_exec.task_options(cpu_only, gpus, "auto", "m")) == "cpu"
    assert ray_exec.task_device(ray_exec.task_options(cpu_only, gpus, "cuda", "m")) == "cpu"
    assert ray_exec.task_device(ray_exec.task_options(ONE_GPU, gpus, "auto", "m")) == "cuda"
    assert ray_exec.task_device(ray_exec.task_options(ONE_GPU, gpus, "cpu", "m")) == "cpu"
    assert ray_exec.task_device(ray_exec.task_options(ONE_GPU, {"CPU": 2.0}, "auto", "m")) == "cpu"


def test_metrics_grouped_by_resources() -> None:
    plan = build_plan(["synthetic"], ["bicubic"], ["psnr", "lpips", "ssim"], {}, clips=["pan"])
    groups = [(res, [m.name for m in ms]) for res, ms in ray_exec.metric_groups(plan.datasets[0].metrics)]
    names = {m.name for m in plan.datasets[0].metrics}
    want = [(CPU, ["psnr", "ssim"]), (ONE_GPU, ["lpips"])]
    assert groups == [g for g in want if set(g[1]) <= names]  # lpips is skipped when its weights are absent


def test_without_ray_one_line_install_hint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from mgld_bench.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(BenchError, match=r"pip install 'mgld-bench\[ray\]'"):
        ray_exec.import_ray()
    rc = main(["run", "--executor", "ray", "--out", str(tmp_path / "o"), "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and len(err) == 1 and "pip install" in err[0]
    assert not (tmp_path / "c").exists()


def test_task_body_called_directly_starts_no_ray() -> None:
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("a Ray session is open in this process")
    ray_exec._worker_threads()  # outside a worker: leaves the thread counts alone
    assert not ray.is_initialized()  # ray.get_runtime_context() would have started a local Ray


# -- on a local Ray --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray() -> Any:
    ray = pytest.importorskip("ray")
    ray.cloudpickle.register_pickle_by_value(_ray_methods)  # workers need not import tests/
    ray.init(num_cpus=2, resources={"accel": 1.0}, include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1")
    yield ray
    ray.shutdown()


def _plan(methods: list[tuple[str, Any]] | None = None, clips: list[str] | None = None) -> Plan:
    plan = build_plan(["synthetic"], ["bicubic"], ["psnr", "ssim"], dict(SYNTH), clips=clips)
    if methods is not None:
        plan.methods = [(Ref.of("method", cls.name, opts), cls(**opts)) for cls, opts in methods]
    return plan


def _execute(executor: Any, plan: Plan, root: Path, **kw: Any) -> tuple[local.RunSummary, list[Any], list[Any]]:
    with ResultStore(root / "results.sqlite") as store:
        run_id = store.start_run(["test"], {})
        summary = executor(plan, Cache(root / "cache"), store, run_id, progress=False, **kw)
        clips = sorted(tuple(v for k, v in r.items() if k != "run_id") for r in store.clip_rows())
        frames = store.frame_rows()
    return summary, clips, frames


def _same(a: list[Any], b: list[Any]) -> bool:
    return len(a) == len(b) and all(
        x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
        for ra, rb in zip(a, b, strict=True) for x, y in zip(ra if isinstance(ra, tuple) else ra.values(),
                                                             rb if isinstance(rb, tuple) else rb.values(),
                                                             strict=True)
    )


@pytest.mark.slow
def test_same_store_as_local_and_rerun_resumes(ray: Any, tmp_path: Path) -> None:
    plan = _plan()
    s_local, clips_local, frames_local = _execute(local.execute, plan, tmp_path / "local")
    s_ray, clips_ray, frames_ray = _execute(ray_exec.execute, plan, tmp_path / "ray")
    assert _same(clips_ray, clips_local) and _same(frames_ray, frames_local)
    assert len(clips_ray) == 2 * len(plan.datasets[0].dataset.clip_names())
    assert (s_ray.inferred, s_ray.scored, s_ray.failures) == (s_local.inferred, s_local.scored, [])
    again, clips_again, _ = _execute(ray_exec.execute, plan, tmp_path / "ray")  # everything from the cache
    assert (again.inferred, again.scored, again.infer_cached) == (0, 0, s_ray.inferred)
    assert _same(clips_again, clips_ray)


@pytest.mark.slow
def test_killed_worker_is_retried_and_result_identical(ray: Any, tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.mkdir()
    plan = _plan([(_ray_methods.Probe, {"log": str(log), "kill_once": True})], clips=["pan", "zoom"])
    s_ray, clips_ray, frames_ray = _execute(ray_exec.execute, plan, tmp_path / "ray")
    assert sorted(p.name for p in log.glob("killed-*")) == ["killed-pan", "killed-zoom"]  # both died once
    assert s_ray.failures == [] and s_ray.inferred == 2
    calls = (log / "calls.txt").read_text().split()
    assert calls[::4].count("pan") == 1 and calls[::4].count("zoom") == 1  # each finished once, on retry
    _, clips_local, frames_local = _execute(local.execute, plan, tmp_path / "local")
    assert _same(clips_ray, clips_local) and _same(frames_ray, frames_local) and len(clips_ray) == 4


@pytest.mark.slow
def test_method_error_names_clip_others_finish(ray: Any, tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.mkdir()
    plan = _plan([(_ray_methods.Probe, {"log": str(log), "fail_clip": "zoom"})], clips=["pan", "zoom", "pan-fast"])
    summary, clips, _ = _execute(ray_exec.execute, plan, tmp_path / "a", keep_going=True)
    assert len(summary.failures) == 1
    assert "synthetic/zoom" in summary.failures[0] and "probe failed on purpose" in summary.failures[0]
    assert {row[2] for row in clips} == {"pan", "pan-fast"}
    assert (log / "calls.txt").read_text().split()[::4].count("zoom") == 1  # a real error is not retried
    with pytest.raises(BenchError, match=r"synthetic/zoom.*probe failed on purpose"):
        _execute(ray_exec.execute, plan, tmp_path / "b", keep_going=False)


@pytest.mark.slow
def test_declared_custom_resource_limits_placement(ray: Any, tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.mkdir()
    plan = _plan([(_ray_methods.AccelProbe, {"log": str(log), "sleep": 0.5})], clips=["pan", "zoom", "pan-fast"])
    summary, clips, _ = _execute(ray_exec.execute, plan, tmp_path / "a")
    assert summary.failures == [] and len(clips) == 6
    spans = sorted((float(line.split()[2]), float(line.split()[3])) for line in (log / "calls.txt").open())
    # one unit of "accel" in the cluster: the three jobs never overlap though 2 CPUs are free
    assert all(prev[1] <= nxt[0] for prev, nxt in itertools.pairwise(spans))


@pytest.mark.slow
def test_interrupt_cancels_outstanding_tasks(ray: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "log"
    log.mkdir()
    plan = _plan([(_ray_methods.Probe, {"log": str(log), "sleep": 30.0})], clips=["pan", "zoom"])
    drain = ray_exec._Driver._drain

    def ctrl_c(self: Any, timeout: float) -> None:  # Ctrl-C while the driver waits for running tasks
        drain(self, timeout)
        if timeout > 0:
            raise KeyboardInterrupt

    monkeypatch.setattr(ray_exec._Driver, "_drain", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        _execute(ray_exec.execute, plan, tmp_path / "a")
    deadline = time.monotonic() + 20
    while ray.available_resources().get("CPU", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ray.available_resources().get("CPU", 0) == 2  # both 30 s tasks were cancelled
    assert not (log / "calls.txt").exists()
    assert not list((tmp_path / "a" / "cache").rglob("*.json"))  # nothing half-done in the cache


@pytest.mark.slow
def test_a_worker_reuses_the_run_s_method_instance(ray: Any, tmp_path: Path) -> None:
    """Consecutive clips of a run in one worker are run by one instance of the method (a network
    it loaded is not rebuilt), as in the local loop."""
    plan = _plan([(_ray_methods.InstanceProbe, {"log": str(tmp_path)})])
    summary, _, _ = _execute(ray_exec.execute, plan, tmp_path / "a")
    lines = (tmp_path / "instances.txt").read_text().split("\n")[:-1]
    pids = {line.split()[0] for line in lines}
    assert summary.inferred == len(lines) >= 3 and len(set(lines)) == len(pids)  # one instance per worker


@pytest.mark.slow
def test_execution_record_as_local(ray: Any, tmp_path: Path) -> None:
    """The device and the execution options as used: the same record as the local executor's,
    apart from the Ray executor's own fields (the execution option resolved for the CPU)."""
    plan = _plan([(_ray_methods.BatchedProbe, {"log": str(tmp_path), "batch": 8})], clips=["pan"])
    s_local, _, _ = _execute(local.execute, plan, tmp_path / "local")
    s_ray, _, _ = _execute(ray_exec.execute, plan, tmp_path / "ray")
    assert list(s_local.details["execution"]["methods"].values()) == [{"batch": 1, "kind": "cpu"}]
    assert s_local.details["device"] == "cpu"
    own = {"executor", "retries", "cluster_resources"}
    assert {k: v for k, v in s_ray.details.items() if k not in own} == s_local.details
    again, _, _ = _execute(ray_exec.execute, plan, tmp_path / "ray")  # nothing computed: nothing to record
    assert again.inferred == again.scored == 0 and "execution" not in again.details


@pytest.mark.slow
def test_cli_executor_ray_writes_the_same_csv_and_run_record(ray: Any, tmp_path: Path) -> None:
    from mgld_bench.cli import main

    common = ["run", "--set", "synthetic.size=48", "--clips", "pan", "--no-progress"]
    for executor in ("local", "ray"):
        out, cache = tmp_path / executor, tmp_path / f"cache-{executor}"
        assert main([*common, "--executor", executor, "--out", str(out), "--cache-dir", str(cache)]) == 0
    assert (tmp_path / "ray" / "results.csv").read_text() == (tmp_path / "local" / "results.csv").read_text()
    assert ray.is_initialized()  # a session opened before the run is left open
    runs = {}
    for executor in ("local", "ray"):
        with ResultStore(tmp_path / executor / "results.sqlite", readonly=True) as store:
            (runs[executor],) = store.runs()
    # the run's provenance differs only where the two runs were told apart or the executor speaks
    differs = {"executor", "retries", "cluster_resources", "elapsed_s", "time", "cache_dir", "config"}
    local_prov, ray_prov = runs["local"]["provenance"], runs["ray"]["provenance"]
    assert {k: v for k, v in ray_prov.items() if k not in differs} == {
        k: v for k, v in local_prov.items() if k not in differs}
    assert ray_prov["device"] == local_prov["device"] == "cpu" and "execution" in ray_prov
    assert ray_prov["executor"] == "ray" and "executor" not in local_prov
