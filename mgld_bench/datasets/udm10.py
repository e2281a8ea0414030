"""UDM10: 10 PFNL test sequences with GT; LR prepared (udm10), official BIx4 (udm10-bi) or BDx4 (udm10-bd)."""

from __future__ import annotations

from typing import Any, ClassVar

from mgld_bench.datasets.standard import ManifestDataset


class UDM10(ManifestDataset):
    """UDM10 GT with the suite's seeded synthetic LR (MGLD-VSR's protocol)."""

    name = "udm10"
    summary = "UDM10 (10 clips, GT) with seeded RealBasicVSR-degraded LR from `data prepare`"
    manifest_name = "udm10"


class UDM10BI(ManifestDataset):
    name = "udm10-bi"
    summary = "UDM10 (10 clips, GT) with the official bicubic x4 LR (BIx4)"
    manifest_name = "udm10"
    defaults: ClassVar[dict[str, Any]] = {**ManifestDataset.defaults, "lr": "bi"}


class UDM10BD(ManifestDataset):
    name = "udm10-bd"
    summary = "UDM10 (10 clips, GT) with the official Gaussian-blur x4 LR (BDx4)"
    manifest_name = "udm10"
    defaults: ClassVar[dict[str, Any]] = {**ManifestDataset.defaults, "lr": "bd"}
