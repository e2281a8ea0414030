"""MS-SSIM and GMSD (piq by default, pyiqa as ``backend=pyiqa``) against the other library.

The reference of each backend is the *other* library's function, called here on luma computed by
the test itself (BT.601 in float64, not the suite's helper), on pyiqa's TID2013 calibration pairs
(``site-packages/ResultsCalibra``) and on random frames.  Tolerances, with their reasons:

Ours computes in float32, the references in float64 (measured < 6e-6 apart where the algorithms
agree; 2e-5 allowed).

* MS-SSIM: 5e-4 on the TID2013 pairs -- pyiqa clamps the contrast-structure *map* at 0 pixel by
  pixel, piq only the averaged values; on noisy pairs (I03, I08) local anticorrelation makes the
  two differ by up to 3.3e-4.  With that clamp removed from pyiqa they agree within 2e-5 (tested;
  2e-7 when both run in float64), so the clamp is the whole difference.  Sizes that halve evenly
  five times: 2e-5.
* GMSD: 1e-5 for even sizes (pyiqa's deviation divides by N - 1, piq's by N: a factor
  1 + 1/(2N)); 1e-4 for odd sizes (pyiqa drops the odd row/column when halving, piq zero-pads).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from mgld_bench.errors import BenchError
from mgld_bench.frames import read_image
from mgld_bench.metrics.base import ScoreContext
from mgld_bench.registry import METRICS
from tests.fakes import clip_of


def _pairs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    import importlib.util

    spec = importlib.util.find_spec("pyiqa")
    assert spec is not None and spec.origin is not None
    root = Path(spec.origin).parent.parent / "ResultsCalibra"
    refs = sorted((root / "ref_dir").glob("*.bmp"))
    assert len(refs) == 5, f"pyiqa's ResultsCalibra pairs not found under {root}"
    return [(p.stem, read_image(root / "dist_dir" / p.name), read_image(p)) for p in refs]


PAIRS = _pairs()


def _noisy_pair(h: int, w: int, seed: int, amp: int = 20) -> tuple[np.ndarray, np.ndarray]:
    import cv2

    rng = np.random.default_rng(seed)
    ref = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 1.5)
    dist = np.clip(ref.astype(int) + rng.integers(-amp, amp + 1, ref.shape), 0, 255).astype(np.uint8)
    return dist, ref


def _y(frame: np.ndarray) -> torch.Tensor:
    """BT.601 luma in [0, 1], float64, (1, 1, H, W): computed here, independently of the suite."""
    rgb = frame.astype(np.float64) / 255.0
    y = (16.0 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255.0
    return torch.from_numpy(y)[None, None]


def _rgb(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frame.astype(np.float64) / 255.0).permute(2, 0, 1)[None]


def _piq_ms_ssim(d: torch.Tensor, r: torch.Tensor) -> float:
    import piq

    return float(piq.multi_scale_ssim(d, r, data_range=1.0))


def _pyiqa_ms_ssim(d: torch.Tensor, r: torch.Tensor) -> float:
    from pyiqa.archs.ssim_arch import ms_ssim

    return float(ms_ssim(d * 255, r * 255, data_range=255))


def _piq_gmsd(d: torch.Tensor, r: torch.Tensor) -> float:
    import piq

    return float(piq.gmsd(d, r, data_range=1.0))


def _pyiqa_gmsd(d: torch.Tensor, r: torch.Tensor) -> float:
    from pyiqa.archs.gmsd_arch import gmsd

    return float(gmsd(d, r, channels=1, test_y_channel=False))


#: metric -> backend -> (the other library's function, tolerance on TID2013, on random frames)
REFERENCES = {
    "ms-ssim": {"piq": (_pyiqa_ms_ssim, 5e-4, 2e-5), "pyiqa": (_piq_ms_ssim, 5e-4, 2e-5)},
    "gmsd": {"piq": (_pyiqa_gmsd, 1e-5, 1e-5), "pyiqa": (_piq_gmsd, 1e-5, 1e-5)},
}
#: the random pairs: sizes that halve evenly five times
RANDOM = [_noisy_pair(192, 256, seed) for seed in range(2)]


@cache
def _reference(fn: Callable[[torch.Tensor, torch.Tensor], float], which: str) -> list[float]:
    """``fn`` on the TID2013 pairs or the random pairs, computed once per test session."""
    pairs = [(d, r) for _, d, r in PAIRS] if which == "tid" else RANDOM
    return [fn(_y(d), _y(r)) for d, r in pairs]


@cache
def _ours(name: str, backend: str, which: str) -> tuple[float, ...]:
    pairs = [(d, r) for _, d, r in PAIRS] if which == "tid" else RANDOM
    return tuple(METRICS.create(name, backend=backend).score_batch([d for d, _ in pairs], [r for _, r in pairs]))


@pytest.mark.parametrize("backend", ["piq", "pyiqa"])
@pytest.mark.parametrize("name", ["ms-ssim", "gmsd"])
def test_each_backend_matches_the_other_library_on_tid2013_and_random_frames(name: str, backend: str) -> None:
    ref_fn, tol_tid, tol_rand = REFERENCES[name][backend]
    assert list(_ours(name, backend, "tid")) == pytest.approx(_reference(ref_fn, "tid"), abs=tol_tid)
    assert list(_ours(name, backend, "random")) == pytest.approx(_reference(ref_fn, "random"), abs=tol_rand)


def test_ms_ssim_backends_differ_only_by_pyiqas_pixelwise_clamp(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without pyiqa's ReLU on the contrast-structure map, its MS-SSIM equals piq's on every pair."""
    import pyiqa.archs.ssim_arch as ssim_arch

    ours = _ours("ms-ssim", "piq", "tid")
    clamped = _reference(_pyiqa_ms_ssim, "tid")
    assert max(abs(a - b) for a, b in zip(ours, clamped, strict=True)) > 1e-4  # I03: heavy noise
    functional = ssim_arch.F
    monkeypatch.setattr(ssim_arch, "F", SimpleNamespace(relu=lambda t: t, avg_pool2d=functional.avg_pool2d))
    unclamped = [_pyiqa_ms_ssim(_y(d), _y(r)) for _, d, r in PAIRS]
    assert list(ours) == pytest.approx(unclamped, abs=2e-5)


