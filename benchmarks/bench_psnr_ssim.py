"""PSNR-Y + SSIM-Y per 1280x720 frame: mgld-bench vs pyiqa (same run, same CPU), and agreement with skimage.

Run: .venv/bin/python benchmarks/bench_psnr_ssim.py [--frames N] [--pyiqa-frames M]
Target: at least 30x faster than pyiqa's psnr+ssim (test_y_channel=True, color_space='ycbcr'),
values equal to skimage within 1e-4.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=10)
    ap.add_argument("--pyiqa-frames", type=int, default=3)
    args = ap.parse_args()

    import torch
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    from mgld_bench.metrics.functional.color import rgb_to_y
    from mgld_bench.metrics.functional.psnr_ssim import psnr, ssim

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    gts = [rng.integers(0, 256, size=(720, 1280, 3), dtype=np.uint8) for _ in range(args.frames)]
    srs = [np.clip(g + rng.normal(0, 8, g.shape), 0, 255).astype(np.uint8) for g in gts]

    psnr(srs[0], gts[0]), ssim(srs[0], gts[0])  # warm-up
    t0 = time.perf_counter()
    ours = [(psnr(s, g), ssim(s, g)) for s, g in zip(srs, gts, strict=True)]
    t_ours = (time.perf_counter() - t0) / len(srs)

    import pyiqa

    m_psnr = pyiqa.create_metric("psnr", test_y_channel=True, color_space="ycbcr", device="cpu")
    m_ssim = pyiqa.create_metric("ssim", test_y_channel=True, color_space="ycbcr", device="cpu")

    def to_t(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(x).permute(2, 0, 1)[None].float() / 255.0

    n = min(args.pyiqa_frames, len(srs))
    t0 = time.perf_counter()
    for s, g in zip(srs[:n], gts[:n], strict=True):
        m_psnr(to_t(s), to_t(g)), m_ssim(to_t(s), to_t(g))
    t_pyiqa = (time.perf_counter() - t0) / n

    worst = 0.0
    for (p, q), s, g in zip(ours, srs, gts, strict=True):
        ys, yg = rgb_to_y(s), rgb_to_y(g)
        worst = max(worst, abs(p - peak_signal_noise_ratio(yg, ys, data_range=255)))
        ref = structural_similarity(
            ys, yg, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
        )
        worst = max(worst, abs(q - ref))
    print(f"mgld-bench PSNR-Y+SSIM-Y: {t_ours * 1000:.1f} ms per 1280x720 frame ({len(srs)} frames)")
    print(f"pyiqa psnr+ssim (ycbcr):   {t_pyiqa * 1000:.1f} ms per frame ({n} frames)")
    print(f"speed-up: {t_pyiqa / t_ours:.1f}x (target >= 30x)")
    print(f"max |ours - skimage|: {worst:.2e} (target <= 1e-4)")


if __name__ == "__main__":
    main()
