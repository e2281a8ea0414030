"""Execution-only options (``batch_size`` of learned metrics): checked like any option, recorded in
the run's provenance, but in no label, cache key or stored parameter.  Values against pyiqa
called directly with one frame per call."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import torch

from mgld_bench.cli import main
from mgld_bench.errors import BenchError
from mgld_bench.frames import ArrayFrames
from mgld_bench.options import Configurable, Options
from mgld_bench.protocol import DEFAULT
from mgld_bench.registry import METRICS
from mgld_bench.runner.jobs import run_score_job, score_job
from mgld_bench.specs import InferJob, Ref
from mgld_bench.store.cache import Cache
from mgld_bench.weights import DISTS_HEAD, LPIPS_ALEX_HEAD, VGG16
from tests.fakes import clip_from_gt, smooth_frames, write_lpips_alex_weights


def _save(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)


def test_batch_size_is_checked_but_not_in_label_identity_or_key() -> None:
    one, eight = METRICS.create("lpips", batch_size=1), METRICS.create("lpips", batch_size=8)
    assert one.label == eight.label == "lpips"
    assert one.identity() == eight.identity() and "batch_size" not in one.identity()["options"]
    assert eight.options["batch_size"] == 8 and eight.execution() == {"batch_size": 8, "gt_cache": "auto"}
    gt = smooth_frames(2, 32, 32, seed=1)
    clip = clip_from_gt(gt)
    infer = InferJob(Ref("method", "frames"), Ref("dataset", clip.dataset), clip.name, "{}", (), "null",
                     clip.lr.digest(), clip.scale, None)
    sr = ArrayFrames(gt)
    keys = [score_job(infer, sr.digest(), clip, DEFAULT, [m]) for m in (one, eight)]
    assert keys[0].metric_key(keys[0].metrics[0]) == keys[1].metric_key(keys[1].metrics[0])
    # an option that changes values still renames
    assert METRICS.create("lpips", model="lpips-vgg").label != "lpips"


def test_typo_and_bad_value_fail_in_one_line() -> None:
    with pytest.raises(BenchError) as err:
        METRICS.create("lpips", batch_sise=8)
    assert "batch_sise (did you mean batch_size?)" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(BenchError) as err:
        METRICS.create("lpips", batch_size=0)
    assert "batch_size must be >= 1" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(BenchError, match=r"cannot read .two. as int"):
        METRICS.create("dists", batch_size="two")


def test_declared_on_an_options_dataclass_and_unknown_names_refused() -> None:
    @dataclasses.dataclass(frozen=True, eq=False)
    class TileOptions(Options):
        size: int = 3
        workers: int = dataclasses.field(default=2, metadata={"execution": True})

    class Tiled(Configurable):
        name = "tiled"
        options_type = TileOptions

    a, b = Tiled(workers=5), Tiled()
    assert a.identity() == b.identity() == {"name": "tiled", "version": 1, "options": {"size": 3}}
    assert a.execution() == {"workers": 5}

    with pytest.raises(TypeError, match="not an option"):
        class Wrong(Configurable):
            defaults: ClassVar[dict[str, int]] = {"n": 1}
            execution_options = ("batch",)


@pytest.mark.parametrize("name", ["lpips", pytest.param("dists", marks=pytest.mark.slow)])
def test_batched_values_equal_pyiqa_one_frame_at_a_time(name: str, wdir: Path, tmp_path: Path) -> None:
    import pyiqa
    import torchvision

    write_lpips_alex_weights(wdir)
    _save(torchvision.models.vgg16(weights=None).state_dict(), VGG16.path(wdir))
    _save({"alpha": torch.rand(1, 1475, 1, 1), "beta": torch.rand(1, 1475, 1, 1)}, DISTS_HEAD.path(wdir))
    gt = smooth_frames(3, 48, 64, seed=1)
    rng = np.random.default_rng(2)
    out = [np.clip(f.astype(np.int16) + rng.integers(-20, 21, f.shape), 0, 255).astype(np.uint8) for f in gt]
    clip = clip_from_gt(gt)
    metric = METRICS.create(name, batch_size=3)
    infer = InferJob(Ref("method", "frames"), Ref("dataset", clip.dataset), clip.name, "{}", (), "null",
                     clip.lr.digest(), clip.scale, None)
    sr = ArrayFrames(out)
    res = run_score_job(score_job(infer, sr.digest(), clip, DEFAULT, [metric]), sr, clip,
                        Cache(tmp_path / "cache"), DEFAULT, "cpu", [metric])[name][0]

    torch.hub.set_dir(str(wdir / "hub"))
    head = {"lpips": LPIPS_ALEX_HEAD, "dists": DISTS_HEAD}[name]
    direct = pyiqa.create_metric(name, device="cpu", pretrained_model_path=str(head.path(wdir)))

    def t(f: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255.0

    want = [float(direct(t(o), t(g))) for o, g in zip(out, gt, strict=True)]
    tol = metric.facts.tolerance
    np.testing.assert_allclose([res.frames[i] for i in range(3)], want, rtol=tol.rel, atol=tol.abs)


def test_second_run_with_other_batch_size_computes_nothing(wdir: Path, tmp_path: Path, monkeypatch) -> None:
    from mgld_bench.metrics.learned import LearnedMetric

    write_lpips_alex_weights(wdir)
    batches: list[int] = []
    real = LearnedMetric.score_batch

    def counted(metric, srs, gts):  # type: ignore[no-untyped-def]
        batches.append(len(srs))
        return real(metric, srs, gts)

    monkeypatch.setattr(LearnedMetric, "score_batch", counted)

    def run(batch: int) -> None:
        assert main(["run", "--datasets", "synthetic", "--set", "synthetic.frames=3", "--set", "synthetic.size=64",
                     "--methods", "bicubic", "--metrics", "lpips", "--set", f"lpips.batch_size={batch}",
                     "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "out"), "--no-progress",
                     "--device", "cpu"]) == 0

    run(1)
    assert batches == [1] * 9  # 3 clips of 3 frames
    run(8)
    assert batches == [1] * 9  # nothing computed: the same cache key
    with sqlite3.connect(tmp_path / "out" / "results.sqlite") as db:
        rows = db.execute("SELECT metric, protocol, params FROM clip_scores").fetchall()
        runs = [json.loads(p) for (p,) in db.execute("SELECT provenance FROM runs ORDER BY started")]
    assert {(m, p) for m, p, _ in rows} == {("lpips", "default")} and len(rows) == 3  # one label, one protocol
    assert "batch_size" not in json.loads(rows[0][2])["options"]
    assert [r["execution"]["metrics"]["lpips"]["batch_size"] for r in runs] == [1, 8]
    # a run that computes records the batch size as used on its device (the default: 1 on CPU)
    monkeypatch.setattr(LearnedMetric, "score_batch", real)
    assert main(["run", "--datasets", "synthetic", "--set", "synthetic.frames=3", "--set", "synthetic.size=48",
                 "--methods", "bicubic", "--metrics", "lpips", "--cache-dir", str(tmp_path / "cache"),
                 "--out", str(tmp_path / "out2"), "--no-progress", "--device", "cpu"]) == 0
    with sqlite3.connect(tmp_path / "out2" / "results.sqlite") as db:
        (prov,) = db.execute("SELECT provenance FROM runs").fetchone()
    assert json.loads(prov)["execution"]["metrics"] == {"lpips": {"batch_size": 1, "gt_cache": "auto"}}


def test_rows_of_older_stores_with_batch_size_share_the_column() -> None:
    from mgld_bench.report.aggregate import canonical_json

    old = '{"name": "lpips", "version": 1, "options": {"model": "lpips", "backend": "pyiqa", "batch_size": 4}}'
    new = '{"name": "lpips", "version": 1, "options": {"model": "lpips", "backend": "pyiqa"}}'
    assert canonical_json(old) == canonical_json(new)
    other = '{"name": "lpips", "version": 1, "options": {"model": "lpips-vgg", "backend": "pyiqa"}}'
    assert canonical_json(other) != canonical_json(new)
    musiq = '{"name": "pyiqa:musiq", "version": 1, "options": {"model": "musiq", "batch_size": 2}}'
    assert "batch_size" in canonical_json(musiq)  # pyiqa:NAME keeps it