def test_odd_sizes_follow_each_library() -> None:
    """Odd sizes: the libraries halve differently (docs/metrics.md); each backend is its library, and
    the two stay within the TID2013 tolerance on a noisy pair (measured: MS-SSIM 2.3e-4, GMSD 3.4e-5)."""
    d, r = _noisy_pair(270, 481, seed=4)
    for name, fns in (("ms-ssim", (_piq_ms_ssim, _pyiqa_ms_ssim)), ("gmsd", (_piq_gmsd, _pyiqa_gmsd))):
        for backend, fn in zip(("piq", "pyiqa"), fns, strict=True):
            got = METRICS.create(name, backend=backend).score_batch([d], [r])[0]
            assert got == pytest.approx(fn(_y(d), _y(r)), abs=1e-5), (name, backend)
        piq_value, pyiqa_value = (fn(_y(d), _y(r)) for fn in fns)
        assert abs(piq_value - pyiqa_value) < {"ms-ssim": 5e-4, "gmsd": 1e-4}[name], name


def test_rgb_and_crop_border_conventions() -> None:
    import piq

    d, r = _noisy_pair(200, 208, seed=5)
    # rgb: mean over channels of per-channel MS-SSIM; crop_border removes pixels on every side
    got = METRICS.create("ms-ssim", color_space="rgb", crop_border=4).score_batch([d], [r])[0]
    expected = np.mean([_piq_ms_ssim(_rgb(d)[:, c:c + 1, 4:-4, 4:-4], _rgb(r)[:, c:c + 1, 4:-4, 4:-4])
                        for c in range(3)])
    assert got == pytest.approx(float(expected), abs=1e-5)
    # GMSD is one-channel: rgb means the libraries' own luma (0.299, 0.587, 0.114)
    got = METRICS.create("gmsd", color_space="rgb").score_batch([d], [r])[0]
    assert got == pytest.approx(float(piq.gmsd(_rgb(d), _rgb(r), data_range=1.0)), abs=1e-5)


