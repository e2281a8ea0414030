"""The ``realbasicvsr`` method through the Method interface (small network, weights the test writes)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch

from baselines.realbasicvsr.adapter import RealBasicVSR
from baselines.realbasicvsr.arch import RealBasicVSRNet
from mgld_bench.errors import BenchError, FrameError, WeightsMissingError
from mgld_bench.methods.base import RunContext
from mgld_bench.weights import weights_dir
from tests.fakes import clip_of, make_clip

torch.set_num_threads(2)
SMALL = {"num_propagation_blocks": 1, "num_cleaning_blocks": 1}


class SmallRealBasicVSR(RealBasicVSR):
    """The adapter with a 1-block network, so a CPU test runs in a second."""

    net_options: ClassVar[dict[str, Any]] = SMALL


def write_weights(name: str = "RealBasicVSR_x4.pth") -> RealBasicVSRNet:
    """A wrapper checkpoint (generator + generator_ema) in the weights folder; returns the EMA net."""
    torch.manual_seed(0)
    ema = RealBasicVSRNet(**SMALL).eval()
    gen = RealBasicVSRNet(**SMALL)
    sd = {f"generator.{k}": v for k, v in gen.state_dict().items()}
    sd.update({f"generator_ema.{k}": v for k, v in ema.state_dict().items()})
    path = weights_dir() / "mgld_bench" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": sd}, path)
    return ema


make_clip = partial(make_clip, h=64, w=64)


def reference_sr(net: RealBasicVSRNet, frames: list[np.ndarray]) -> list[np.ndarray]:
    """Run the network directly; uint8 conversion written out by hand (clamp, x255, round)."""
    x = torch.from_numpy(np.stack(frames).astype(np.float32) / 255.0).permute(0, 3, 1, 2)[None]
    with torch.no_grad():
        y = net(x)[0].permute(0, 2, 3, 1).numpy()
    return [np.round(np.clip(f, 0, 1) * 255.0).astype(np.uint8) for f in y]


def test_run_gives_x4_frames_of_the_ema_network(rng: np.random.Generator) -> None:
    ema = write_weights()
    clip = make_clip(rng, n=2)
    method = SmallRealBasicVSR()
    assert method.availability() == (True, "")
    out = list(method.run(clip, RunContext()))
    assert method.branch_used == "ema"
    assert [f.shape for f in out] == [(256, 256, 3)] * 2 and all(f.dtype == np.uint8 for f in out)
    ref = reference_sr(ema, list(clip.lr))
    for a, b in zip(out, ref, strict=True):
        assert np.abs(a.astype(int) - b).max() <= 1


def test_max_seq_len_chunks_without_overlap(rng: np.random.Generator) -> None:
    ema = write_weights()
    clip = make_clip(rng, n=3)
    chunked = list(SmallRealBasicVSR(max_seq_len=2).run(clip, RunContext()))
    assert len(chunked) == len(clip.lr) == 3
    frames = list(clip.lr)
    ref = reference_sr(ema, frames[0:2]) + reference_sr(ema, frames[2:3])
    for a, b in zip(chunked, ref, strict=True):
        assert np.abs(a.astype(int) - b).max() <= 1


def test_tiling_keeps_shape_and_stays_close(rng: np.random.Generator) -> None:
    write_weights()
    clip = make_clip(rng, n=1, h=64, w=96)  # one frame: also the no-flow path
    plain = list(SmallRealBasicVSR().run(clip, RunContext()))
    tiled = list(SmallRealBasicVSR(tile=64, tile_overlap=16).run(clip, RunContext()))
    assert [f.shape for f in tiled] == [(256, 384, 3)]
    # tiles at LR columns 0-63 and 32-95, cut at 48; columns 0-29 have 18+ columns of context
    diff = np.abs(tiled[0][:, :120].astype(int) - plain[0][:, :120])
    assert diff.mean() < 8


def test_frames_under_64_px_error_or_padding(rng: np.random.Generator) -> None:
    write_weights()
    clip = make_clip(rng, n=2, h=48, w=80)
    with pytest.raises(FrameError, match=r"toy/c0 has 80x48 LR frames.*pad_small=true"):
        list(SmallRealBasicVSR().run(clip, RunContext()))
    out = list(SmallRealBasicVSR(pad_small=True).run(clip, RunContext()))
    assert [f.shape for f in out] == [(192, 320, 3)] * 2


def test_missing_weights_are_reported_with_url() -> None:
    method = RealBasicVSR()
    ok, reason = method.availability()
    assert not ok and "RealBasicVSR_x4.pth" in reason and "https://" in reason
    with pytest.raises(WeightsMissingError, match=r"RealBasicVSR_x4\.pth"):
        list(method.run(make_clip(np.random.default_rng(0)), RunContext()))


def test_weights_by_path_enter_the_key_as_content(tmp_path: Path, rng: np.random.Generator) -> None:
    write_weights()
    src = weights_dir() / "mgld_bench" / "RealBasicVSR_x4.pth"
    other = tmp_path / "mine" / "rbv.pth"
    other.parent.mkdir()
    other.write_bytes(src.read_bytes())
    method = SmallRealBasicVSR(weights=str(other))
    assert method.weight_files() == []
    import hashlib

    assert method.extra_key(make_clip(rng)) == hashlib.sha256(other.read_bytes()).hexdigest()
    assert not SmallRealBasicVSR(weights=str(tmp_path / "none.pth")).availability()[0]


def test_bad_options_and_fp16_on_cpu(rng: np.random.Generator) -> None:
    with pytest.raises(BenchError, match="branch"):
        RealBasicVSR(branch="best")
    with pytest.raises(BenchError, match="tile"):
        RealBasicVSR(tile=32)
    with pytest.raises(BenchError, match="unknown option"):
        RealBasicVSR(thres=5)
    write_weights()
    with pytest.raises(BenchError, match="fp16 needs a CUDA device"):
        list(SmallRealBasicVSR(fp16=True).run(make_clip(rng), RunContext(device="cpu")))
    assert RealBasicVSR(dynamic_refine_thres="5").options["dynamic_refine_thres"] == 5.0


def test_through_the_runner_with_cache_and_log(tmp_path: Path, rng: np.random.Generator) -> None:
    from mgld_bench.runner.jobs import run_infer
    from mgld_bench.store.cache import Cache

    write_weights()
    cache = Cache(tmp_path / "cache")
    clip = make_clip(rng, n=2)
    res = run_infer(SmallRealBasicVSR(), clip, cache, RunContext())
    assert not res.cached and len(res.frames) == 2 and res.frames[0].shape == (256, 256, 3)
    log = (cache.log_dir(res.key) / "realbasicvsr.log").read_text()
    assert "EMA generator" in log
    again = run_infer(SmallRealBasicVSR(), clip, cache, RunContext())
    assert again.cached and again.key == res.key
    assert run_infer(SmallRealBasicVSR(dynamic_refine_thres=5.0), clip, cache, RunContext()).key != res.key


def test_registered_through_the_entry_point() -> None:
    from mgld_bench.registry import METHODS

    entry = METHODS.get("realbasicvsr")
    assert entry.origin.startswith("entry point")
    assert entry.load() is RealBasicVSR


def test_out_of_memory_and_mixed_sizes_give_clear_errors(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_weights()
    method = SmallRealBasicVSR()
    net = method.model("cpu")

    def boom(_x: torch.Tensor) -> Any:
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        yield  # pragma: no cover

    monkeypatch.setattr(net, "iter_forward", boom)
    with pytest.raises(BenchError, match=r"out of memory on cpu .*max_seq_len"):
        list(method.run(make_clip(rng, n=2), RunContext()))
    frames = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), rng.integers(0, 256, (64, 72, 3), dtype=np.uint8)]
    with pytest.raises(FrameError, match="differ in size"):
        list(SmallRealBasicVSR().run(clip_of(frames, name="mixed"), RunContext()))


def test_chunk_overlap_adds_context_frames_and_drops_their_outputs(rng: np.random.Generator) -> None:
    ema = write_weights()
    clip = make_clip(rng, n=3)
    out = list(SmallRealBasicVSR(max_seq_len=2, chunk_overlap=1).run(clip, RunContext()))
    frames = list(clip.lr)
    ref = reference_sr(ema, frames[0:3])[0:2] + reference_sr(ema, frames[1:3])[1:2]
    assert len(out) == 3
    for a, b in zip(out, ref, strict=True):
        assert np.abs(a.astype(int) - b).max() <= 1
    with pytest.raises(BenchError, match="chunk_overlap"):
        RealBasicVSR(chunk_overlap=-1)
