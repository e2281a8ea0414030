"""GT-side LPIPS/DISTS features kept across runs in the cache (``gt_cache``, namespace ``gtfeat``).
References: pyiqa called directly per (output, GT) pair; the scores with the cache off; counts of
network runs on GT frames."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from mgld_bench.frames import ArrayFrames
from mgld_bench.metrics.backends.base import load_model
from mgld_bench.protocol import DEFAULT
from mgld_bench.registry import METRICS
from mgld_bench.runner.jobs import run_score_job, score_job
from mgld_bench.specs import InferJob, Ref
from mgld_bench.store import maintenance
from mgld_bench.store.cache import Cache
from mgld_bench.weights import LPIPS_ALEX_HEAD
from tests.fakes import clip_from_gt, noisy_frames, smooth_frames, write_lpips_alex_weights

GT = smooth_frames(3, 48, 64, seed=1)
CLIP = clip_from_gt(GT)


def _score(cache: Cache, out: list[np.ndarray], **options: str) -> list[float]:
    metric = METRICS.create("lpips", **options)
    infer = InferJob(Ref("method", "frames"), Ref("dataset", CLIP.dataset), CLIP.name, "{}", (), "null",
                     CLIP.lr.digest(), CLIP.scale, None)
    sr = ArrayFrames(out)
    res = run_score_job(score_job(infer, sr.digest(), CLIP, DEFAULT, [metric]), sr, CLIP, cache, DEFAULT, "cpu",
                        [metric])
    return [res["lpips"][0].frames[i] for i in range(len(out))]


def _entries(cache: Cache) -> list[Path]:
    return sorted((cache.root / "gtfeat").glob("*/*.arrays"))


def test_put_get_arrays_round_trip_exact_and_refuses_damage(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((1, 3, 5, 7)).astype(np.float32), np.arange(5, dtype=np.int64),
              np.zeros((0, 2), np.float32)]
    path = cache.put_arrays("gtfeat", "ab" * 32, arrays, {"list": [None, None, None]})
    got, meta = cache.get_arrays("gtfeat", "ab" * 32)
    assert meta == {"list": [None, None, None]}
    for a, b in zip(arrays, got, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    data = bytearray(path.read_bytes())
    data[-40 - 1] ^= 1  # one bit of the payload
    path.write_bytes(bytes(data))
    assert cache.get_arrays("gtfeat", "ab" * 32) is None and not path.exists()
    path = cache.put_arrays("gtfeat", "ab" * 32, arrays)
    path.write_bytes(path.read_bytes()[:-8])  # partial
    assert cache.get_arrays("gtfeat", "ab" * 32) is None and not path.exists()


def test_second_run_reads_gt_features_and_gives_the_same_values(wdir: Path, tmp_path: Path) -> None:
    import pyiqa

    write_lpips_alex_weights(wdir)
    cache = Cache(tmp_path / "cache")
    first, second = noisy_frames(GT, 2), noisy_frames(GT, 3)
    without = _score(Cache(tmp_path / "nocache"), second, gt_cache="off")
    assert not (tmp_path / "nocache" / "gtfeat").exists()
    model = load_model(METRICS.create("lpips").spec(), METRICS.create("lpips").options["backend"], "cpu")
    runs = model.reference_runs  # the GT frames of the run without the cache
    _score(cache, first)  # gt_cache=auto: on for LPIPS (alex)
    assert model.reference_runs == runs + 3 and len(_entries(cache)) == 3
    got = _score(cache, second)  # a later run adding another output: no GT frame through the network
    assert model.reference_runs == runs + 3
    assert got == without  # bit-identical to computing the features
    torch.hub.set_dir(str(wdir / "hub"))
    direct = pyiqa.create_metric("lpips", device="cpu", pretrained_model_path=str(LPIPS_ALEX_HEAD.path(wdir)))

    def t(f: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255.0

    want = [float(direct(t(o), t(g))) for o, g in zip(second, GT, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)

    # a damaged entry is recomputed (and rewritten), never used
    victim = _entries(cache)[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x40
    victim.write_bytes(bytes(data))
    third = noisy_frames(GT, 4)
    clean = _score(Cache(tmp_path / "nocache"), third, gt_cache="off")
    runs = model.reference_runs
    assert _score(cache, third) == clean
    assert model.reference_runs == runs + 1 and len(_entries(cache)) == 3  # only the damaged one


def test_off_by_default_for_dists_and_lpips_vgg_and_not_in_identity() -> None:
    assert not METRICS.create("dists").keeps_gt_features()
    assert not METRICS.create("lpips-vgg").keeps_gt_features()
    assert METRICS.create("dists", gt_cache="on").keeps_gt_features()
    assert METRICS.create("lpips").keeps_gt_features()
    assert not METRICS.create("lpips", gt_cache="off").keeps_gt_features()
    assert METRICS.create("lpips", gt_cache="off").label == "lpips"
    assert METRICS.create("musiq").keeps_gt_features() is False


@pytest.mark.parametrize("how", ["age", "size"])
def test_cache_info_shows_and_prune_removes_gt_features(wdir: Path, tmp_path: Path, how: str) -> None:
    write_lpips_alex_weights(wdir)
    cache = Cache(tmp_path / "cache")
    _score(cache, noisy_frames(GT, 2))
    totals = {t.kind: t for t in maintenance.info(cache.root)}
    assert totals["gtfeat"].count == 3 and totals["gtfeat"].size == sum(p.stat().st_size for p in _entries(cache))
    assert "GT" in totals["gtfeat"].description
    old = time.time() - 10 * 86400
    for p in _entries(cache):
        os.utime(p, (old, old))
    plan = (maintenance.plan_prune(cache.root, older_than_days=5) if how == "age"
            else maintenance.plan_prune(cache.root, max_size=0))
    assert sum(1 for i in plan.items if i.kind == "gtfeat") == 3
    maintenance.apply_prune(plan)
    assert _entries(cache) == []
