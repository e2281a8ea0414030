"""The native LPIPS (AlexNet, VGG16) and DISTS networks against pyiqa and the ``lpips`` package
called directly on the same random weights, written under the real file names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mgld_bench.errors import BenchError
from mgld_bench.registry import METRICS
from mgld_bench.weights import ALEXNET, DISTS_HEAD, LPIPS_ALEX_HEAD, LPIPS_VGG_HEAD, MUSIQ_KONIQ, VGG16
from tests.fakes import PickledTouch, textured_frames, unit_tensor, write_lpips_alex_weights

REPO = Path(__file__).resolve().parents[2]


def _save(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)


def _pyiqa(name: str, head: Path, wdir: Path):
    import pyiqa

    torch.hub.set_dir(str(wdir / "hub"))
    return pyiqa.create_metric(name, device="cpu", pretrained_model_path=str(head))


def test_native_lpips_alex_equals_pyiqa_and_the_lpips_package(wdir) -> None:
    import lpips

    write_lpips_alex_weights(wdir, seed=3)
    dist, ref = textured_frames(3, 67, 91, 1), textured_frames(3, 67, 91, 2)  # odd, non-square: pooling edges
    metric = METRICS.create("lpips")
    assert metric.options["backend"] == "native"
    ours = metric.score_batch(dist, ref)
    want = _pyiqa("lpips", LPIPS_ALEX_HEAD.path(wdir), wdir)(unit_tensor(dist), unit_tensor(ref)).reshape(-1).tolist()
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-7)
    pkg = lpips.LPIPS(net="alex", version="0.1", model_path=str(LPIPS_ALEX_HEAD.path(wdir)), verbose=False)
    np.testing.assert_allclose(ours, pkg(unit_tensor(dist), unit_tensor(ref), normalize=True).reshape(-1).tolist(),
                               rtol=1e-5, atol=1e-7)
    # the pyiqa backend through the suite gives pyiqa's value too
    np.testing.assert_allclose(METRICS.create("lpips", backend="pyiqa").score_batch(dist, ref), want, rtol=1e-5)
    assert metric.backend().startswith("mgld_bench ")
    assert METRICS.create("lpips").identity() != METRICS.create("lpips", backend="pyiqa").identity()


def test_native_lpips_vgg_and_dists_equal_pyiqa(wdir) -> None:
    import lpips
    import torchvision

    torch.manual_seed(4)
    _save(torchvision.models.vgg16(weights=None).state_dict(), VGG16.path(wdir))
    _save({f"lin{k}.model.1.weight": torch.rand(1, c, 1, 1) for k, c in enumerate([64, 128, 256, 512, 512])},
          LPIPS_VGG_HEAD.path(wdir))
    _save({"alpha": torch.rand(1, 1475, 1, 1), "beta": torch.rand(1, 1475, 1, 1)}, DISTS_HEAD.path(wdir))
    dist, ref = textured_frames(2, 53, 70, 3), textured_frames(2, 53, 70, 4)
    x, y = unit_tensor(dist), unit_tensor(ref)

    vgg = METRICS.create("lpips-vgg").score_batch(dist, ref)
    np.testing.assert_allclose(vgg, _pyiqa("lpips-vgg", LPIPS_VGG_HEAD.path(wdir), wdir)(x, y).reshape(-1).tolist(),
                               rtol=1e-5, atol=1e-7)
    pkg = lpips.LPIPS(net="vgg", version="0.1", model_path=str(LPIPS_VGG_HEAD.path(wdir)), verbose=False)
    np.testing.assert_allclose(vgg, pkg(x, y, normalize=True).reshape(-1).tolist(), rtol=1e-5, atol=1e-7)

    dists = METRICS.create("dists")
    assert dists.options["backend"] == "native"
    want = _pyiqa("dists", DISTS_HEAD.path(wdir), wdir)(x, y).reshape(-1).tolist()
    np.testing.assert_allclose(dists.score_batch(dist, ref), want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dists.score_batch(ref, ref), [0.0, 0.0], atol=1e-5)


def test_a_head_file_entry_for_a_trunk_weight_replaces_it_as_in_pyiqa(wdir) -> None:
    """pyiqa loads the head file over the whole network (strict=False): a trunk key there wins."""
    write_lpips_alex_weights(wdir, seed=5)
    head = torch.load(LPIPS_ALEX_HEAD.path(wdir), weights_only=True)
    head["net.slice2.3.weight"] = torch.randn(192, 64, 5, 5) * 0.05
    _save(head, LPIPS_ALEX_HEAD.path(wdir))
    dist, ref = textured_frames(2, 64, 64, 6), textured_frames(2, 64, 64, 7)
    want = _pyiqa("lpips", LPIPS_ALEX_HEAD.path(wdir), wdir)(unit_tensor(dist), unit_tensor(ref)).reshape(-1).tolist()
    np.testing.assert_allclose(METRICS.create("lpips").score_batch(dist, ref), want, rtol=1e-5, atol=1e-7)


def test_wrong_files_are_one_clear_error(wdir, monkeypatch) -> None:
    from mgld_bench.metrics.backends.base import clear_models

    frames = textured_frames(1, 64, 64, 8)

    def folder(name: str) -> Path:  # a fresh weights folder: first-use sha256 records are per file
        root = wdir.parent / name
        monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(root))
        clear_models()
        write_lpips_alex_weights(root)
        return root

    root = folder("heads-missing")
    _save({"lin0.model.1.weight": torch.rand(1, 64, 1, 1)}, LPIPS_ALEX_HEAD.path(root))
    with pytest.raises(BenchError, match=r"LPIPS_v0\.1_alex.*lin1\.model\.1\.weight.*not the lpips weight file"):
        METRICS.create("lpips").score_batch(frames, frames)
    root = folder("not-a-trunk")
    _save({"features.0.weight": torch.rand(64, 3, 11, 11)}, ALEXNET.path(root))
    with pytest.raises(BenchError, match=r"alexnet-owt.*features\.0\.bias.*torchvision"):
        METRICS.create("lpips").score_batch(frames, frames)
    root = folder("wrong-shape")
    head = torch.load(LPIPS_ALEX_HEAD.path(root), weights_only=True)
    head["lin2.model.1.weight"] = torch.rand(1, 99, 1, 1)
    _save(head, LPIPS_ALEX_HEAD.path(root))
    with pytest.raises(BenchError, match=r"LPIPS_v0\.1_alex.*lin2\.model\.1\.weight has shape \(1, 99, 1, 1\)"):
        METRICS.create("lpips").score_batch(frames, frames)


def test_a_pickled_head_file_with_code_is_refused_before_it_runs(wdir, tmp_path) -> None:
    write_lpips_alex_weights(wdir)
    marker = tmp_path / "ran"
    torch.save({"lin0.model.1.weight": PickledTouch(marker)}, LPIPS_ALEX_HEAD.path(wdir))
    frames = textured_frames(1, 64, 64, 9)
    with pytest.raises(BenchError, match=r"LPIPS_v0\.1_alex"):
        METRICS.create("lpips").score_batch(frames, frames)
    assert not marker.exists()



def test_a_cli_run_of_lpips_tlp_and_musiq_imports_neither_pyiqa_nor_torchvision(wdir, tmp_path) -> None:
    """The real CLI in a child process, which then lists the modules it imported."""
    from mgld_bench.metrics.backends.native_musiq import MUSIQNet

    write_lpips_alex_weights(wdir)
    torch.manual_seed(0)
    _save(MUSIQNet().state_dict(), MUSIQ_KONIQ.path(wdir))
    argv = ["run", "--datasets", "synthetic", "--set", "synthetic.frames=3", "--set", "synthetic.size=64",
            "--methods", "bicubic", "--metrics", "lpips,tlp,musiq", "--device", "cpu", "--no-progress",
            "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]
    code = ("import sys, mgld_bench.weight_trust as trust\n"
            "trust.CHECK_PUBLISHED_ON_LOAD = False  # random stand-ins under the released names\n"
            "from mgld_bench.cli import main\n"
            "rc = main(sys.argv[1:])\n"
            "print('MODULES', ' '.join(sorted(sys.modules)))\n"
            "raise SystemExit(rc)\n")
    env = {**os.environ, "MGLD_BENCH_WEIGHTS": str(wdir), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    imported = set(next(line for line in out.stdout.splitlines() if line.startswith("MODULES ")).split()[1:])
    assert {"mgld_bench.metrics.backends.native_nets", "mgld_bench.metrics.backends.native_musiq"} <= imported
    assert not {m for m in imported if m.split(".")[0] in ("pyiqa", "torchvision", "lpips")}
    table = (tmp_path / "out" / "table.md").read_text()
    assert "LPIPS" in table and "tLP" in table and "MUSIQ" in table
