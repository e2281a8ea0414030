"""What a device changes in ``mgld``'s inference key, and what ``mgld`` declares to a scheduler.

``precision=auto`` is fp16 autocast on CUDA and fp32 on the CPU: the two outputs differ, so the
inference key holds the device kind and the precision resolved for it (the generic
``Method.device_dependent`` / ``device_options`` hook, read by ``runner.jobs.infer_job``).  The
Ray plan reads ``resources`` and ``chunk_frames``; checked here with a stand-in for Ray (no
cluster is started, nothing is computed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mgld_bench.methods.mgld.method import MGLD, autocast_factory
from mgld_bench.methods.mgld.sd import MGLDGuidedSD, SDx4Upscaler
from mgld_bench.runner import device as device_mod
from mgld_bench.runner import ray_exec
from mgld_bench.runner.jobs import infer_job, infer_key
from mgld_bench.specs import ONE_GPU, Ref
from mgld_bench.store.cache import Cache
from tests.fakes import NearestMethod, make_clip


@pytest.fixture
def clip():
    return make_clip(np.random.default_rng(0), n=12, h=8, w=8)


def _identity(method, clip, device: str) -> dict[str, Any]:
    ref = Ref.of("method", method.name, method.options)
    return json.loads(infer_job(method, ref, Ref.of("dataset", clip.dataset), clip, 0, device).identity)


def test_cpu_and_cuda_runs_of_mgld_have_different_keys(clip) -> None:
    m = MGLD()
    assert infer_key(m, clip, 0, "cpu") != infer_key(m, clip, 0, "cuda")
    assert infer_key(m, clip, 0, "cuda") == infer_key(m, clip, 0, "cuda:1")  # the kind, not the index
    assert infer_key(m, clip, 0, "cpu") == infer_key(MGLD(), clip, 0, "cpu")  # same device, same key
    assert _identity(m, clip, "cpu")["device"] == {"kind": "cpu", "options": {"precision": "fp32"}}
    assert _identity(m, clip, "cuda")["device"] == {"kind": "cuda", "options": {"precision": "fp16"}}
    forced = MGLD(precision="bf16")
    assert _identity(forced, clip, "cpu")["device"]["options"] == {"precision": "bf16"}
    # a forced precision still runs differently on another device kind
    assert infer_key(forced, clip, 0, "cpu") != infer_key(forced, clip, 0, "cuda")


def test_auto_is_resolved_once_and_a_simulated_gpu_gives_the_cuda_key(clip, monkeypatch) -> None:
    m = MGLD()
    assert infer_key(m, clip, 0, "auto") == infer_key(m, clip, 0, device_mod.device_kind("auto"))
    monkeypatch.setattr(device_mod, "_resolve", lambda device: "cuda:0")  # torch sees a GPU
    assert device_mod.device_kind("auto") == "cuda"
    assert infer_key(m, clip, 0, "auto") == infer_key(m, clip, 0, "cuda") != infer_key(m, clip, 0, "cpu")


def test_the_run_resolves_the_precision_where_the_key_does() -> None:
    for kind, option in (("cpu", "auto"), ("cuda", "auto"), ("cpu", "bf16"), ("cuda", "fp32")):
        m = MGLD(precision=option)
        assert autocast_factory(kind, option)[1] == m.device_options(kind)["precision"]
    assert (autocast_factory("cpu", "auto")[1], autocast_factory("cuda", "auto")[1]) == ("fp32", "fp16")


def test_sd_methods_key_the_fp16_weights_they_use(clip) -> None:
    for cls in (MGLDGuidedSD, SDx4Upscaler):
        m = cls(model="/nowhere")
        assert m.device_options("cuda") == {"fp16": True} and m.device_options("cpu") == {"fp16": False}
        assert cls(model="/nowhere", fp16=False).device_options("cuda") == {"fp16": False}
        m._digest = "x"  # no model folder is read
        assert infer_key(m, clip, 0, "cpu") != infer_key(m, clip, 0, "cuda")


def test_methods_without_the_hook_keep_one_key_for_every_device(clip) -> None:
    m = NearestMethod()
    assert infer_key(m, clip, 0, "cpu") == infer_key(m, clip, 0, "cuda")
    assert "device" not in _identity(m, clip, "cuda")


# -- what the Ray executor reads -------------------------------------------------------------------
def test_mgld_declares_a_gpu_and_its_chunk() -> None:
    assert MGLD.resources == ONE_GPU
    assert MGLD().chunk_frames == 5 and MGLD(chunk=3).chunk_frames == 3  # the chunk option itself


class _FakeTask:
    def __init__(self, name: str, calls: list) -> None:
        self.name, self.calls = name, calls

    def options(self, **opts: Any) -> _FakeTask:
        self.opts = opts
        return self

    def remote(self, *args: Any) -> object:
        self.calls.append((self.name, self.opts, args))
        return object()


class _FakeRay:
    """Only what ``_Driver`` touches before a task runs."""

    def __init__(self, cluster: dict[str, float]) -> None:
        self.cluster, self.calls = cluster, []

    def cluster_resources(self) -> dict[str, float]:
        return dict(self.cluster)

    def remote(self, **_: Any):
        def wrap(fn):
            return _FakeTask(fn.__name__.strip("_"), self.calls)

        return wrap

    def put(self, obj: Any) -> Any:
        return obj


@pytest.mark.parametrize(("cluster", "device", "gpus", "kind"), [
    ({"CPU": 8.0, "GPU": 2.0}, "auto", 1.0, "cuda"),
    ({"CPU": 8.0}, "auto", 0.0, "cpu"),
    ({"CPU": 8.0, "GPU": 2.0}, "cpu", 0.0, "cpu"),
])
def test_the_ray_plan_splits_mgld_into_5_frame_gpu_chunks(tmp_path: Path, monkeypatch, clip, cluster, device,
                                                            gpus, kind) -> None:
    from mgld_bench.runner.plan import build_plan
    from mgld_bench.store.results import ResultStore

    monkeypatch.setattr(ray_exec, "_TASKS", {})  # the stand-in's tasks, not a real Ray's
    fake = _FakeRay(cluster)
    plan = build_plan(["synthetic"], ["bicubic"], ["psnr"], {}, clips=["pan"])
    driver = ray_exec._Driver(fake, plan, Cache(tmp_path / "c"), ResultStore(tmp_path / "s"), "r", device, 0,
                              False, False, lambda **_: None)
    method = MGLD()
    driver.bar = type("Bar", (), {"set_postfix_str": lambda self, s: None})()
    job = infer_job(method, Ref.of("method", "mgld"), plan.datasets[0].ref, clip, 0, driver.device_kind(method))
    assert json.loads(job.identity)["device"]["kind"] == kind
    driver._start(ray_exec._Unit(plan.datasets[0], method, clip, job))
    chunks = [c for c in fake.calls if c[0] == "infer_chunk"]
    assert [(a[2], a[3]) for _, _, a in chunks] == [(0, 5), (5, 10), (10, 12)]
    assert all(opts["num_gpus"] == gpus for _, opts, _ in chunks)
    assert [c[0] for c in fake.calls].count("join") == 1
