"""Runner work avoided: precomputed PNGs kept byte for byte, only wanted frames decoded, no torch
for NumPy/OpenCV metrics.  References: the files' own sha256 and pixels (cv2), read counts, and
``sys.modules`` of a fresh interpreter."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mgld_bench.errors import FrameError
from mgld_bench.frames import ArrayFrames, Clip, read_image
from mgld_bench.protocol import Protocol
from mgld_bench.registry import METRICS
from mgld_bench.runner.jobs import score_frames
from mgld_bench.store.cache import Cache
from mgld_bench.store.outputs import png_rgb8_size, save_infer_files
from tests.fakes import random_frames, write_frames


def test_png_outputs_are_stored_byte_for_byte_and_others_decoded(tmp_path: Path, rng) -> None:
    frames = random_frames(rng, 3, 48, 56)
    files = write_frames(tmp_path / "png", frames[:2]) + write_frames(tmp_path / "jpg", frames[2:], "jpg")
    cache = Cache(tmp_path / "cache")
    res = save_infer_files(cache, "k" * 64, files, 3, (48, 56), "m on c", {})
    for f, sha in zip(files[:2], res.frames.shas[:2], strict=True):
        assert sha == hashlib.sha256(f.read_bytes()).hexdigest()  # the file itself, not a re-encode
    assert res.frames.shas[2] != hashlib.sha256(files[2].read_bytes()).hexdigest()
    for i, f in enumerate(files):
        np.testing.assert_array_equal(res.frames[i], read_image(f))


def test_png_header_check_rejects_other_pngs(tmp_path: Path, rng) -> None:
    import cv2

    rgb = write_frames(tmp_path / "a", random_frames(rng, 1, 48, 56))[0].read_bytes()
    assert png_rgb8_size(rgb) == (48, 56)
    assert png_rgb8_size(rgb[:-20]) is None  # truncated
    gray = cv2.imencode(".png", np.zeros((5, 7), np.uint8))[1].tobytes()
    deep = cv2.imencode(".png", np.zeros((5, 7, 3), np.uint16))[1].tobytes()
    rgba = cv2.imencode(".png", np.zeros((5, 7, 4), np.uint8))[1].tobytes()
    assert png_rgb8_size(gray) is None and png_rgb8_size(deep) is None and png_rgb8_size(rgba) is None
    bad = tmp_path / "bad" / "00000000.png"
    bad.parent.mkdir()
    bad.write_bytes(rgb[:-20])
    with pytest.raises(FrameError):
        save_infer_files(Cache(tmp_path / "cache"), "k" * 64, [bad], 1, (48, 56), "m on c", {})
    assert not list((tmp_path / "cache").glob("infer/*/*.json"))


class _Counting(ArrayFrames):
    """In-memory frames that count decodes (the digest, hashed from pixels here, is taken first:
    file-backed frames hash their files without decoding)."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        super().__init__(frames)
        self.reads: list[int] = []
        self.digest()
        self.reads.clear()

    def _read(self, index: int) -> np.ndarray:
        self.reads.append(index)
        return super()._read(index)


def test_only_the_frames_a_metric_scores_are_decoded(tmp_path: Path, rng) -> None:
    gt = _Counting(random_frames(rng, 6, 48, 56))
    sr = _Counting(random_frames(rng, 6, 48, 56))
    lr = ArrayFrames([f[::4, ::4] for f in gt.frames])
    clip = Clip("toy", "c", lr, gt)
    protocol = Protocol("subset", "", frames="0,4")
    out = score_frames([METRICS.create("psnr"), METRICS.create("ssim")], clip, sr, Cache(tmp_path / "c"), protocol)
    assert sorted(set(sr.reads)) == [0, 4] and sorted(set(gt.reads)) == [0, 4]
    assert len(sr.reads) == 2  # each frame decoded once for both metrics
    assert sorted(out["psnr"][0].frames) == [0, 4]
    # a temporal metric wants every frame
    sr2, gt2 = _Counting(sr.frames), _Counting(gt.frames)
    clip2 = Clip("toy", "c", lr, gt2)
    score_frames([METRICS.create("psnr"), METRICS.create("tof")], clip2, sr2, Cache(tmp_path / "c2"), protocol)
    assert sr2.reads == list(range(6)) and gt2.reads == list(range(6))


def test_numpy_metrics_never_import_torch(tmp_path: Path) -> None:
    import torch

    from mgld_bench.weights import BRISQUE_SVM

    g = torch.Generator().manual_seed(3)  # the (sv_coef, sv) pair, as a torch file (read here without torch)
    BRISQUE_SVM.path(tmp_path / "w").parent.mkdir(parents=True)
    torch.save((torch.randn(50, 1, generator=g, dtype=torch.float64),
                torch.rand(50, 36, generator=g, dtype=torch.float64) * 2 - 1), BRISQUE_SVM.path(tmp_path / "w"))
    code = f"""
import sys, numpy as np, scipy.io
import mgld_bench.weight_trust
mgld_bench.weight_trust.CHECK_PUBLISHED_ON_LOAD = False  # stand-in weights under the released names
from pathlib import Path
from mgld_bench.frames import ArrayFrames, Clip
from mgld_bench.protocol import DEFAULT
from mgld_bench.registry import METRICS
from mgld_bench.runner.jobs import score_frames
from mgld_bench.store.cache import Cache
from mgld_bench.weights import NIQE_PARAMS
root = Path({str(tmp_path)!r})
rng = np.random.default_rng(0)
a = rng.normal(size=(36, 36))
NIQE_PARAMS.path(root / "w").parent.mkdir(parents=True, exist_ok=True)
scipy.io.savemat(NIQE_PARAMS.path(root / "w"), {{"mu_prisparam": rng.normal(size=(1, 36)),
                                               "cov_prisparam": a @ a.T / 36 + np.eye(36)}})
gt = [rng.integers(0, 256, (100, 120, 3), dtype=np.uint8) for _ in range(3)]
clip = Clip("toy", "c", ArrayFrames([g[::4, ::4] for g in gt]), ArrayFrames(gt))
ms = [METRICS.create(n) for n in ("psnr", "ssim", "niqe", "brisque", "warping-error", "tof")]
out = score_frames(ms, clip, ArrayFrames(gt[::-1]), Cache(root / "c"), DEFAULT, device="auto")
assert len(out) == 6
assert "torch" not in sys.modules, "torch was imported"
"""
    env = {**__import__("os").environ, "MGLD_BENCH_WEIGHTS": str(tmp_path / "w")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=Path(__file__).parent.parent)
