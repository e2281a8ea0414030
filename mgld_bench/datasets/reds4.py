"""REDS4: clips 000, 011, 015, 020 of REDS train_sharp (GT), with prepared or official bicubic LR."""

from __future__ import annotations

from typing import Any, ClassVar

from mgld_bench.datasets.standard import ManifestDataset


class REDS4(ManifestDataset):
    """REDS4 GT with the suite's seeded synthetic LR (``data prepare reds4``)."""

    name = "reds4"
    summary = "REDS4 (4 x 100 frames, 720p GT) with seeded RealBasicVSR-degraded LR from `data prepare`"
    manifest_name = "reds4"


class REDS4Bicubic(ManifestDataset):
    """REDS4 GT with the official bicubic x4 LR frames."""

    name = "reds4-bicubic"
    summary = "REDS4 (4 x 100 frames, 720p GT) with the official bicubic x4 LR (train_sharp_bicubic)"
    manifest_name = "reds4"
    defaults: ClassVar[dict[str, Any]] = {**ManifestDataset.defaults, "lr": "bicubic"}
