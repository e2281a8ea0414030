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
from tests._dover_fixture import CASES, reference_frames, reference_weights

FIXTURE = json.loads((Path(__file__).parent / "reference" / "dover" / "dover_official.json").read_text())


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
