"""Blur kernels of the Real-ESRGAN / RealBasicVSR family.

All kernels are square, of odd size k, defined on the grid ``x, y in {-(k//2), ..., k//2}`` and
normalised to sum 1.  ``sigma_x``/``sigma_y`` are standard deviations along the kernel's own
axes before rotation by ``angle`` (radians, counter-clockwise).
"""

from __future__ import annotations

import numpy as np

KERNEL_TYPES = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso", "sinc")


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    if size % 2 != 1 or size < 1:
        raise ValueError(f"kernel size must be odd and positive, got {size}")
    ax = np.arange(size, dtype=np.float64) - size // 2
    return np.meshgrid(ax, ax)  # xx varies along columns, yy along rows


def _quadratic_form(size: int, sigma_x: float, sigma_y: float, angle: float) -> np.ndarray:
    """(x, y) C^-1 (x, y)^T for the covariance C = R diag(sx^2, sy^2) R^T at each grid point."""
    xx, yy = _grid(size)
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    cov = rot @ np.diag([sigma_x**2, sigma_y**2]) @ rot.T
    inv = np.linalg.inv(cov)
    return inv[0, 0] * xx**2 + (inv[0, 1] + inv[1, 0]) * xx * yy + inv[1, 1] * yy**2


def _normalise(kernel: np.ndarray) -> np.ndarray:
    return (kernel / kernel.sum()).astype(np.float32)


def gaussian_kernel(size: int, sigma_x: float, sigma_y: float | None = None, angle: float = 0.0) -> np.ndarray:
    """Bivariate Gaussian: exp(-q/2); isotropic when ``sigma_y`` is None."""
    q = _quadratic_form(size, sigma_x, sigma_x if sigma_y is None else sigma_y, angle)
    return _normalise(np.exp(-0.5 * q))


def generalized_gaussian_kernel(
    size: int, sigma_x: float, sigma_y: float | None, angle: float, beta: float
) -> np.ndarray:
    """Generalised Gaussian in the Real-ESRGAN form exp(-0.5 q^beta) (beta = 1: Gaussian)."""
    q = _quadratic_form(size, sigma_x, sigma_x if sigma_y is None else sigma_y, angle)
    return _normalise(np.exp(-0.5 * np.power(q, beta)))


def plateau_kernel(size: int, sigma_x: float, sigma_y: float | None, angle: float, beta: float) -> np.ndarray:
    """Plateau-shaped kernel: 1 / (1 + q^beta)."""
    q = _quadratic_form(size, sigma_x, sigma_x if sigma_y is None else sigma_y, angle)
    return _normalise(1.0 / (np.power(q, beta) + 1.0))


def sinc_kernel(size: int, omega: float) -> np.ndarray:
    """Circular low-pass (2-D sinc / Airy) kernel with cut-off angular frequency ``omega`` (rad/pixel).

    k(r) = omega J1(omega r) / (2 pi r), with the limit omega^2 / (4 pi) at r = 0.
    """
    from scipy.special import j1

    xx, yy = _grid(size)
    r = np.hypot(xx, yy)
    with np.errstate(divide="ignore", invalid="ignore"):
        k = omega * j1(omega * r) / (2 * np.pi * r)
    k[r == 0] = omega**2 / (4 * np.pi)
    return _normalise(k)


def make_kernel(
    kind: str,
    size: int,
    sigma_x: float,
    sigma_y: float,
    angle: float,
    beta_gaussian: float,
    beta_plateau: float,
    omega: float,
) -> np.ndarray:
    """The kernel of type ``kind`` (one of :data:`KERNEL_TYPES`) with the given parameters."""
    if kind == "iso":
        return gaussian_kernel(size, sigma_x)
    if kind == "aniso":
        return gaussian_kernel(size, sigma_x, sigma_y, angle)
    if kind == "generalized_iso":
        return generalized_gaussian_kernel(size, sigma_x, None, 0.0, beta_gaussian)
    if kind == "generalized_aniso":
        return generalized_gaussian_kernel(size, sigma_x, sigma_y, angle, beta_gaussian)
    if kind == "plateau_iso":
        return plateau_kernel(size, sigma_x, None, 0.0, beta_plateau)
    if kind == "plateau_aniso":
        return plateau_kernel(size, sigma_x, sigma_y, angle, beta_plateau)
    if kind == "sinc":
        return sinc_kernel(size, omega)
    raise ValueError(f"unknown kernel type {kind!r}; one of {', '.join(KERNEL_TYPES)}")
