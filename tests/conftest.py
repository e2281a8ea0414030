"""Shared fixtures: every test gets private cache/weights folders; nothing touches $HOME."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path_factory.mktemp("env")
    monkeypatch.setenv("MGLD_BENCH_CACHE", str(root / "cache"))
    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(root / "weights"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TQDM_DISABLE", "1")


@pytest.fixture(autouse=True)
def _random_weights_under_real_names(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests write random weights under the released names: check those against first-use records only
    (tests marked ``published_digests`` keep the check against the released sha256)."""
    if request.node.get_closest_marker("published_digests") is None:
        monkeypatch.setattr("mgld_bench.weight_trust.CHECK_PUBLISHED_ON_LOAD", False)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture()
def wdir(tmp_path, monkeypatch):
    """A private weights folder (``MGLD_BENCH_WEIGHTS``) with the loaded-model memo cleared around the test."""
    import torch

    from mgld_bench.metrics.backends.base import clear_models

    root = tmp_path / "weights"
    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(root))
    old_hub = torch.hub.get_dir()
    clear_models()
    yield root
    clear_models()
    torch.hub.set_dir(old_hub)
