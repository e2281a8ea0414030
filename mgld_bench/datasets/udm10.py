"""UDM10: 10 PFNL test sequences with GT.  The LR set is an option (``lr``): prepared
(``udm10``), official BIx4 (the ``udm10-bi`` entry) or BDx4 (``udm10-bd``)."""

from __future__ import annotations

from mgld_bench.datasets.standard import ManifestDataset


class UDM10(ManifestDataset):
    """UDM10 GT with the suite's seeded synthetic LR (MGLD-VSR's protocol)."""

    name = "udm10"
    summary = "UDM10 (10 clips, GT) with seeded RealBasicVSR-degraded LR from `data prepare`"
    manifest_name = "udm10"
