"""MGLD's noise schedule: SD's 1000-step linear-β schedule, respaced to the sampling steps.

The official tile script (``scripts/vsr_val_ddpm_text_T_vqganfin_oldcanvas_tile.py`` at 9aa7731)
registers the 1000-step schedule (β linear in √β from 0.00085 to 0.012, as Stable Diffusion),
keeps the original timesteps chosen by StableSR's ``space_timesteps(1000, [steps])`` and
registers a new schedule on them: ``β'_k = 1 - ᾱ_{t_k} / ᾱ_{t_{k-1}}``.  The respaced
posterior variance of step ``k`` is ``β'_k (1 - ᾱ'_{k-1}) / (1 - ᾱ'_k)`` with ``ᾱ'_{-1} = 1``,
so it is 0 at the last step and its log is clipped at ``log(1e-20)``.

The arithmetic follows the official dtypes: the 1000-step cumulative products are computed in
float64 and stored as float32 (a registered buffer), the respaced betas are formed from those
float32 values, and the respaced schedule is computed from them (float32, with the float64
``ᾱ_prev`` that ``np.append(1., ...)`` makes) and stored as float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Stable Diffusion's schedule, as in the MGLD config (``linear_start``, ``linear_end``).
LINEAR_START = 0.00085
LINEAR_END = 0.012
NUM_TRAIN_TIMESTEPS = 1000
#: ``posterior_log_variance_clipped`` floors the variance here.
LOG_VARIANCE_FLOOR = 1e-20


def space_timesteps(num_timesteps: int, count: int) -> list[int]:
    """The ``count`` original timesteps kept from ``num_timesteps`` (one section, as MGLD uses it).

    Evenly spaced with a fractional stride ``(num_timesteps - 1) / (count - 1)``, each position
    rounded with Python's ``round`` (half to even), as in StableSR/guided-diffusion.  For 1000
    and 50 this gives 0, 20, 41, 61, 82, ..., 979, 999.
    """
    if not 1 <= count <= num_timesteps:
        raise ValueError(f"cannot take {count} steps out of {num_timesteps}")
    stride = 1.0 if count <= 1 else (num_timesteps - 1) / (count - 1)
    steps, pos = [], 0.0
    for _ in range(count):
        steps.append(round(pos))
        pos += stride
    return sorted(set(steps))


def train_alphas_cumprod(
    num_timesteps: int = NUM_TRAIN_TIMESTEPS, start: float = LINEAR_START, end: float = LINEAR_END
) -> np.ndarray:
    """ᾱ_t of the 1000-step "linear" schedule (β = linspace(√start, √end)²), float64."""
    betas = np.linspace(start**0.5, end**0.5, num_timesteps, dtype=np.float64) ** 2
    return np.cumprod(1.0 - betas)


@dataclass(frozen=True)
class RespacedSchedule:
    """Everything the ancestral sampler reads, indexed by step ``k`` (0 = last, least noisy).

    ``timesteps[k]`` is the original timestep fed to the networks at step ``k``.
    """

    timesteps: np.ndarray
    alphas_cumprod: np.ndarray
    posterior_variance: np.ndarray
    posterior_log_variance_clipped: np.ndarray
    posterior_mean_coef1: np.ndarray
    posterior_mean_coef2: np.ndarray
    sqrt_recip_alphas_cumprod: np.ndarray
    sqrt_recipm1_alphas_cumprod: np.ndarray
    #: √ᾱ and √(1-ᾱ) of the 1000-step schedule at its last timestep (x_T from the LR latent).
    start_signal: float
    start_noise: float

    def __len__(self) -> int:
        return len(self.timesteps)


def respaced_schedule(steps: int = 50, num_timesteps: int = NUM_TRAIN_TIMESTEPS) -> RespacedSchedule:
    """The schedule the official sampler runs with ``--ddpm_steps steps``."""
    acp64 = train_alphas_cumprod(num_timesteps)
    acp32 = acp64.astype(np.float32)
    use = set(space_timesteps(num_timesteps, steps))
    betas, kept, last = [], [], np.float32(1.0)
    for i, a in enumerate(acp32):
        if i in use:
            betas.append(np.float32(1.0) - a / last)
            last = a
            kept.append(i)
    b = np.asarray(betas, dtype=np.float32)
    alphas = np.float32(1.0) - b
    acp = np.cumprod(alphas, axis=0)
    acp_prev = np.append(1.0, acp[:-1])  # float64, as np.append(1., ...) gives officially
    var = b * (np.float32(1.0) - acp_prev) / (np.float32(1.0) - acp)
    f32 = np.float32
    return RespacedSchedule(
        timesteps=np.asarray(kept, dtype=np.int64),
        alphas_cumprod=acp.astype(f32),
        posterior_variance=var.astype(f32),
        posterior_log_variance_clipped=np.log(np.maximum(var, LOG_VARIANCE_FLOOR)).astype(f32),
        posterior_mean_coef1=(b * np.sqrt(acp_prev) / (1.0 - acp)).astype(f32),
        posterior_mean_coef2=((1.0 - acp_prev) * np.sqrt(alphas) / (1.0 - acp)).astype(f32),
        sqrt_recip_alphas_cumprod=np.sqrt(1.0 / acp).astype(f32),
        sqrt_recipm1_alphas_cumprod=np.sqrt(1.0 / acp - 1.0).astype(f32),
        start_signal=float(np.float32(np.sqrt(acp64[-1]))),
        start_noise=float(np.float32(np.sqrt(1.0 - acp64[-1]))),
    )
