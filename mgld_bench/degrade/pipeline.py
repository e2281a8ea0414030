"""The named degradations and their seeding.

* ``realbasicvsr`` -- RealBasicVSR's training degradation (mmedit ``random_degradations``):
  USM-sharpened GT -> blur -> resize -> noise -> JPEG -> video compression -> blur (p 0.8) ->
  resize -> noise -> JPEG -> shuffled {video compression, [resize to GT/4, sinc blur (p 0.8)]} ->
  quantise.
* ``mgld`` -- MGLD-VSR's copy: the same stage values, LR made from the raw (unsharpened) GT,
  fixed order with a second video compression at the end of stage 2, no shuffle, then resize to
  GT/4, sinc blur (p 0.8), clip and quantise.
* ``bicubic`` -- MATLAB-style bicubic x4 downsampling, no randomness.

On full test frames the final resize goes to (H // 4, W // 4) of the GT (the reference crops 256
or 512 pixels and resizes to a quarter of the crop).  Every clip gets its own numpy Generator from
sha256(dataset, clip, seed, degradation, version); each operation draws from its own child
Generator, so adding frames or reordering evaluation never shifts another operation's draws.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from mgld_bench.degrade.base import Operation
from mgld_bench.degrade.bicubic import bicubic_downsample
from mgld_bench.degrade.blur import RandomBlur
from mgld_bench.degrade.jpeg import RandomJPEG
from mgld_bench.degrade.noise import RandomNoise
from mgld_bench.degrade.resize import RandomResize
from mgld_bench.degrade.sharpen import unsharp_mask
from mgld_bench.degrade.video import RandomVideoCompression
from mgld_bench.errors import UnknownNameError

SCALE = 4


def clip_seed(dataset: str, clip: str, seed: int, degradation: str, version: int) -> list[int]:
    """The seed words of a clip's Generator: sha256 of the identifying tuple, as four 64-bit words."""
    digest = hashlib.sha256(f"mgld-bench|{dataset}|{clip}|{seed}|{degradation}|v{version}".encode()).digest()
    return [int.from_bytes(digest[i : i + 8], "little") for i in range(0, 32, 8)]


def _op_rng(words: list[int], index: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([*words, index])))


def _chain(frames: Iterable[np.ndarray], ops: list[Operation], words: list[int], first: int) -> Iterator[np.ndarray]:
    stream: Iterable[np.ndarray] = frames
    for i, op in enumerate(ops):
        stream = op.stream(stream, _op_rng(words, first + i))
    yield from stream


