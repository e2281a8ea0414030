"""``mgld`` keeps one set of built networks per process: consecutive chunk jobs (as Ray runs them,
each with a fresh method object) read the checkpoint files once, and give what fresh loads give."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fakes import clip_of, smooth_frames  # noqa: E402

from mgld_bench import safeload  # noqa: E402
from mgld_bench.methods.mgld import method as method_mod  # noqa: E402
from mgld_bench.methods.mgld.method import MGLD, clear_model_memo  # noqa: E402
from mgld_bench.runner.jobs import chunk_bounds, infer_job, run_infer_chunk  # noqa: E402
from mgld_bench.specs import Ref  # noqa: E402
from mgld_bench.testing.tiny_mgld import write_tiny_checkpoints  # noqa: E402

# small and fast: 16x16 LR brought to 64 px (min_side), one step, no guidance (no RAFT)
OPTIONS = {"config": "tiny", "steps": 1, "chunk": 2, "min_side": 64, "tile": 8, "tile_overlap": 4,
           "guidance": False}


@pytest.fixture()
def counted(monkeypatch):
    calls: list[str] = []
    real = safeload.load_weights
    monkeypatch.setattr(safeload, "load_weights", lambda path, *a, **k: calls.append(str(path)) or real(path, *a, **k))
    clear_model_memo()
    yield calls
    clear_model_memo()


def _chunks(unet, vae, clip, fresh: bool) -> list[np.ndarray]:
    method = MGLD(**OPTIONS, unet_ckpt=str(unet), vae_ckpt=str(vae))
    job = infer_job(method, Ref.of("method", method.name, method.options), Ref.of("dataset", clip.dataset), clip, 0)
    out = []
    for a, b in chunk_bounds(len(clip.lr), method.chunk_frames):
        if fresh:
            clear_model_memo()
        out += run_infer_chunk(job, clip, a, b, "cpu")  # method=None: a new MGLD per chunk, as on Ray
    return out


def test_chunk_jobs_in_one_process_load_the_files_once(tmp_path, counted):
    torch.set_num_threads(1)
    unet, vae = write_tiny_checkpoints(tmp_path / "w")
    clip = clip_of(smooth_frames(4, 16, 16, seed=1))
    memo = _chunks(unet, vae, clip, fresh=False)
    assert sorted(counted) == sorted([str(unet), str(vae)])  # two chunks, each file read once
    counted.clear()
    fresh = _chunks(unet, vae, clip, fresh=True)
    assert len(counted) == 4  # without the memo every chunk reads both files
    assert len(memo) == len(fresh) == 4
    for a, b in zip(memo, fresh, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_memo_holds_one_model_set_keyed_by_the_files(tmp_path, counted):
    u1, v1 = write_tiny_checkpoints(tmp_path / "a", seed=0)
    u2, v2 = write_tiny_checkpoints(tmp_path / "b", seed=1)
    first = MGLD(**OPTIONS, unet_ckpt=str(u1), vae_ckpt=str(v1)).load("cpu")
    other = MGLD(**OPTIONS, unet_ckpt=str(u2), vae_ckpt=str(v2)).load("cpu")
    assert other["modules"] is not first["modules"] and len(method_mod._MEMO) == 1
    again = MGLD(**OPTIONS, unet_ckpt=str(u1), vae_ckpt=str(v1)).load("cpu")  # evicted: loaded anew
    assert again["modules"] is not first["modules"] and again["reused"] is False
    assert len(counted) == 6
