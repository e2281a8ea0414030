"""The native MUSIQ network against pyiqa's MUSIQ called directly on the same random weights,
written under the released file name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mgld_bench.errors import BenchError
from mgld_bench.registry import METRICS
from mgld_bench.weights import MUSIQ_KONIQ
from tests.fakes import PickledTouch, textured_frames, unit_tensor


def _random_pyiqa_musiq(path: Path, seed: int, num_class: int = 1):
    """pyiqa's network with random weights, its norms and embeddings moved off their initial
    values (so a missing affine or embedding would show), saved to ``path``."""
    from pyiqa.archs.musiq_arch import MUSIQ

    torch.manual_seed(seed)
    net = MUSIQ(pretrained=False, num_class=num_class).eval()
    with torch.no_grad():
        for name, p in net.named_parameters():
            if "gn" in name or "norm" in name:
                p.add_(torch.randn_like(p) * 0.2)
            if name.endswith(("cls", "scale_emb", "position_emb")):
                p.normal_(0, 0.5)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    return net


@pytest.mark.parametrize(("h", "w"), [(67, 91), (150, 41)])
def test_native_musiq_equals_pyiqa(wdir, h, w) -> None:
    """Odd sizes: every scale has padded patches, the resized scales have fewer patches than
    pyiqa's fixed token count (its masked padding tokens), a tall frame swaps the longer side."""
    import pyiqa

    _random_pyiqa_musiq(MUSIQ_KONIQ.path(wdir), seed=h)
    frames = textured_frames(2, h, w, 3)
    metric = METRICS.create("musiq")
    assert metric.options["backend"] == "native"
    ours = metric.score_batch(frames, None)
    direct = pyiqa.create_metric("musiq", device="cpu", pretrained_model_path=str(MUSIQ_KONIQ.path(wdir)))
    want = direct(unit_tensor(frames)).reshape(-1).tolist()
    np.testing.assert_allclose(ours, want, rtol=2e-5, atol=1e-6)
    assert len(set(ours)) == 2
    # the pyiqa backend through the suite gives pyiqa's value too, under another identity
    np.testing.assert_allclose(METRICS.create("musiq", backend="pyiqa").score_batch(frames, None), want, rtol=1e-6)
    assert METRICS.create("musiq").identity() != METRICS.create("musiq", backend="pyiqa").identity()
    # a batch of both frames gives each frame's value alone
    both = METRICS.create("musiq", batch_size=2)
    np.testing.assert_allclose(both.score_batch(frames, None), ours, rtol=2e-5, atol=1e-6)


def test_a_distribution_head_gives_the_mean_score_as_pyiqa(tmp_path) -> None:
    """A 10-class checkpoint (the AVA model's layout): softmax, then the mean over 1..10."""
    from mgld_bench.metrics.backends.native_musiq import build_musiq

    ref = _random_pyiqa_musiq(tmp_path / "ava.pth", seed=11, num_class=10)
    x = unit_tensor(textured_frames(2, 90, 120, 5))
    with torch.no_grad():
        want = ref(x).reshape(-1)
        got = build_musiq(tmp_path / "ava.pth")(x)
    assert ((want > 1) & (want < 10)).all()
    np.testing.assert_allclose(got.tolist(), want.tolist(), rtol=1e-5)


def test_wrong_musiq_files_are_one_clear_error(wdir, tmp_path) -> None:
    from mgld_bench.metrics.backends.native_musiq import MUSIQNet, build_musiq

    full = MUSIQNet().state_dict()
    path = tmp_path / "m.pth"
    torch.save({"embedding.weight": full["embedding.weight"]}, path)
    with pytest.raises(BenchError, match=r"m\.pth: no 'head\.weight'.*not a MUSIQ checkpoint"):
        build_musiq(path)
    torch.save({k: v for k, v in full.items() if not k.startswith("block1.gn3")}, path)
    with pytest.raises(BenchError, match=r"m\.pth: no 'block1\.gn3\.weight' \(2 MUSIQ weights missing\)"):
        build_musiq(path)
    torch.save({**full, "embedding.weight": torch.zeros(384, 99)}, path)
    with pytest.raises(BenchError, match=r"m\.pth: embedding\.weight has shape \(384, 99\)"):
        build_musiq(path)
    # through the metric: the error names the released file
    MUSIQ_KONIQ.path(wdir).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"x": torch.zeros(1)}, MUSIQ_KONIQ.path(wdir))
    with pytest.raises(BenchError, match=r"musiq_koniq_ckpt-e95806b9\.pth: no 'head\.weight'"):
        METRICS.create("musiq").score_batch(textured_frames(1, 40, 40, 1), None)


def test_a_pickled_musiq_file_with_code_is_refused_before_it_runs(wdir, tmp_path) -> None:
    marker = tmp_path / "ran"
    MUSIQ_KONIQ.path(wdir).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"head.weight": PickledTouch(marker)}, MUSIQ_KONIQ.path(wdir))
    with pytest.raises(BenchError, match=r"musiq_koniq_ckpt"):
        METRICS.create("musiq").score_batch(textured_frames(1, 40, 40, 2), None)
    assert not marker.exists()
