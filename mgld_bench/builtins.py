"""The names mgld-bench registers itself (lazy ``module:attr`` targets).

Everything else -- ``baselines/`` included -- registers through entry points exactly as a
third-party plugin would (see ``pyproject.toml``).
"""

from __future__ import annotations

DATASETS: dict[str, str] = {
    "synthetic": "mgld_bench.datasets.synthetic:SyntheticDataset",
}

METHODS: dict[str, str] = {
    "precomputed": "mgld_bench.methods.precomputed:Precomputed",
    "external": "mgld_bench.methods.external:External",
}

METRICS: dict[str, str] = {
    "psnr": "mgld_bench.metrics.fidelity:PSNR",
    "ssim": "mgld_bench.metrics.fidelity:SSIM",
    "lpips": "mgld_bench.metrics.learned:LPIPS",
    "lpips-vgg": "mgld_bench.metrics.learned:LPIPSVGG",
    "dists": "mgld_bench.metrics.learned:DISTS",
    "niqe": "mgld_bench.metrics.learned:NIQE",
    "brisque": "mgld_bench.metrics.learned:BRISQUE",
    "musiq": "mgld_bench.metrics.learned:MUSIQ",
    "warping_error": "mgld_bench.metrics.temporal:WarpingError",
    "warping_error-evalcrafter": "mgld_bench.metrics.temporal:WarpingErrorEvalCrafter",
    "tof": "mgld_bench.metrics.temporal:TOF",
    "tlp": "mgld_bench.metrics.temporal:TLP",
}
