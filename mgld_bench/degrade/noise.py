"""``RandomNoise``: Gaussian or Poisson noise, colour or gray, its level random-walked per frame."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from mgld_bench.degrade.base import Operation
from mgld_bench.degrade.walk import RandomWalk


def gaussian_noise(frame: np.ndarray, sigma: float, gray: bool, rng: np.random.Generator) -> np.ndarray:
    """``frame + N(0, sigma^2)``; gray noise is one sample shared by the three channels."""
    shape = (*frame.shape[:2], 1) if gray else frame.shape
    noise = rng.standard_normal(shape).astype(np.float32) * np.float32(sigma)
    return frame + noise


def poisson_noise(frame: np.ndarray, scale: float, gray: bool, rng: np.random.Generator) -> np.ndarray:
    """Signal-dependent (shot) noise, Real-ESRGAN style.

    The image (or its luma, for gray noise) is quantised to 8 bit; with ``vals`` the next power
    of two above its number of distinct levels, noise = Poisson(img * vals) / vals - img, and the
    output is ``frame + scale * noise``.
    """
    import cv2

    src = frame
    if gray:
        src = cv2.cvtColor(np.clip(frame, 0, 1).astype(np.float32), cv2.COLOR_RGB2GRAY)[..., None]
    q = np.clip(np.round(src * 255.0), 0, 255) / 255.0
    vals = 2 ** np.ceil(np.log2(len(np.unique(q))))
    noise = rng.poisson(q * vals) / vals - q
    return (frame + noise.astype(np.float32) * np.float32(scale)).astype(np.float32)


@dataclass
class RandomNoise(Operation):
    """Gaussian (sigma in ``gaussian_sigma``/255) or Poisson (scale in ``poisson_scale``) noise.

    Type and gray/colour are drawn once per clip; the level random-walks per frame.
    """

    noise_prob: tuple[float, float] = (0.5, 0.5)  # gaussian, poisson
    gaussian_sigma: tuple[float, float] = (1.0, 30.0)  # in 8-bit levels
    gaussian_gray_prob: float = 0.4
    gaussian_sigma_step: float = 0.1  # in 8-bit levels
    poisson_scale: tuple[float, float] = (0.05, 3.0)
    poisson_gray_prob: float = 0.4
    poisson_scale_step: float = 0.005
    name: str = "noise"

    def stream(self, frames: Iterable[np.ndarray], rng: np.random.Generator) -> Iterator[np.ndarray]:
        p = np.asarray(self.noise_prob, dtype=np.float64)
        kind = str(rng.choice(("gaussian", "poisson"), p=p / p.sum()))
        if kind == "gaussian":
            lo, hi = self.gaussian_sigma
            level = RandomWalk.draw(rng, lo / 255.0, hi / 255.0, self.gaussian_sigma_step / 255.0)
            gray = bool(rng.uniform() < self.gaussian_gray_prob)
        else:
            level = RandomWalk.draw(rng, *self.poisson_scale, self.poisson_scale_step)
            gray = bool(rng.uniform() < self.poisson_gray_prob)
        for frame in frames:
            if kind == "gaussian":
                yield gaussian_noise(frame, level.value, gray, rng)
            else:
                yield poisson_noise(frame, level.value, gray, rng)
            level.advance(rng)
