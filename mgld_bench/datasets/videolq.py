"""VideoLQ: the 50 real-world LR-only test videos of RealBasicVSR."""

from __future__ import annotations

from typing import Any, ClassVar

from mgld_bench.datasets.standard import ManifestDataset


class VideoLQ(ManifestDataset):
    """VideoLQ: 50 real-world LR-only videos."""

    name = "videolq"
    summary = "VideoLQ (50 real-world videos, LR only; no-reference metrics)"
    manifest_name = "videolq"
    #: Scored as its authors did (frames 0/50/99, Y); `--protocol default` scores every frame.
    default_protocol = "videolq"
    defaults: ClassVar[dict[str, Any]] = {"root": "", "lr": "official"}
