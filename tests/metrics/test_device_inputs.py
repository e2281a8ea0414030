"""Inputs of learned metrics on the device: uint8 frames uploaded and converted there give the CPU
conversion bit for bit (checked on the CPU, the code is device-generic, and on CUDA where there is
one); batches of 4 with GT features shared across outputs give pyiqa's one-frame values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mgld_bench.frames import ArrayFrames, uint8_to_unit
from mgld_bench.metrics.backends import base
from mgld_bench.metrics.backends.base import frames_to_tensor, load_model
from mgld_bench.protocol import DEFAULT
from mgld_bench.registry import METRICS
from mgld_bench.runner.jobs import run_score_jobs, score_job
from mgld_bench.specs import InferJob, Ref
from mgld_bench.store.cache import Cache
from mgld_bench.weights import LPIPS_ALEX_HEAD
from tests.fakes import clip_from_gt, noise_frames, smooth_frames, write_lpips_alex_weights

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _pyiqa_input(f: np.ndarray) -> torch.Tensor:
    """What a pyiqa user writes (the reference conversion)."""
    return torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255.0


def test_lookup_equals_division_for_every_byte_value() -> None:
    every = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1).repeat(3, axis=3)
    got = uint8_to_unit(torch.from_numpy(every)).numpy()
    want = (np.arange(256, dtype=np.float32) / np.float32(255.0)).reshape(16, 16)  # IEEE float32 division
    assert got.dtype == np.float32 and got.shape == (1, 3, 16, 16)
    for c in range(3):
        assert np.array_equal(got[0, c], want)


def test_upload_path_is_bit_identical_to_the_cpu_path(monkeypatch: pytest.MonkeyPatch) -> None:
    frames = noise_frames(3, 17, 23, seed=4)
    monkeypatch.setattr(base, "UPLOAD_UINT8", False)
    cpu = frames_to_tensor(frames, "cpu")
    monkeypatch.setattr(base, "UPLOAD_UINT8", True)
    up = frames_to_tensor(frames, "cpu")
    assert up.dtype == torch.float32 and up.shape == (3, 3, 17, 23) and up.is_contiguous()
    assert torch.equal(up, cpu)
    assert torch.equal(up, torch.cat([_pyiqa_input(f) for f in frames]))
    # float frames keep the clamped float path on every device
    floats = [f.astype(np.float32) / 255 for f in frames]
    assert torch.equal(frames_to_tensor(floats, "cpu"), cpu)


def _score_two_outputs(gt: list[np.ndarray], outs: list[list[np.ndarray]], cache: Cache, device: str,
                       **options) -> list[list[float]]:
    clip = clip_from_gt(gt)
    metric = METRICS.create("lpips", **options)
    jobs = []
    for k, out in enumerate(outs):
        infer = InferJob(Ref("method", f"m{k}"), Ref("dataset", clip.dataset), clip.name, "{}", (), "null",
                         clip.lr.digest(), clip.scale, None)
        sr = ArrayFrames(out)
        jobs.append((score_job(infer, sr.digest(), clip, DEFAULT, [metric]), sr))
    res = run_score_jobs(jobs, clip, cache, DEFAULT, device, [metric])
    return [[r["lpips"][0].frames[i] for i in range(len(gt))] for r in res]  # type: ignore[index]


@pytest.mark.parametrize("upload", [False, True])
def test_batch_4_with_shared_gt_features_equals_pyiqa_one_frame_at_a_time(
        upload: bool, wdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyiqa

    monkeypatch.setattr(base, "UPLOAD_UINT8", upload)
    write_lpips_alex_weights(wdir)
    gt = smooth_frames(5, 40, 56, seed=1)  # 5 frames: one batch of 4 and one of 1
    rng = np.random.default_rng(2)
    outs = [[np.clip(f.astype(np.int16) + rng.integers(-s, s + 1, f.shape), 0, 255).astype(np.uint8) for f in gt]
            for s in (8, 20)]
    model = load_model(METRICS.create("lpips").spec(), METRICS.create("lpips").options["backend"], "cpu")
    runs = model.reference_runs
    four = _score_two_outputs(gt, outs, Cache(tmp_path / "c4"), "cpu", batch_size=4, gt_cache="off")
    assert model.reference_runs == runs + 2  # two GT batches, shared by both outputs
    one = _score_two_outputs(gt, outs, Cache(tmp_path / "c1"), "cpu", batch_size=1, gt_cache="off")
    assert model.reference_runs == runs + 2 + 5

    torch.hub.set_dir(str(wdir / "hub"))
    direct = pyiqa.create_metric("lpips", device="cpu", pretrained_model_path=str(LPIPS_ALEX_HEAD.path(wdir)))
    tol = METRICS.create("lpips").facts.tolerance
    for k, out in enumerate(outs):
        want = [float(direct(_pyiqa_input(o), _pyiqa_input(g))) for o, g in zip(out, gt, strict=True)]
        np.testing.assert_allclose(four[k], want, rtol=tol.rel, atol=tol.abs)
        np.testing.assert_allclose(one[k], want, rtol=tol.rel, atol=tol.abs)
        np.testing.assert_allclose(four[k], one[k], rtol=tol.rel, atol=tol.abs)


# -- on a CUDA device (skipped without one; benchmarks/gpu_checks.sh runs them) ----------------
@pytest.mark.cuda
@CUDA
def test_cuda_conversion_is_bit_identical_to_the_cpu_one() -> None:
    from mgld_bench.flow import raft

    frames = noise_frames(4, 31, 45, seed=6)
    cpu = frames_to_tensor(frames, "cpu")
    got = frames_to_tensor(frames, "cuda")
    assert got.device.type == "cuda" and torch.equal(got.cpu(), cpu)
    assert torch.equal(raft._to_tensor(frames[0], "cuda").cpu(), raft._to_tensor(frames[0], "cpu"))


@pytest.mark.cuda
@CUDA
def test_cuda_batch_4_equals_cpu_batch_1_within_tolerance(wdir: Path, tmp_path: Path) -> None:
    write_lpips_alex_weights(wdir)
    gt = smooth_frames(5, 64, 80, seed=3)
    rng = np.random.default_rng(4)
    outs = [[np.clip(f.astype(np.int16) + rng.integers(-12, 13, f.shape), 0, 255).astype(np.uint8) for f in gt]
            for _ in range(2)]
    gpu = _score_two_outputs(gt, outs, Cache(tmp_path / "g"), "cuda", batch_size=4)  # gt_cache=auto: on
    cpu = _score_two_outputs(gt, outs, Cache(tmp_path / "c"), "cpu", batch_size=1)
    tol = METRICS.create("lpips").facts.tolerance
    np.testing.assert_allclose(gpu, cpu, rtol=tol.rel, atol=tol.abs)
