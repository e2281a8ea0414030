"""``maniqa`` equals pyiqa's own MANIQA on the same random weights.

The random state dict (ViT-B/8 backbone included, as in the released file, which pyiqa loads
with ``strict=True``) is written under the real file name ``ckpt_koniq10k.pt``.  The reference is
``pyiqa.create_metric("maniqa")`` as it is, with only its two downloads pointed at local
things: the checkpoint URL at that file, and timm's ImageNet ViT (overwritten by the strict load)
not fetched.  Both sides take one 224-px crop per image instead of pyiqa's 20 (the same option of
pyiqa's table, changed for both), which keeps the ViT-B/8 forward passes within seconds on a CPU.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pyiqa")

from mgld_bench.protocol import DEFAULT  # noqa: E402
from mgld_bench.runner.plan import build_metric  # noqa: E402
from mgld_bench.weights import MANIQA_KONIQ  # noqa: E402


def _no_imagenet_download(monkeypatch: pytest.MonkeyPatch) -> None:
    import timm
    from pyiqa.archs import maniqa_arch

    real = timm.create_model

    def create(*args, **kwargs):
        kwargs["pretrained"] = False
        return real(*args, **kwargs)

    monkeypatch.setattr(maniqa_arch.timm, "create_model", create)


@pytest.mark.slow  # about 35 s on 2 busy cores: two ViT-B/8 forward passes and a 350 MB state dict
def test_maniqa_equals_pyiqa_on_the_same_random_weights(wdir, monkeypatch) -> None:
    import pyiqa
    from pyiqa.archs import arch_util, maniqa_arch
    from pyiqa.default_model_configs import DEFAULT_CONFIGS

    monkeypatch.setitem(DEFAULT_CONFIGS["maniqa"]["metric_opts"], "test_sample", 1)
    with monkeypatch.context() as m:  # a random MANIQA, ViT included, saved as the released file is
        _no_imagenet_download(m)
        torch.manual_seed(11)
        net = maniqa_arch.MANIQA(pretrained=False, train_dataset="koniq", scale=0.8)
    state = {k: (v + 0.02 * torch.randn_like(v) if v.is_floating_point() else v) for k, v in net.state_dict().items()}
    del net
    path = MANIQA_KONIQ.path(wdir)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    del state

    rng = np.random.default_rng(4)
    frames = [rng.integers(0, 256, (200, 232, 3), dtype=np.uint8)]  # short side < 224: pyiqa's upscale path
    metric = build_metric("maniqa", DEFAULT, {})
    assert metric.availability()[0]
    ours = metric.score_batch(frames, None)

    monkeypatch.setattr(arch_util, "load_file_from_url", lambda url, *a, **k: str(path))
    _no_imagenet_download(monkeypatch)
    direct = pyiqa.create_metric("maniqa", device="cpu")
    x = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255.0
    want = direct(x).reshape(-1).tolist()
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, want, rtol=1e-5, atol=1e-6)
