"""The method interface."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from mgld_bench.frames import Clip
from mgld_bench.options import Configurable
from mgld_bench.weights import WeightFile, missing_weights


@dataclass
class RunContext:
    """What a method may use while running one clip.

    ``workdir`` is an empty scratch folder owned by this job (deleted afterwards);
    ``log_dir`` is kept beside the cache entry (write logs of external processes there).
    """

    device: str = "cpu"
    seed: int = 0
    workdir: Path | None = None
    log_dir: Path | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class Method(Configurable):
    """A super-resolution method.

    Subclasses implement :meth:`run`, yielding the SR frames of a clip in order as uint8 RGB
    arrays.  The runner checks count and size, caches the frames, and never calls ``run`` again
    for the same inputs.  Anything that changes the output must be in ``options``, in
    :meth:`weight_files`, or in :meth:`extra_key`, since those make the cache key.
    """

    #: False for methods whose output changes from call to call even with a fixed seed.
    deterministic: ClassVar[bool] = True
    #: True for methods whose output depends on the seed (diffusion); the seed then enters the key.
    uses_seed: ClassVar[bool] = False
    #: True when the method cannot run without a GPU.
    requires_cuda: ClassVar[bool] = False

    @property
    def label(self) -> str:
        """The name results are filed under (a method may run several times under labels)."""
        return self.name

    def weight_files(self) -> list[WeightFile]:
        """The weight files this method loads (their sha256 goes into the cache key)."""
        return []

    def extra_key(self, clip: Clip) -> str | None:
        """Any further input that determines the output (e.g. a folder of precomputed frames)."""
        return None

    def frame_files(self, clip: Clip) -> list[Path] | None:
        """Image files that already are this method's output for ``clip``, in order (or None).

        The runner then stores their bytes as they are when they are 8-bit RGB PNGs (hash and
        copy, no decode/re-encode) and decodes only the others."""
        return None

    def availability(self) -> tuple[bool, str]:
        """(True, "") if the method can run here; else (False, the reason and the fix)."""
        missing = missing_weights(self.weight_files())
        if missing:
            return False, "; ".join(missing)
        return True, ""

    def run(self, clip: Clip, ctx: RunContext) -> Iterable[np.ndarray]:
        raise NotImplementedError
