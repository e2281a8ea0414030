"""``pyiqa:NAME`` and the first-class pyiqa entries (MUSIQ variants, MANIQA, CLIP-IQA).

References: pyiqa called directly with the same self-written random weight files (explicit
``pretrained_model_path``) and pyiqa's own model table for direction/mode.  pyiqa's published
calibration values (real weights, opt-in) are checked in test_calibration.py.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from mgld_bench.errors import BenchError, UnknownNameError, WeightsMissingError
from mgld_bench.protocol import DEFAULT
from mgld_bench.runner.plan import build_metric
from mgld_bench.weights import MUSIQ_AVA, MUSIQ_SPAQ
from tests.fakes import noise_frames, unit_tensor


def _random_musiq(path: Path, num_class: int) -> None:
    from pyiqa.archs.musiq_arch import MUSIQ

    torch.manual_seed(num_class)
    net = MUSIQ(pretrained=False, num_class=num_class)
    state = {k: (torch.randn_like(v) * 0.05 if v.is_floating_point() else v) for k, v in net.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)


def test_direction_mode_and_range_come_from_pyiqa_and_are_recorded() -> None:
    from pyiqa.default_model_configs import DEFAULT_CONFIGS

    for spec, key in [("pyiqa:musiq-ava", "musiq-ava"), ("pyiqa:topiq_fr", "topiq_fr"), ("pyiqa:niqe", "niqe"),
                      ("pyiqa:CLIPIQA+_vitl14_512", "clipiqa+_vitL14_512"), ("maniqa", "maniqa")]:
        m = build_metric(spec, DEFAULT, {})
        cfg = DEFAULT_CONFIGS[key]
        assert m.higher_is_better is not bool(cfg.get("lower_better", False))
        assert m.needs_gt is (cfg["metric_mode"] == "FR")
        assert m.kind == ("full-reference" if cfg["metric_mode"] == "FR" else "no-reference")
        ident = m.identity()["pyiqa"]
        assert ident == {"name": key, "mode": cfg["metric_mode"], "lower_better": bool(cfg.get("lower_better", False)),
                         "score_range": cfg.get("score_range", "")}
    assert build_metric("pyiqa:musiq-ava", DEFAULT, {}).name == "pyiqa:musiq-ava"
    assert build_metric("musiq-ava", DEFAULT, {}).name == "musiq-ava"


def test_unknown_or_missing_name_is_a_clear_error() -> None:
    with pytest.raises(UnknownNameError, match="musiq"):
        build_metric("pyiqa:musiqq", DEFAULT, {})
    with pytest.raises(BenchError, match="name the pyiqa metric"):
        build_metric("pyiqa", DEFAULT, {})
    with pytest.raises(BenchError, match="takes no argument"):
        build_metric("psnr:x", DEFAULT, {})


def test_weight_files_are_declared_and_missing_ones_make_the_metric_unavailable(wdir) -> None:
    for spec, files in [("musiq-spaq", {"musiq_spaq_ckpt-358bb6af.pth"}),
                        ("maniqa", {"ckpt_koniq10k.pt"}),
                        ("clipiqa", {"RN50.pt"}),
                        ("clipiqa+", {"RN50.pt", "CLIP-IQA+_learned_prompts-603f3273.pth"}),
                        ("pyiqa:topiq_nr", {"cfanet_nr_koniq_res50-9a73138b.pth"})]:
        m = build_metric(spec, DEFAULT, {})
        assert {wf.name for wf in m.weight_files()} >= files, spec
        ok, why = m.availability()
        assert not ok and "weights fetch" in why
    assert build_metric("maniqa", DEFAULT, {}).options["backbone_in_checkpoint"]


@pytest.mark.parametrize(("spec", "pyiqa_name", "wf", "num_class"), [
    pytest.param("pyiqa:musiq-spaq", "musiq-spaq", MUSIQ_SPAQ, 1, marks=pytest.mark.slow),
    ("musiq-ava", "musiq-ava", MUSIQ_AVA, 10),
])
def test_musiq_variants_equal_pyiqa_on_the_same_random_weights(wdir, spec, pyiqa_name, wf, num_class) -> None:
    import pyiqa

    _random_musiq(wf.path(wdir), num_class)
    frames = noise_frames(2, 64, 64 + 8, seed=3)
    m = build_metric(spec, DEFAULT, {})
    assert m.availability()[0]
    ours = m.score_batch(frames, None)
    direct = pyiqa.create_metric(pyiqa_name, device="cpu", pretrained_model_path=str(wf.path(wdir)),
                                 num_class=num_class)
    want = direct(unit_tensor(frames)).reshape(-1).tolist()
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-6)


class _Payload:
    """A non-tensor class inside a checkpoint."""


def test_pyiqa_files_are_read_without_pickle_and_never_downloaded(wdir) -> None:
    import pyiqa

    from mgld_bench.metrics.backends.pyiqa_backend import guarded_loading
    from mgld_bench.safeload import UnsafeWeightsError

    with guarded_loading("test"), pytest.raises(WeightsMissingError, match=r"musiq_paq2piq_ckpt-364c0c84\.pth"):
        pyiqa.create_metric("musiq-paq2piq", device="cpu")
    MUSIQ_SPAQ.path(wdir).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"x": _Payload()}, MUSIQ_SPAQ.path(wdir))
    with guarded_loading("test"), pytest.raises(UnsafeWeightsError):
        pyiqa.create_metric("musiq-spaq", device="cpu")
    assert torch.load is not None and torch.load.__module__.startswith("torch")  # restored


class _Bag(torch.nn.Module):
    pass


class _Root(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _tensors_only(module: torch.nn.Module, root: bool = True) -> torch.nn.Module:
    """The same tensors under the same names, in modules TorchScript can save without compiling CLIP."""
    out = _Root() if root else _Bag()
    out._parameters.update(module._parameters)
    out._buffers.update(module._buffers)
    for k, child in module._modules.items():
        out._modules[k] = _tensors_only(child, False) if child is not None else None
    return out


@pytest.mark.slow
def test_clipiqa_equals_pyiqa_on_a_random_clip_rn50(wdir, monkeypatch) -> None:
    """A random CLIP RN50 saved as a TorchScript archive at RN50.pt (the format of OpenAI's file)."""
    import pyiqa
    from pyiqa.archs import clip_model

    from mgld_bench.weights import CLIP_RN50

    torch.manual_seed(5)
    net = clip_model.CLIP(1024, 224, (3, 4, 6, 3), 64, None, 77, 49408, 512, 8, 12)
    with torch.no_grad():
        for v in net.state_dict().values():
            if v.is_floating_point():
                v.add_(0.02 * torch.randn_like(v))
    path = CLIP_RN50.path(wdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.jit.save(torch.jit.script(_tensors_only(net)), str(path))
    frames = noise_frames(2, 64, 64 + 8, seed=7)
    m = build_metric("clipiqa", DEFAULT, {})
    assert m.availability()[0]
    ours = m.score_batch(frames, None)
    monkeypatch.setattr(clip_model, "_download", lambda url, root: str(path))  # the reference: pyiqa as is
    direct = pyiqa.create_metric("clipiqa", device="cpu")
    want = direct(unit_tensor(frames)).reshape(-1).tolist()
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-6)


def test_run_stores_pyiqa_metrics_under_their_name_with_pyiqa_facts(tmp_path, monkeypatch) -> None:
    """``mgld-bench run --metrics pyiqa:psnr,musiq-spaq,dover``: weightless pyiqa PSNR is computed and
    stored with pyiqa's direction; the others are reported unavailable, naming their files."""
    import sqlite3

    import pyiqa

    from mgld_bench.cli import main
    from mgld_bench.report.metric_facts import display_name, metric_facts

    out = tmp_path / "out"
    argv = ["run", "--metrics", "pyiqa:PSNR,musiq-spaq,dover,mawe", "--out", str(out), "--no-progress",
            "--clips", "pan", "--set", "synthetic.frames=2", "--set", "synthetic.size=64"]
    assert main(argv) == 0
    con = sqlite3.connect(out / "results.sqlite")
    got = dict(con.execute("SELECT metric, value FROM clip_scores"))
    unavailable = dict(con.execute("SELECT metric, reason FROM unavailable"))
    assert set(got) == {"pyiqa:psnr"} and np.isfinite(got["pyiqa:psnr"])
    assert set(unavailable) == {"musiq-spaq", "dover", "mawe"}
    assert "DOVER.pth" in unavailable["dover"] and "musiq_spaq_ckpt-358bb6af.pth" in unavailable["musiq-spaq"]
    direct = pyiqa.create_metric("psnr", device="cpu")
    assert metric_facts("pyiqa:psnr").higher_is_better is not direct.lower_better
    assert metric_facts("pyiqa:psnr").kind == "full-reference" and display_name("pyiqa:psnr") == "pyiqa:psnr"
    assert metric_facts("dover").decimals == 4 and metric_facts("mawe").kind == "temporal"


def test_weights_fetch_resolves_pyiqa_names_metric_names_and_urls(wdir) -> None:
    from mgld_bench.cli.weights_cmd import _select

    got = {wf.name: wf.location for wf in _select(["pyiqa:topiq_nr", "dover", "mawe", "musiq-ava",
                                                   "https://download.pytorch.org/models/resnet50-11ad3fa6.pth"])}
    assert got == {"cfanet_nr_koniq_res50-9a73138b.pth": "pyiqa", "DOVER.pth": "mgld_bench",
                   "raft_large_C_T_SKHT_V2-ff5fadd5.pth": "torchvision", "musiq_ava_ckpt-e8d3f067.pth": "pyiqa",
                   "resnet50-11ad3fa6.pth": "torchvision"}


def test_pyiqa_fr_lpips_equals_pyiqa_on_the_same_random_backbone(wdir, monkeypatch) -> None:
    """A full-reference ``pyiqa:NAME``: a random torchvision AlexNet under its real name, with the
    real LPIPS head (the lpips wheel ships the same bytes); the reference is pyiqa's LPIPS as is,
    its two downloads pointed at those files."""
    import shutil

    import lpips
    import pyiqa
    import torchvision
    from pyiqa.archs import arch_util

    from mgld_bench.weights import ALEXNET, LPIPS_ALEX_HEAD

    torch.manual_seed(9)
    alex = torchvision.models.alexnet(weights=None).state_dict()
    ALEXNET.path(wdir).parent.mkdir(parents=True, exist_ok=True)
    torch.save(alex, ALEXNET.path(wdir))
    del alex
    LPIPS_ALEX_HEAD.path(wdir).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(lpips.__file__).parent / "weights" / "v0.1" / "alex.pth", LPIPS_ALEX_HEAD.path(wdir))
    srs, gts = noise_frames(2, 48, 56, seed=1), noise_frames(2, 48, 56, seed=2)
    m = build_metric("pyiqa:lpips", DEFAULT, {})
    assert m.needs_gt and m.availability()[0]
    ours = m.score_batch(srs, gts)
    torch.hub.set_dir(str(wdir / "hub"))  # torchvision finds the AlexNet where the suite keeps it
    monkeypatch.setattr(arch_util, "load_file_from_url", lambda url, *a, **k: str(LPIPS_ALEX_HEAD.path(wdir)))
    direct = pyiqa.create_metric("lpips", device="cpu")
    want = direct(unit_tensor(srs), unit_tensor(gts)).reshape(-1).tolist()
    assert len(set(np.round(ours, 6))) == 2  # two different pairs, two different scores
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-6)
