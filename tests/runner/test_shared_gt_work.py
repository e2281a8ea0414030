"""GT-side work shared by the outputs of one clip (issue #15): LPIPS/DISTS run their network on
each GT frame once for every method, GT flows are computed once per run.  References: pyiqa
called directly on each (output, GT) pair, and counts of network runs and flow estimates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mgld_bench.frames import ArrayFrames
from mgld_bench.protocol import DEFAULT
from mgld_bench.registry import METRICS
from mgld_bench.runner.jobs import run_score_jobs, score_job
from mgld_bench.specs import InferJob, Ref
from mgld_bench.store.cache import Cache
from mgld_bench.weights import DISTS_HEAD, LPIPS_ALEX_HEAD, VGG16
from tests.fakes import clip_from_gt, noisy_frames, smooth_frames, write_lpips_alex_weights


def _save(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)


def _jobs(clip, outputs, metrics):
    infer = InferJob(Ref("method", "frames"), Ref("dataset", clip.dataset), clip.name, "{}", (), "null",
                     clip.lr.digest(), clip.scale, None)
    seqs = [ArrayFrames(o) for o in outputs]
    return [(score_job(infer, s.digest(), clip, DEFAULT, metrics), s) for s in seqs]




def test_learned_fr_metrics_run_each_gt_frame_once_for_three_outputs(wdir: Path, tmp_path: Path) -> None:
    import pyiqa
    import torchvision

    from mgld_bench.metrics.backends.base import load_model

    write_lpips_alex_weights(wdir)
    _save(torchvision.models.vgg16(weights=None).state_dict(), VGG16.path(wdir))
    _save({"alpha": torch.rand(1, 1475, 1, 1), "beta": torch.rand(1, 1475, 1, 1)}, DISTS_HEAD.path(wdir))
    gt = smooth_frames(3, 48, 64, seed=1)
    outputs = [noisy_frames(gt, seed) for seed in (2, 3, 4)]
    clip = clip_from_gt(gt)
    metrics = [METRICS.create("lpips"), METRICS.create("dists")]
    results = run_score_jobs(_jobs(clip, outputs, metrics), clip, Cache(tmp_path / "cache"), DEFAULT, "cpu", metrics)

    models = {m.name: load_model(m.spec(), m.options["backend"], "cpu") for m in metrics}
    assert {k: m.reference_runs for k, m in models.items()} == {"lpips": 3, "dists": 3}  # not 9: once per GT frame
    assert all(m._held is None for m in models.values())  # released at the end of the clip

    torch.hub.set_dir(str(wdir / "hub"))
    direct = {name: pyiqa.create_metric(name, device="cpu", pretrained_model_path=str(wf.path(wdir)))
              for name, wf in (("lpips", LPIPS_ALEX_HEAD), ("dists", DISTS_HEAD))}

    def t(f: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255.0

    for out, res in zip(outputs, results, strict=True):
        assert isinstance(res, dict)
        for name, model in direct.items():
            want = [float(model(t(o), t(g))) for o, g in zip(out, gt, strict=True)]
            got = [res[name][0].frames[i] for i in range(3)]
            # channels-last kernels move DISTS (= 1 - sum, float32) by one ulp of 1.0 (6e-8);
            # declared tolerance 1e-3
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=2e-7)


def test_no_flow_is_computed_twice_in_one_run(tmp_path: Path, monkeypatch) -> None:
    import mgld_bench.flow.cached as cached

    calls: list[tuple[str, bytes, bytes]] = []
    real = cached.estimate_flow

    def counting(a, b, backend, device="cpu"):
        calls.append((backend, cached.frame_digest(a).encode(), cached.frame_digest(b).encode()))
        return real(a, b, backend, device)

    monkeypatch.setattr(cached, "estimate_flow", counting)
    gt = smooth_frames(4, 64, 80, seed=5)
    outputs = [noisy_frames(gt, seed) for seed in (6, 7)]
    clip = clip_from_gt(gt)
    metrics = [METRICS.create("warping_error"), METRICS.create("tof", tecogan_crop=False)]
    results = run_score_jobs(_jobs(clip, outputs, metrics), clip, Cache(tmp_path / "cache"), DEFAULT, "cpu", metrics)
    assert all(isinstance(r, dict) for r in results)
    assert len(calls) == len(set(calls))  # no pair of frames sent twice to the same backend
    by_backend = {b: sum(1 for c in calls if c[0] == b) for b in {c[0] for c in calls}}
    # warping error: GT flows both ways, 3 pairs, once for both outputs; tOF: 3 GT + 3 per output
    assert by_backend == {"dis-medium": 6, "farneback": 3 + 2 * 3}


def test_tlp_scores_each_gt_pair_once_for_every_method_and_run(wdir: Path, tmp_path: Path, monkeypatch) -> None:
    """tLP's LPIPS of consecutive GT frames is computed once per pair for all outputs of the
    clip, and read from the cache by a later run; the values equal pyiqa's LPIPS called on each
    pair directly (TecoGAN centre crop)."""
    import pyiqa

    from mgld_bench.metrics.backends.base import IQAModel
    from mgld_bench.metrics.functional.warping import tecogan_crop

    write_lpips_alex_weights(wdir)
    pairs_seen: list[bytes] = []
    real = IQAModel.score

    def counting(self, distorted, reference=None, keep_reference=True, stored=None):
        pairs_seen.extend(np.asarray(d).tobytes() + np.asarray(r).tobytes()
                          for d, r in zip(distorted, reference or [], strict=True))
        return real(self, distorted, reference, keep_reference, stored)

    monkeypatch.setattr(IQAModel, "score", counting)
    gt = smooth_frames(4, 64, 80, seed=11)
    outputs = [noisy_frames(gt, seed) for seed in (12, 13, 14)]
    clip = clip_from_gt(gt)
    metrics = [METRICS.create("tlp")]
    cache = Cache(tmp_path / "cache")
    results = run_score_jobs(_jobs(clip, outputs[:2], metrics), clip, cache, DEFAULT, "cpu", metrics)
    crop = [tecogan_crop(f) for f in gt]
    gt_pairs = {crop[t].tobytes() + crop[t + 1].tobytes() for t in range(3)}
    assert sum(p in gt_pairs for p in pairs_seen) == 3  # not 6: once for both outputs
    assert len(pairs_seen) == 3 + 2 * 3

    pairs_seen.clear()  # a later run adding a third output: only its own pairs are scored
    results += run_score_jobs(_jobs(clip, outputs[2:], metrics), clip, cache, DEFAULT, "cpu", metrics)
    assert len(pairs_seen) == 3 and not any(p in gt_pairs for p in pairs_seen)

    torch.hub.set_dir(str(wdir / "hub"))
    lp = pyiqa.create_metric("lpips", device="cpu", pretrained_model_path=str(LPIPS_ALEX_HEAD.path(wdir)))

    def d(a: np.ndarray, b: np.ndarray) -> float:
        t = [torch.from_numpy(tecogan_crop(f)).permute(2, 0, 1)[None].float() / 255.0 for f in (a, b)]
        return float(lp(t[0], t[1]))

    for out, res in zip(outputs, results, strict=True):
        assert isinstance(res, dict)
        want = [100 * abs(d(gt[t], gt[t + 1]) - d(out[t], out[t + 1])) for t in range(3)]
        got = [res["tlp"][0].frames[t] for t in range(3)]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