def _to_float(frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    for f in frames:
        yield f.astype(np.float32) / np.float32(255.0)


def _quantise(frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    for f in frames:
        yield np.clip(np.round(f * 255.0), 0, 255).astype(np.uint8)


class Degradation:
    """A named, versioned GT -> LR degradation of a whole clip.

    ``video_codecs`` overrides the codecs video compression draws from (default: the reference's
    libx264 / h264 / mpeg4, equally likely).
    """

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    summary: ClassVar[str] = ""

    def __init__(self, video_codecs: tuple[str, ...] | None = None) -> None:
        self.video_codecs = tuple(video_codecs) if video_codecs else None

    def _video(self) -> RandomVideoCompression:
        if self.video_codecs is None:
            return RandomVideoCompression()
        n = len(self.video_codecs)
        return RandomVideoCompression(codecs=self.video_codecs, codec_prob=tuple([1 / n] * n))

    def degrade_clip(
        self, frames: Iterable[np.ndarray], gt_size: tuple[int, int], words: list[int]
    ) -> Iterator[np.ndarray]:
        """uint8 RGB GT frames in, uint8 RGB LR frames of size (H // 4, W // 4) out, lazily."""
        raise NotImplementedError

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "version": self.version, "video_codecs": self.video_codecs}


def _stage1(video: Operation) -> list[Operation]:
    return [
        RandomBlur(prob=1.0, sigma_x=(0.2, 3.0), sigma_y=(0.2, 3.0)),
        RandomResize(mode_prob=(0.2, 0.7, 0.1), scale=(0.15, 1.5), step=0.015),
        RandomNoise(gaussian_sigma=(1.0, 30.0), poisson_scale=(0.05, 3.0)),
        RandomJPEG(quality=(30, 95), step=3.0),
        video,
    ]


def _stage2() -> list[Operation]:
    return [
        RandomBlur(prob=0.8, sigma_x=(0.2, 1.5), sigma_y=(0.2, 1.5)),
        RandomResize(mode_prob=(0.3, 0.4, 0.3), scale=(0.3, 1.2), step=0.03),
        RandomNoise(gaussian_sigma=(1.0, 25.0), poisson_scale=(0.05, 2.5)),
        RandomJPEG(quality=(30, 95), step=3.0),
    ]


def _final_resize(gt_size: tuple[int, int]) -> RandomResize:
    target = (gt_size[0] // SCALE, gt_size[1] // SCALE)
    return RandomResize(mode_prob=(0.0, 0.0, 1.0), target=target, even=False)


def _final_sinc(omega: tuple[float, float]) -> RandomBlur:
    return RandomBlur(prob=0.8, kernel_list=("sinc",), kernel_prob=(1.0,), omega=omega)


@dataclass
class _Sharpened:
    def stream(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        for f in frames:
            yield unsharp_mask(f, kernel_size=51, sigma=0.0, weight=0.5, threshold=10.0)


class RealBasicVSRDegradation(Degradation):
    name = "realbasicvsr"
    version = 1
    summary = "RealBasicVSR's two-stage degradation with per-frame random walks and a shuffled final stage"

    def ops(self, gt_size: tuple[int, int], words: list[int]) -> list[Operation]:
        """Every operation in the order this clip applies them (the final block's order is drawn)."""
        order = _op_rng(words, 1000).permutation(2)
        final: list[list[Operation]] = [[self._video()], [_final_resize(gt_size), _final_sinc((np.pi / 3, np.pi))]]
        return [*_stage1(self._video()), *_stage2(), *final[order[0]], *final[order[1]]]

    def degrade_clip(
        self, frames: Iterable[np.ndarray], gt_size: tuple[int, int], words: list[int]
    ) -> Iterator[np.ndarray]:
        sharpened = _Sharpened().stream(_to_float(frames))
        return _quantise(_chain(sharpened, self.ops(gt_size, words), words, 0))


class MGLDDegradation(Degradation):
    name = "mgld"
    version = 1
    summary = "MGLD-VSR's copy: same stage values, LR from the raw GT, fixed order with a second video compression"

    def ops(self, gt_size: tuple[int, int], words: list[int]) -> list[Operation]:
        return [
            *_stage1(self._video()),
            *_stage2(),
            self._video(),
            _final_resize(gt_size),
            _final_sinc((1.0472, 3.1416)),
        ]

    def degrade_clip(
        self, frames: Iterable[np.ndarray], gt_size: tuple[int, int], words: list[int]
    ) -> Iterator[np.ndarray]:
        return _quantise(_chain(_to_float(frames), self.ops(gt_size, words), words, 0))


class BicubicDegradation(Degradation):
    name = "bicubic"
    version = 1
    summary = "MATLAB-style bicubic x4 downsampling (deterministic, no noise)"

    def degrade_clip(
        self, frames: Iterable[np.ndarray], gt_size: tuple[int, int], words: list[int]
    ) -> Iterator[np.ndarray]:
        h, w = gt_size[0] // SCALE * SCALE, gt_size[1] // SCALE * SCALE
        for f in _to_float(frames):
            yield from _quantise([bicubic_downsample(f[:h, :w], SCALE)])


DEGRADATIONS: dict[str, type[Degradation]] = {
    d.name: d for d in (RealBasicVSRDegradation, MGLDDegradation, BicubicDegradation)
}


def get_degradation(name: str, video_codecs: tuple[str, ...] | None = None) -> Degradation:
    """The degradation called ``name``; raise listing the valid names when unknown."""
    try:
        return DEGRADATIONS[name](video_codecs)
    except KeyError:
        raise UnknownNameError(f"unknown degradation {name!r}; valid: {', '.join(DEGRADATIONS)}") from None


def degrade_clip(
    frames: Iterable[np.ndarray],
    gt_size: tuple[int, int],
    dataset: str,
    clip: str,
    seed: int,
    degradation: str = "realbasicvsr",
    video_codecs: tuple[str, ...] | None = None,
) -> Iterator[np.ndarray]:
    """Degrade a clip's uint8 GT frames (lazily) with the seeded, versioned ``degradation``."""
    deg = get_degradation(degradation, video_codecs)
    return deg.degrade_clip(frames, gt_size, clip_seed(dataset, clip, seed, deg.name, deg.version))
