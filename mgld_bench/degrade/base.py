"""The operation interface: a per-clip stateful transform of a stream of float32 frames."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np


class Operation:
    """One degradation step applied to every frame of a clip.

    :meth:`stream` draws the clip's parameters from ``rng`` first, then transforms frames (float32
    H x W x 3 RGB, nominally in [0, 1]) one at a time, random-walking its parameters between frames.
    """

    name: str = ""

    def stream(self, frames: Iterable[np.ndarray], rng: np.random.Generator) -> Iterator[np.ndarray]:
        raise NotImplementedError

    def describe(self) -> dict[str, object]:
        """The operation's fixed settings (recorded in prepared-set manifests)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}
