"""``RandomBlur``: a per-clip blur kernel family and size, parameters random-walked per frame."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from mgld_bench.degrade.base import Operation
from mgld_bench.degrade.kernels import make_kernel
from mgld_bench.degrade.walk import RandomWalk

#: Kernel families and their probabilities (RealBasicVSR / Real-ESRGAN).
KERNEL_LIST = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso", "sinc")
KERNEL_PROB = (0.405, 0.225, 0.108, 0.027, 0.108, 0.027, 0.1)
KERNEL_SIZES = (7, 9, 11, 13, 15, 17, 19, 21)


def filter_frame(frame: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate each channel with ``kernel`` (OpenCV filter2D, reflect-101 borders)."""
    import cv2

    return cv2.filter2D(frame, -1, kernel)


@dataclass
class RandomBlur(Operation):
    """Blur every frame with a kernel whose type and size are fixed per clip.

    With probability ``1 - prob`` the clip is left untouched.  sigma, rotation, the shape
    exponents and the sinc cut-off start at a uniform draw and move by ``U(-step, step)`` per frame.
    ``omega=None`` uses [pi/3, pi] for kernels smaller than 13, else [pi/5, pi].
    """

    prob: float = 1.0
    kernel_list: tuple[str, ...] = KERNEL_LIST
    kernel_prob: tuple[float, ...] = KERNEL_PROB
    kernel_size: tuple[int, ...] = KERNEL_SIZES
    sigma_x: tuple[float, float] = (0.2, 3.0)
    sigma_y: tuple[float, float] = (0.2, 3.0)
    rotate_angle: tuple[float, float] = (-np.pi, np.pi)
    beta_gaussian: tuple[float, float] = (0.5, 4.0)
    beta_plateau: tuple[float, float] = (1.0, 2.0)
    omega: tuple[float, float] | None = None
    sigma_x_step: float = 0.02
    sigma_y_step: float = 0.02
    rotate_angle_step: float = 0.31416
    beta_gaussian_step: float = 0.05
    beta_plateau_step: float = 0.1
    omega_step: float = 0.0628
    name: str = "blur"

    def draw(self, rng: np.random.Generator) -> dict[str, object]:
        """The clip's kernel type, size and starting parameters."""
        p = np.asarray(self.kernel_prob, dtype=np.float64)
        kind = str(rng.choice(self.kernel_list, p=p / p.sum()))
        size = int(rng.choice(self.kernel_size))
        omega = self.omega or ((np.pi / 3, np.pi) if size < 13 else (np.pi / 5, np.pi))
        walks = {
            "sigma_x": RandomWalk.draw(rng, *self.sigma_x, self.sigma_x_step),
            "sigma_y": RandomWalk.draw(rng, *self.sigma_y, self.sigma_y_step),
            "angle": RandomWalk.draw(rng, *self.rotate_angle, self.rotate_angle_step),
            "beta_gaussian": RandomWalk.draw(rng, *self.beta_gaussian, self.beta_gaussian_step),
            "beta_plateau": RandomWalk.draw(rng, *self.beta_plateau, self.beta_plateau_step),
            "omega": RandomWalk.draw(rng, *omega, self.omega_step),
        }
        return {"kind": kind, "size": size, "walks": walks}

    def stream(self, frames: Iterable[np.ndarray], rng: np.random.Generator) -> Iterator[np.ndarray]:
        if rng.uniform() >= self.prob:
            yield from frames
            return
        params = self.draw(rng)
        walks: dict[str, RandomWalk] = params["walks"]  # type: ignore[assignment]
        for frame in frames:
            kernel = make_kernel(
                str(params["kind"]),
                int(params["size"]),
                walks["sigma_x"].value,
                walks["sigma_y"].value,
                walks["angle"].value,
                walks["beta_gaussian"].value,
                walks["beta_plateau"].value,
                walks["omega"].value,
            )
            yield filter_frame(frame, kernel)
            for w in walks.values():
                w.advance(rng)
