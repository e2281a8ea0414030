"""``mgld`` end to end from the CLI on the CPU: tiny random checkpoints under the real file names
in a temporary weights folder, the synthetic dataset, cached reruns, and the guidance ablation.

Slow (two diffusion runs whose VAEs work at 512 px, the official minimum short side, which
RAFT_SR needs for its >= 128 px flow input; 2-frame chunks keep it to a few minutes): ``slow``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from mgld_bench.cli import main
from mgld_bench.methods.mgld.method import MGLD
from mgld_bench.testing.tiny_mgld import write_tiny_checkpoints

pytestmark = pytest.mark.slow

COMMON = [
    "--datasets", "synthetic", "--clips", "pan", "--set", "synthetic.frames=2", "--set", "synthetic.size=128",
    "--methods", "mgld", "--set", "mgld.config=tiny", "--set", "mgld.steps=2", "--set", "mgld.chunk=2",
    "--metrics", "warping_error", "--device", "cpu", "--no-progress",
]


def _run(tmp_path: Path, out: str, *extra: str) -> list[dict[str, str]]:
    code = main(["run", "--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / out), *COMMON, *extra])
    assert code == 0
    with open(tmp_path / out / "results.csv") as fh:
        return list(csv.DictReader(fh))


def test_mgld_runs_from_the_cli_cached_and_the_guidance_ablation(tmp_path, monkeypatch):
    write_tiny_checkpoints(tmp_path / "weights" / "mgld_bench")
    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path / "weights"))
    guided = _run(tmp_path, "guided")
    assert len(guided) == 1 and guided[0]["method"].split("[")[0] == "mgld"  # label shows its options
    # the second run is served from the cache: the method is never called
    monkeypatch.setattr(MGLD, "run", lambda *a, **k: pytest.fail("mgld ran although its output is cached"))
    assert _run(tmp_path, "again") == guided
    monkeypatch.undo()
    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path / "weights"))
    plain = _run(tmp_path, "plain", "--set", "mgld.guidance=off")
    we_guided, we_plain = float(guided[0]["value"]), float(plain[0]["value"])
    # A tiny *random* decoder does not turn consistent latents into consistent pixels (measured
    # 21.75 guided vs 21.60 unguided with 3 frames), so the pixel-level claim is not asserted here;
    # the guidance's effect is proven at the latent level with the same tiny networks in
    # tests/methods/mgld/test_mgld_port.py, and its numbers against the official code in
    # tests/methods/mgld/test_mgld_sampler_official.py.  Here: the ablation runs and changes the output.
    assert we_guided != we_plain
