"""Learned metrics against pyiqa / lpips called directly with the same self-written weight files.

No real weights exist here: the tests write randomly initialised backbones and heads under the
real file names into a temporary weights folder, so the suite's whole loading path is exercised.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import torch

from mgld_bench.errors import WeightsMissingError
from mgld_bench.metrics.functional.color import rgb_to_y
from mgld_bench.registry import METRICS
from mgld_bench.weights import DISTS_HEAD, LPIPS_ALEX_HEAD, NIQE_PARAMS, VGG16
from tests.fakes import textured_frames, unit_tensor, write_lpips_alex_weights


def _save(obj, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)


def _frames(n: int, size: int, seed: int) -> list[np.ndarray]:
    return textured_frames(n, size, size, seed)


def _score(metric, srs, gts=None) -> list[float]:
    return metric.score_batch(srs, gts)  # device: "cpu" until start(ctx) sets the run's device


def test_lpips_equals_pyiqa_and_lpips_package(wdir) -> None:
    import lpips
    import pyiqa

    write_lpips_alex_weights(wdir)
    dist, ref = _frames(3, 64, 1), _frames(3, 64, 2)
    ours = _score(METRICS.create("lpips"), dist, ref)
    ours_lpips_pkg = _score(METRICS.create("lpips", backend="lpips"), dist, ref)
    torch.hub.set_dir(str(wdir / "hub"))
    direct = pyiqa.create_metric("lpips", device="cpu", pretrained_model_path=str(LPIPS_ALEX_HEAD.path(wdir)))
    want = direct(unit_tensor(dist), unit_tensor(ref)).reshape(-1).tolist()
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-7)
    pkg = lpips.LPIPS(net="alex", version="0.1", model_path=str(LPIPS_ALEX_HEAD.path(wdir)), verbose=False)
    want_pkg = pkg(unit_tensor(dist), unit_tensor(ref), normalize=True).reshape(-1).tolist()
    np.testing.assert_allclose(ours_lpips_pkg, want_pkg, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours, ours_lpips_pkg, rtol=1e-4)  # both libraries load the same files
    assert min(ours) > 0
    assert _score(METRICS.create("lpips"), dist, dist) == pytest.approx([0.0] * 3, abs=1e-7)


def test_dists_equals_pyiqa(wdir) -> None:
    import pyiqa
    import torchvision

    torch.manual_seed(1)
    meta = torchvision.models.vgg16(weights=None).state_dict()
    _save(meta, VGG16.path(wdir))
    del meta
    _save({"alpha": torch.rand(1, 1475, 1, 1), "beta": torch.rand(1, 1475, 1, 1)}, DISTS_HEAD.path(wdir))
    dist, ref = _frames(2, 48, 3), _frames(2, 48, 4)
    ours = _score(METRICS.create("dists"), dist, ref)
    torch.hub.set_dir(str(wdir / "hub"))
    direct = pyiqa.create_metric("dists", device="cpu", pretrained_model_path=str(DISTS_HEAD.path(wdir)))
    want = direct(unit_tensor(dist), unit_tensor(ref)).reshape(-1).tolist()
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-7)
    assert _score(METRICS.create("dists"), dist, dist) == pytest.approx([0.0] * 2, abs=1e-5)


def _write_niqe(root) -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=(36, 36))
    NIQE_PARAMS.path(root).parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(NIQE_PARAMS.path(root), {"mu_prisparam": rng.normal(size=(1, 36)),
                                              "cov_prisparam": a @ a.T / 36 + np.eye(36)})


@pytest.mark.parametrize("backend", ["native", "pyiqa"])
def test_niqe_equals_pyiqa_with_the_same_mat_and_luma(wdir, backend) -> None:
    import pyiqa

    _write_niqe(wdir)
    frames = _frames(2, 128, 6)
    path = str(NIQE_PARAMS.path(wdir))
    rtol = 1e-6 if backend == "pyiqa" else 1e-4  # native: own NumPy code, declared 1e-4 of pyiqa
    ours_y = _score(METRICS.create("niqe", color_space="y", backend=backend), frames)
    ours_gray = _score(METRICS.create("niqe", color_space="gray", backend=backend), frames)
    assert _score(METRICS.create("niqe", color_space="rgb", backend=backend), frames) == ours_gray
    direct_y = pyiqa.create_metric("niqe", device="cpu", pretrained_model_path=path, color_space="ycbcr")
    direct_gray = pyiqa.create_metric("niqe", device="cpu", pretrained_model_path=path)
    x = unit_tensor(frames)
    np.testing.assert_allclose(ours_y, direct_y(x).reshape(-1).tolist(), rtol=rtol)
    np.testing.assert_allclose(ours_gray, direct_gray(x).reshape(-1).tolist(), rtol=rtol)
    assert all(abs(a - b) > 1e-6 for a, b in zip(ours_y, ours_gray, strict=True))
    # "y" is BT.601 limited-range luma: a grey image carrying that luma scores the same under rgb2gray
    grey = [np.repeat(rgb_to_y(f)[..., None], 3, axis=2) / 255.0 for f in frames]
    via_grey = direct_gray(torch.from_numpy(np.stack(grey)).permute(0, 3, 1, 2).float()).reshape(-1).tolist()
    np.testing.assert_allclose(ours_y, via_grey, rtol=1e-4)
    # crop_border from the protocol removes pixels before scoring
    cropped = _score(METRICS.create("niqe", color_space="y", crop_border=8, backend=backend), frames)
    np.testing.assert_allclose(cropped, direct_y(x[:, :, 8:-8, 8:-8]).reshape(-1).tolist(), rtol=rtol)


def test_missing_weights_reported_without_network(wdir) -> None:
    metric = METRICS.create("lpips")
    ok, reason = metric.availability()
    assert not ok
    for part in ("alexnet-owt-7be5be79.pth", "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
                 "mgld-bench weights fetch alexnet-owt-7be5be79.pth"):
        assert part in reason
    with pytest.raises(WeightsMissingError, match=r"LPIPS_v0\.1_alex"):
        _score(metric, _frames(1, 32, 0), _frames(1, 32, 1))


def test_tlp_equals_pyiqa_lpips_differences(wdir) -> None:
    import pyiqa

    from mgld_bench.metrics.base import ScoreContext
    from mgld_bench.metrics.functional.warping import tecogan_crop
    from mgld_bench.metrics.temporal import TLP
    from tests.fakes import clip_from_gt

    write_lpips_alex_weights(wdir)
    gt, sr = _frames(3, 72, 7), _frames(3, 72, 8)
    clip = clip_from_gt(gt)
    acc = TLP().start(ScoreContext(clip=clip))
    for i in range(3):
        acc.update(i, sr[i], gt[i])
    res = acc.result()
    torch.hub.set_dir(str(wdir / "hub"))
    lp = pyiqa.create_metric("lpips", device="cpu", pretrained_model_path=str(LPIPS_ALEX_HEAD.path(wdir)))

    def d(a, b) -> float:
        return float(lp(unit_tensor([tecogan_crop(a)]), unit_tensor([tecogan_crop(b)])))

    want = [100 * abs(d(gt[t], gt[t + 1]) - d(sr[t], sr[t + 1])) for t in range(2)]
    assert sorted(res.frames) == [0, 1]
    np.testing.assert_allclose([res.frames[0], res.frames[1]], want, rtol=1e-4, atol=1e-6)
    assert res.value == pytest.approx(np.mean(want), rel=1e-4)


def test_brisque_and_musiq_equal_pyiqa(wdir) -> None:
    import pyiqa
    from pyiqa.archs.musiq_arch import MUSIQ as MusiqArch

    from mgld_bench.weights import BRISQUE_SVM, MUSIQ_KONIQ

    g = torch.Generator().manual_seed(3)
    _save((torch.randn(50, 1, generator=g, dtype=torch.float64),
           torch.rand(50, 36, generator=g, dtype=torch.float64)), BRISQUE_SVM.path(wdir))
    torch.manual_seed(4)
    _save(MusiqArch(pretrained=False).state_dict(), MUSIQ_KONIQ.path(wdir))
    frames = _frames(2, 64, 9)
    x = unit_tensor(frames)
    cases = (("brisque", BRISQUE_SVM, {"backend": "pyiqa"}, 1e-5), ("brisque", BRISQUE_SVM, {}, 1e-4),
             ("musiq", MUSIQ_KONIQ, {"backend": "pyiqa"}, 1e-6), ("musiq", MUSIQ_KONIQ, {}, 2e-5))
    for name, wf, opts, rtol in cases:
        ours = _score(METRICS.create(name, **opts), frames)
        direct = pyiqa.create_metric(name, device="cpu", pretrained_model_path=str(wf.path(wdir)))
        np.testing.assert_allclose(ours, direct(x).reshape(-1).tolist(), rtol=rtol, atol=1e-6)
        assert len(set(ours)) == 2  # two different frames, two different values


def test_niqe_on_a_flat_frame_is_a_clear_error(wdir) -> None:
    from mgld_bench.errors import BenchError

    _write_niqe(wdir)
    with pytest.raises(BenchError, match="niqe failed"):
        _score(METRICS.create("niqe"), [np.full((128, 128, 3), 128, np.uint8)])
    with pytest.raises(BenchError, match="at least 96x96"):
        _score(METRICS.create("niqe"), [np.zeros((64, 64, 3), np.uint8)])
