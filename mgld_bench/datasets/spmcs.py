"""SPMCS: 30 SPMC test videos of 31 frames with GT; LR prepared (spmcs), official BIx4 or BDx4."""

from __future__ import annotations

from typing import Any, ClassVar

from mgld_bench.datasets.standard import ManifestDataset


class SPMCS(ManifestDataset):
    """SPMCS GT with the suite's seeded synthetic LR (MGLD-VSR's protocol)."""

    name = "spmcs"
    summary = "SPMCS (30 x 31 frames, GT) with seeded RealBasicVSR-degraded LR from `data prepare`"
    manifest_name = "spmcs"


class SPMCSBI(ManifestDataset):
    name = "spmcs-bi"
    summary = "SPMCS (30 x 31 frames, GT) with the official bicubic x4 LR (BIx4)"
    manifest_name = "spmcs"
    defaults: ClassVar[dict[str, Any]] = {**ManifestDataset.defaults, "lr": "bi"}


class SPMCSBD(ManifestDataset):
    name = "spmcs-bd"
    summary = "SPMCS (30 x 31 frames, GT) with the official Gaussian-blur x4 LR (BDx4)"
    manifest_name = "spmcs"
    defaults: ClassVar[dict[str, Any]] = {**ManifestDataset.defaults, "lr": "bd"}
