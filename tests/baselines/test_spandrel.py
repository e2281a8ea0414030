"""Image SR through spandrel: a random-weight RRDBNet the test builds, realesrgan, spandrel:PATH."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.spandrel_models import RealESRGAN, SpandrelModel
from mgld_bench.errors import BenchError, WeightsMissingError
from mgld_bench.methods.base import RunContext
from mgld_bench.weights import weights_dir
from tests.fakes import make_clip, rrdbnet_state

torch.set_num_threads(2)


def save(sd: dict[str, torch.Tensor], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"params_ema": sd}, path)  # the Real-ESRGAN release layout
    return path


make_clip = partial(make_clip, n=2, h=20, w=24)


def test_random_rrdbnet_runs_through_the_adapter(tmp_path: Path, rng: np.random.Generator) -> None:
    from spandrel import ModelLoader

    path = save(rrdbnet_state(), tmp_path / "rrdb.pth")
    clip = make_clip(rng)
    method = SpandrelModel(path=str(path))
    assert method.label == "spandrel:rrdb" and method.availability() == (True, "")
    out = list(method.run(clip, RunContext()))
    assert [f.shape for f in out] == [(80, 96, 3)] * 2 and all(f.dtype == np.uint8 for f in out)
    desc = ModelLoader().load_from_file(path)  # spandrel called directly, conversion written by hand
    for sr, lr in zip(out, clip.lr, strict=True):
        x = torch.from_numpy(lr.astype(np.float32) / 255.0).permute(2, 0, 1)[None]
        ref = np.round(desc(x)[0].permute(1, 2, 0).numpy().clip(0, 1) * 255.0).astype(np.uint8)
        assert np.abs(sr.astype(int) - ref).max() <= 1
    tiled = list(SpandrelModel(path=str(path), tile=12, tile_overlap=6).run(clip, RunContext()))
    assert [f.shape for f in tiled] == [(80, 96, 3)] * 2
    assert np.abs(tiled[0].astype(int) - out[0]).mean() < 4


def test_output_range_clamped_and_rounded(tmp_path: Path, rng: np.random.Generator) -> None:
    sd = rrdbnet_state()
    sd["conv_last.weight"].zero_()
    sd["conv_last.bias"] = torch.tensor([0.5, -1.0, 2.0])
    path = save(sd, tmp_path / "const.pth")
    (frame,) = SpandrelModel(path=str(path)).run(make_clip(rng, n=1), RunContext())
    assert (frame[..., 0] == 128).all() and (frame[..., 1] == 0).all() and (frame[..., 2] == 255).all()


def test_realesrgan_uses_the_weights_folder(rng: np.random.Generator) -> None:
    method = RealESRGAN()
    ok, reason = method.availability()
    assert not ok and "RealESRGAN_x4plus.pth" in reason and "releases/download/v0.1.0" in reason
    with pytest.raises(WeightsMissingError):
        list(method.run(make_clip(rng), RunContext()))
    save(rrdbnet_state(), weights_dir() / "mgld_bench" / "RealESRGAN_x4plus.pth")
    method = RealESRGAN()
    assert method.availability() == (True, "")
    assert [wf.name for wf in method.weight_files()] == ["RealESRGAN_x4plus.pth"]
    assert len(list(method.run(make_clip(rng, n=1), RunContext()))) == 1


def test_clear_errors(tmp_path: Path, rng: np.random.Generator) -> None:
    path = save(rrdbnet_state(), tmp_path / "rrdb.pth")
    with pytest.raises(BenchError, match=r"model is x4 but clip toy/c0 needs x2"):
        list(SpandrelModel(path=str(path)).run(make_clip(rng, scale=2), RunContext()))
    bad = tmp_path / "bad.pth"
    bad.write_bytes(path.read_bytes()[:300])
    with pytest.raises(BenchError, match=r"spandrel cannot load .*bad\.pth"):
        list(SpandrelModel(path=str(bad)).run(make_clip(rng), RunContext()))
    torch.save({"foo.weight": torch.zeros(3, 3)}, tmp_path / "odd.pth")
    with pytest.raises(BenchError, match="spandrel cannot load"):
        list(SpandrelModel(path=str(tmp_path / "odd.pth")).run(make_clip(rng), RunContext()))
    with pytest.raises(BenchError, match="give the checkpoint"):
        SpandrelModel()
    with pytest.raises(BenchError, match="fp16 needs a CUDA device"):
        list(SpandrelModel(path=str(path), fp16=True).run(make_clip(rng), RunContext(device="cpu")))
    assert SpandrelModel(path=str(tmp_path / "none.pth")).availability()[0] is False


def test_checkpoint_content_enters_the_key(tmp_path: Path, rng: np.random.Generator) -> None:
    import hashlib

    a = save(rrdbnet_state(seed=0), tmp_path / "a" / "m.pth")
    b = save(rrdbnet_state(seed=0), tmp_path / "b" / "m.pth")
    c = save(rrdbnet_state(seed=1), tmp_path / "c" / "m.pth")
    clip = make_clip(rng)
    ma, mb, mc = (SpandrelModel(path=str(p)) for p in (a, b, c))
    assert ma.identity() == mb.identity()
    assert ma.extra_key(clip) == mb.extra_key(clip) == hashlib.sha256(a.read_bytes()).hexdigest()
    assert mc.extra_key(clip) != ma.extra_key(clip)


def test_list_methods_shows_baselines_and_where_to_get_weights(capsys: pytest.CaptureFixture) -> None:
    from mgld_bench.cli import main

    assert main(["list", "methods", "--verbose"]) == 0
    out = capsys.readouterr().out
    lines = {block.split()[0]: block for block in out.split("\n\n")}
    for name in ("realbasicvsr", "realesrgan", "spandrel", "external"):
        assert name in lines
    assert "huggingface.co/akhaliq/RealBasicVSR_x4" in lines["realbasicvsr"]
    assert "RealESRGAN_x4plus.pth" in lines["realesrgan"]
    assert "entry point" in lines["realbasicvsr"] and "entry point" in lines["realesrgan"]
