"""DOVER: the port against the official implementation's output (tests/reference/dover/)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from mgld_bench.metrics.dover_arch import DOVERNet, fuse
from mgld_bench.metrics.functional import dover_views as dv
from tests.metrics._dover_fixture import CASES, reference_frames, reference_weights

FIXTURE = json.loads((Path(__file__).parents[1] / "reference" / "dover" / "dover_official.json").read_text())


@pytest.fixture(scope="module")
def net() -> DOVERNet:
    torch.manual_seed(0)
    model = DOVERNet().eval()
    state = model.state_dict()
    weights = {k: torch.from_numpy(v) for k, v in reference_weights(state).items()}
    model.load_state_dict({k: weights.get(k, v) for k, v in state.items()}, strict=True)
    return model


def test_state_dict_names_and_shapes_equal_the_official_model() -> None:
    state = DOVERNet().state_dict()
    assert {k: list(v.shape) for k, v in state.items()} == FIXTURE["state_dict"]
    ints = b"".join(state[k].numpy().astype(np.int64).tobytes() for k in sorted(state)
                    if not state[k].is_floating_point())
    assert hashlib.sha256(ints).hexdigest() == FIXTURE["int_buffers_sha256"]


def _case(name: str) -> tuple[list[np.ndarray], dv.DoverSampling, dict]:
    n, h, w, seed = CASES[name]["frames"]
    return reference_frames(n, h, w, seed), dv.DoverSampling(**CASES[name]["sampling"]), FIXTURE["cases"][name]


def _views(frames: list[np.ndarray], s: dv.DoverSampling, rec: dict) -> dict:
    return dv.build_views(frames, s, np.array(rec["technical_offsets"]), np.array(rec["aesthetic_offsets"]),
                          np.array(rec["fragment_offsets_h"]), np.array(rec["fragment_offsets_w"]))


@pytest.mark.parametrize("name", ["small", "upsample", "official"])
def test_frame_indices_and_views_equal_the_official_sampling(name: str) -> None:
    frames, s, rec = _case(name)
    n = len(frames)
    assert dv.technical_indices(n, s, np.array(rec["technical_offsets"])).tolist() == rec["technical_indices"]
    assert dv.aesthetic_indices(n, s, np.array(rec["aesthetic_offsets"])).tolist() == rec["aesthetic_indices"]
    if name == "official":
        return  # the full-size views are checked by the slow score test
    views = _views(frames, s, rec)
    for k in ("technical", "aesthetic"):
        v = views[k].double()
        assert list(v.shape) == rec[f"{k}_view_shape"]
        assert float(v.sum()) == pytest.approx(rec[f"{k}_view_sum"], rel=1e-9)
        assert float((v**2).sum()) == pytest.approx(rec[f"{k}_view_sumsq"], rel=1e-9)


def _check_scores(net: DOVERNet, name: str) -> None:
    frames, s, rec = _case(name)
    views = _views(frames, s, rec)
    raw = {k: net.branch(k, views[k]) for k in ("technical", "aesthetic")}
    for k in raw:
        assert raw[k] == pytest.approx(rec["raw"][k], rel=1e-4, abs=1e-6), k
    fused = fuse(raw["technical"], raw["aesthetic"])
    for k in ("technical", "aesthetic", "overall"):
        assert fused[k] == pytest.approx(rec["fused"][k], rel=1e-4, abs=1e-6), k


@pytest.mark.parametrize("name", ["small", "upsample"])
def test_scores_equal_the_official_dover_on_random_weights(net: DOVERNet, name: str) -> None:
    _check_scores(net, name)


@pytest.mark.slow
def test_scores_equal_the_official_dover_with_the_official_sampling(net: DOVERNet) -> None:
    _check_scores(net, "official")


# -- the metric: streaming accumulator, weights file, seeded offsets --------------------------------
def _small_clip(n: int = 20, h: int = 120, w: int = 150):
    from tests.fakes import clip_of

    frames = reference_frames(n, h, w, 1)
    return clip_of(list(frames)), frames


def _score(metric, clip) -> object:
    from mgld_bench.metrics.base import ScoreContext

    acc = metric.start(ScoreContext(clip))
    for i in range(len(clip.lr)):
        acc.update(i, clip.lr[i], None)
    return acc.result()


def test_metric_scores_the_clip_like_the_batch_views_on_random_weights(net, tmp_path, monkeypatch) -> None:
    """Streaming (frame by frame) equals the whole-clip views with the same seeded offsets; DOVER.pth read safely."""
    from mgld_bench.metrics import video
    from mgld_bench.weights import DOVER_WEIGHTS

    small = dv.DoverSampling(**CASES["small"]["sampling"])
    monkeypatch.setattr(dv, "DoverSampling", lambda: small)
    path = DOVER_WEIGHTS.path()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    video._NETS.clear()
    clip, frames = _small_clip()
    res = _score(video.DOVER(), clip)
    rng = np.random.default_rng(0)  # the documented draw order: technical, aesthetic, then patches
    t_off = dv.segment_offsets(rng, 20, small.clip_len, small.clips, small.frame_interval)
    a_off = dv.segment_offsets(rng, 20, 1, small.aesthetic_frames, small.frame_interval)
    oh, ow = dv.fragment_offsets(rng, 120, 150, small, small.clips)
    views = dv.build_views(frames, small, t_off, a_off, oh, ow)
    expect = fuse(net.branch("technical", views["technical"]), net.branch("aesthetic", views["aesthetic"]))
    assert res.value == pytest.approx(expect["overall"], rel=1e-5)
    for k in ("technical", "aesthetic"):
        assert res.extras[f"dover_{k}"] == pytest.approx(expect[k], rel=1e-5)
    from mgld_bench.registry import METRICS

    again = _score(METRICS.create("dover-technical"), clip)  # same seed: same offsets, same numbers
    assert again.value == pytest.approx(res.extras["dover_technical"], rel=1e-6)
    other = _score(video.DOVER(seed=1), clip)
    assert other.extras["technical_frames"] != res.extras["technical_frames"] or other.value != res.value
    video._NETS.clear()


def test_metric_without_weights_is_unavailable_and_names_the_file() -> None:
    from mgld_bench.metrics.video import DOVER

    ok, why = DOVER().availability()
    assert not ok and "DOVER.pth" in why and "weights fetch" in why


class _Payload:
    """A pickled object of a non-tensor class (a stand-in for code in a checkpoint)."""


def test_a_pickle_with_code_is_refused(tmp_path) -> None:
    from mgld_bench.metrics.video import load_dover
    from mgld_bench.safeload import UnsafeWeightsError

    bad = tmp_path / "DOVER.pth"
    torch.save({"x": _Payload()}, bad)
    with pytest.raises(UnsafeWeightsError):
        load_dover(bad, "cpu")
