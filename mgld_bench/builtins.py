"""The names mgld-bench registers itself (lazy ``module:attr`` targets).

Everything else -- ``baselines/`` included -- registers through entry points exactly as a
third-party plugin would (see ``pyproject.toml``).
"""

from __future__ import annotations

DATASETS: dict[str, str] = {
    "synthetic": "mgld_bench.datasets.synthetic:SyntheticDataset",
    "reds4": "mgld_bench.datasets.reds4:REDS4",
    "reds4-bicubic": "mgld_bench.datasets.reds4:REDS4Bicubic",
    "videolq": "mgld_bench.datasets.videolq:VideoLQ",
    "udm10": "mgld_bench.datasets.udm10:UDM10",
    "udm10-bi": "mgld_bench.datasets.udm10:UDM10BI",
    "udm10-bd": "mgld_bench.datasets.udm10:UDM10BD",
    "spmcs": "mgld_bench.datasets.spmcs:SPMCS",
    "spmcs-bi": "mgld_bench.datasets.spmcs:SPMCSBI",
    "spmcs-bd": "mgld_bench.datasets.spmcs:SPMCSBD",
    "folder": "mgld_bench.datasets.folder:FolderDataset",
    "video": "mgld_bench.datasets.video:VideoDataset",
}

METHODS: dict[str, str] = {
    "precomputed": "mgld_bench.methods.precomputed:Precomputed",
    "external": "mgld_bench.methods.external:External",
    "mgld": "mgld_bench.methods.mgld_official:MGLDOfficial",
    "mgld-sd": "mgld_bench.methods.mgld_sd:MGLDGuidedSD",
    "sd-x4": "mgld_bench.methods.mgld_sd:SDx4Upscaler",
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
    "musiq-koniq": "mgld_bench.metrics.learned:MUSIQ_KONIQ_ENTRY",
    "musiq-spaq": "mgld_bench.metrics.learned:MUSIQ_SPAQ_ENTRY",
    "musiq-ava": "mgld_bench.metrics.learned:MUSIQ_AVA_ENTRY",
    "musiq-paq2piq": "mgld_bench.metrics.learned:MUSIQ_PAQ2PIQ_ENTRY",
    "maniqa": "mgld_bench.metrics.learned:MANIQA_ENTRY",
    "maniqa-kadid": "mgld_bench.metrics.learned:MANIQA_KADID_ENTRY",
    "maniqa-pipal": "mgld_bench.metrics.learned:MANIQA_PIPAL_ENTRY",
    "clipiqa": "mgld_bench.metrics.learned:CLIPIQA_ENTRY",
    "clipiqa+": "mgld_bench.metrics.learned:CLIPIQA_PLUS_ENTRY",
    "pyiqa": "mgld_bench.metrics.learned:PyiqaMetric",
    "dover": "mgld_bench.metrics.video:DOVER",
    "dover-technical": "mgld_bench.metrics.video:DOVERTechnical",
    "dover-aesthetic": "mgld_bench.metrics.video:DOVERAesthetic",
    "warping_error": "mgld_bench.metrics.temporal:WarpingError",
    "warping_error-evalcrafter": "mgld_bench.metrics.temporal:WarpingErrorEvalCrafter",
    "mawe": "mgld_bench.metrics.temporal:MAWE",
    "tof": "mgld_bench.metrics.temporal:TOF",
    "tlp": "mgld_bench.metrics.temporal:TLP",
}
