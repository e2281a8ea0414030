"""A method that claims determinism (``Method.deterministic``, the default) gives bit-identical
frames when run twice (issue #12, item 7): the runner caches its output without the seed.

tests/test_specs.py runs the methods that need no weights (bicubic, nearest) and the diffusion
methods; here the baselines that need a checkpoint are built as the registry builds them, with
random weights written under the real file names in the test's weights folder, and run on a tiny
clip twice by one instance and once more by a fresh one.  A method that claims determinism and
has no case here (nor in the table of methods checked elsewhere) fails
:func:`test_every_deterministic_method_has_a_run_twice_check`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from mgld_bench.methods.base import Method, RunContext
from mgld_bench.registry import METHODS
from mgld_bench.weights import weights_dir
from tests.fakes import clip_of, random_frames, rrdbnet_state

torch.set_num_threads(2)

#: Deterministic methods whose run-twice check lives elsewhere, or that cannot be checked here.
CHECKED_ELSEWHERE = {
    # tests/test_specs.py: every method that runs without options or weights, and the diffusion ones
    "bicubic": "tests/test_specs.py::test_methods_that_claim_determinism_give_the_same_frames_twice",
    "nearest": "tests/test_specs.py::test_methods_that_claim_determinism_give_the_same_frames_twice",
    "mgld": "tests/test_specs.py::test_diffusion_methods_that_claim_determinism_give_the_same_frames_twice",
    "mgld-sd": "tests/test_specs.py::test_diffusion_methods_that_claim_determinism_give_the_same_frames_twice",
    "sd-x4": "tests/test_specs.py::test_diffusion_methods_that_claim_determinism_give_the_same_frames_twice",
    # not mgld-bench's computation: their determinism is the official code's or the user's
    "mgld-official": "runs the official MGLD code in a subprocess (not installed in tests)",
    "precomputed": "reads the user's frames back from disk",
    "external": "runs the user's command",
}


def _realbasicvsr_weights(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A RealBasicVSR wrapper checkpoint with random weights under its released name.  Tiny sizes:
    one propagation and one cleaning block (the adapter's ``net_options``, as its own tests use),
    and frames reflect-padded to the 64 px SPyNet needs (``pad_small``)."""
    from baselines.realbasicvsr.adapter import RealBasicVSR
    from baselines.realbasicvsr.arch import RealBasicVSRNet
    from baselines.weight_files import REALBASICVSR_X4

    small = {"num_propagation_blocks": 1, "num_cleaning_blocks": 1}
    monkeypatch.setattr(RealBasicVSR, "net_options", small)
    torch.manual_seed(0)
    state = RealBasicVSRNet(**small).state_dict()
    sd = {f"{branch}.{k}": v for branch in ("generator", "generator_ema") for k, v in state.items()}
    path = weights_dir() / "mgld_bench" / REALBASICVSR_X4.name
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": sd}, path)
    return {"pad_small": True}


def _rrdbnet(path: Path) -> Path:
    """A 1-block, 8-feature Real-ESRGAN RRDBNet x4 with random weights (BasicSR key names)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"params_ema": rrdbnet_state()}, path)
    return path


def _realesrgan_weights(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from baselines.weight_files import REALESRGAN_X4PLUS

    _rrdbnet(weights_dir() / "mgld_bench" / REALESRGAN_X4PLUS.name)
    return {}


#: method name -> (writes its weights and returns the options to build it with)
CASES: dict[str, Callable[[pytest.MonkeyPatch], dict[str, Any]]] = {
    "realbasicvsr": _realbasicvsr_weights,
    "realesrgan": _realesrgan_weights,
    "spandrel": lambda monkeypatch: {"path": str(_rrdbnet(weights_dir() / "any" / "rrdb_x4.pth"))},
}


def _run(method: Method, clip: Any) -> list[np.ndarray]:
    return [np.array(f, copy=True) for f in method.run(clip, RunContext())]


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_deterministic_method_gives_the_same_frames_twice(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    options = CASES[name](monkeypatch)
    clip = clip_of(random_frames(np.random.default_rng(5), 2, 16, 20))  # two: the recurrent path runs
    method = METHODS.create(name, **options)
    assert method.deterministic
    assert method.availability() == (True, "")
    first = _run(method, clip)
    again = _run(method, clip)
    fresh = _run(METHODS.create(name, **options), clip)
    assert len(first) == 2 and first[0].shape == (64, 80, 3) and first[0].dtype == np.uint8
    for a, b, c in zip(first, again, fresh, strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c), name
    assert any(f.std() > 0 for f in first)  # not a constant output that would pass trivially


def test_every_deterministic_method_has_a_run_twice_check() -> None:
    unchecked = []
    for name in METHODS.names():
        cls = METHODS.get(name).load()
        if getattr(cls, "deterministic", False) and name not in CASES and name not in CHECKED_ELSEWHERE:
            unchecked.append(name)
    assert unchecked == [], f"add a run-twice case for {unchecked} in {Path(__file__).name}"
