"""SPMCS: 30 SPMC test videos of 31 frames with GT.  The LR set is an option (``lr``): prepared
(``spmcs``), official BIx4 (the ``spmcs-bi`` entry) or BDx4 (``spmcs-bd``)."""

from __future__ import annotations

from mgld_bench.datasets.standard import ManifestDataset


class SPMCS(ManifestDataset):
    """SPMCS GT with the suite's seeded synthetic LR (MGLD-VSR's protocol)."""

    name = "spmcs"
    summary = "SPMCS (30 x 31 frames, GT) with seeded RealBasicVSR-degraded LR from `data prepare`"
    manifest_name = "spmcs"
