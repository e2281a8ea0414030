"""REDS4: clips 000, 011, 015, 020 of REDS train_sharp (GT).  The LR set is an option (``lr``):
prepared (``reds4``) or the official bicubic frames (the ``reds4-bicubic`` entry)."""

from __future__ import annotations

from mgld_bench.datasets.standard import ManifestDataset


class REDS4(ManifestDataset):
    """REDS4 GT with the suite's seeded synthetic LR (``data prepare reds4``)."""

    name = "reds4"
    summary = "REDS4 (4 x 100 frames, 720p GT) with seeded RealBasicVSR-degraded LR from `data prepare`"
    manifest_name = "reds4"
