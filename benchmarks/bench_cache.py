"""Cold vs warm `mgld-bench run`, and peak memory while scoring a 100-frame 720p clip.

Run: .venv/bin/python benchmarks/bench_cache.py
Targets: a warm re-run takes at most 5 % of the cold run's wall time; scoring a 100-frame
1280x720 clip (PSNR + SSIM) peaks under 1.5 GB of resident memory.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CLI = [sys.executable, "-m", "mgld_bench.cli"]


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run = [
            *CLI,
            "run",
            "--cache-dir",
            str(root / "cache"),
            "--out",
            str(root / "out"),
            "--no-progress",
            "--set",
            "synthetic.size=720",
            "--set",
            "synthetic.frames=24",
        ]
        cold = timed(run)
        warm = timed(run)
        print(
            f"run (synthetic 3 clips x 24 frames at 720x720, bicubic, psnr+ssim): cold {cold:.2f} s, "
            f"warm {warm:.2f} s, warm/cold = {100 * warm / cold:.1f} % (target <= 5 %)"
        )

        from mgld_bench.frames import write_image

        rng = np.random.default_rng(0)
        base = rng.integers(0, 256, size=(720, 1280, 3), dtype=np.uint8)
        for i in range(100):
            g = np.roll(base, i, axis=1)
            write_image(root / "gt" / f"{i:04d}.png", g)
            write_image(
                root / "sr" / f"{i:04d}.png",
                np.clip(g.astype(int) + rng.integers(-6, 7, g.shape), 0, 255).astype(np.uint8),
            )
        t = timed([*CLI, "score", str(root / "sr"), str(root / "gt"), "--no-cache"])
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(
            f"score 100 frames 1280x720 (psnr+ssim): {t:.1f} s, peak RSS of any child {peak_mb:.0f} MB "
            "(target < 1500 MB)"
        )


if __name__ == "__main__":
    main()