def test_hand_values_identical_frames() -> None:
    d, _ = _noisy_pair(176, 176, seed=6)
    flat = np.full((176, 176, 3), 77, np.uint8)
    for backend in ("piq", "pyiqa"):
        assert METRICS.create("ms-ssim", backend=backend).score_batch([d, flat], [d, flat]) == pytest.approx(
            [1.0, 1.0], abs=1e-7)
        assert METRICS.create("gmsd", backend=backend).score_batch([d, flat], [d, flat]) == pytest.approx(
            [0.0, 0.0], abs=1e-7)


def test_facts_label_and_identity_follow_the_backend() -> None:
    ms = METRICS.create("ms-ssim")
    assert ms.facts.display == "MS-SSIM" and ms.higher_is_better and ms.needs_gt
    assert not METRICS.create("gmsd").higher_is_better
    assert ms.label == "ms-ssim" and ms.backend().startswith("piq ")
    other = METRICS.create("ms-ssim", backend="pyiqa")
    assert other.label == "ms-ssim[backend=pyiqa]" and other.backend().startswith("pyiqa ")
    assert other.identity() != ms.identity()
    assert METRICS.create("ms_ssim").name == "ms-ssim"
    with pytest.raises(BenchError, match="backend"):
        METRICS.create("ms-ssim", backend="lpips")


def test_frames_below_the_five_scale_minimum_fail_with_one_line_naming_the_clip() -> None:
    d, r = _noisy_pair(160, 240, seed=7)
    clip = clip_of([d[::4, ::4]], [r], name="tiny_clip")
    metric = METRICS.create("ms-ssim")
    acc = metric.start(ScoreContext(clip))
    with pytest.raises(BenchError) as exc:
        acc.update(0, d, r)
        acc.result()
    text = str(exc.value)
    assert "\n" not in text and "tiny_clip" in text and "161x161" in text and "240x160" in text
    crop = METRICS.create("ms-ssim", crop_border=40)
    crop.start(ScoreContext(clip))
    with pytest.raises(BenchError, match=r"161x161.*got 160x80"):
        crop.score_batch([d], [r])


def test_listing_metrics_imports_neither_piq_nor_torch() -> None:
    code = ("import sys; from mgld_bench.cli import main; main(['list', 'metrics']); "
            "print('LOADED', sorted(m for m in ('piq', 'torch', 'pyiqa') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert "ms-ssim" in out and "gmsd" in out
    assert "LOADED []" in out


if __name__ == "__main__":  # the agreement figures of docs/metrics.md: python -m tests.metrics.test_structural
    for name, backends in REFERENCES.items():
        for backend, (ref_fn, _, _) in backends.items():
            metric = METRICS.create(name, backend=backend)
            tid = [abs(metric.score_batch([d], [r])[0] - ref_fn(_y(d), _y(r))) for _, d, r in PAIRS]
            rand = [abs(metric.score_batch([d], [r])[0] - ref_fn(_y(d), _y(r))) for d, r in RANDOM]
            d, r = _noisy_pair(270, 481, 4)
            odd = abs(metric.score_batch([d], [r])[0] - ref_fn(_y(d), _y(r)))
            print(f"{name} backend={backend} vs the other library: TID2013 "
                  + " ".join(f"{n}:{v:.1e}" for (n, _, _), v in zip(PAIRS, tid, strict=True))
                  + f" | random max {max(rand):.1e} | 481x270 {odd:.1e}")
