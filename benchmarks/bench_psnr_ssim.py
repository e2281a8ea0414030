"""PSNR-Y + SSIM-Y per 1280x720 frame: mgld-bench vs pyiqa (same run, same CPU), and agreement with skimage.

Run: .venv/bin/python benchmarks/bench_psnr_ssim.py [--frames N] [--rounds R] [--pyiqa-frames M]
Targets: <= 20 ms per frame (issue #15), at least 30x faster than pyiqa's psnr+ssim
(test_y_channel=True, color_space='ycbcr'), values equal to skimage within 1e-4.  Ours is timed
first without torch in the process (as a PSNR/SSIM job runs), then again with torch loaded.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _ours_ms(srs: list[np.ndarray], gts: list[np.ndarray], rounds: int) -> list[float]:
    """ms per frame of psnr + ssim over the frames, one figure per round (fresh frames each call)."""
    from mgld_bench.metrics.functional.psnr_ssim import psnr, ssim

    psnr(srs[0], gts[0]), ssim(srs[0], gts[0])  # warm-up
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for s, g in zip(srs, gts, strict=True):
            psnr(s, g), ssim(s, g)
        out.append((time.perf_counter() - t0) / len(srs) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pyiqa-frames", type=int, default=3)
    args = ap.parse_args()

    import cv2

    from mgld_bench.metrics.functional.color import rgb_to_y
    from mgld_bench.metrics.functional.psnr_ssim import psnr, ssim

    cv2.setNumThreads(2)  # as the run's configure_threads on this 2-core machine
    rng = np.random.default_rng(0)
    gts = [rng.integers(0, 256, size=(720, 1280, 3), dtype=np.uint8) for _ in range(args.frames)]
    srs = [np.clip(g + rng.normal(0, 8, g.shape), 0, 255).astype(np.uint8) for g in gts]

    # as a PSNR/SSIM job runs: torch is not imported (the runner imports it only for metrics that need it)
    alone = _ours_ms(srs, gts, args.rounds)
    ours = [(psnr(s, g), ssim(s, g)) for s, g in zip(srs, gts, strict=True)]

    import torch
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    torch.set_num_threads(2)
    with_torch = _ours_ms(srs, gts, args.rounds)  # in a process that also runs torch metrics
    t_ours = min(alone)

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
    rounds = ", ".join(f"{v:.1f}" for v in alone)
    print(f"mgld-bench PSNR-Y+SSIM-Y: {t_ours:.1f} ms per 1280x720 frame, best of {args.rounds} rounds over "
          f"{len(srs)} frames ({rounds}) (target <= 20 ms)")
    again = ", ".join(f"{v:.1f}" for v in with_torch)
    print(f"  same, torch loaded in the process: {min(with_torch):.1f} ms ({again})")
    print(f"pyiqa psnr+ssim (ycbcr):   {t_pyiqa * 1000:.1f} ms per frame ({n} frames)")
    print(f"speed-up: {t_pyiqa * 1000 / t_ours:.1f}x (target >= 30x)")
    print(f"max |ours - skimage|: {worst:.2e} (target <= 1e-4)")


if __name__ == "__main__":
    main()
