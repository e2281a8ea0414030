"""The guidance step of MGLD's Eq. 3: one gradient step on the latents after a denoising step.

After the sampler produces ``z_{t-1}``, the latents move against the gradient of the warp
error ``E`` (:func:`~mgld_bench.methods.mgld.guidance.loss.warp_error`)::

    z_{t-1} <- z_{t-1} - lambda_t * grad E(z_{t-1})

Two rules give ``lambda_t`` from the posterior variance ``sigma_t^2`` of the step just taken:

* ``"official"`` (default) -- the official code (since commit 4da8692, "add guidance scaling"):
  ``lambda_t = s * log(max(sigma_t^2, 1e-20))`` with ``s = -10``, i.e. ``10 * |log sigma_t^2|``.
  It grows as the noise shrinks (about 15.5 at the first of 50 DDPM steps, 460.5 at the last,
  where ``sigma^2 = 0`` is clipped to ``1e-20``).
* ``"paper"`` -- the form ``lambda_t = eta * sigma_t^2`` with ``eta = 10``, which vanishes at the
  last step and is largest early on.

Before that commit the official update was ``z - log(sigma^2) * grad``: gradient *ascent*
with scale 1; ``s = +1`` reproduces it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from mgld_bench.methods.mgld.guidance import STEP_RULES

__all__ = [
    "LOG_VARIANCE_FLOOR",
    "STEP_RULES",
    "guidance_step",
    "posterior_variance",
    "scheduler_step_variance",
    "step_size",
]
#: The floor of the official code's clipped log-variance (``posterior_log_variance_clipped``).
LOG_VARIANCE_FLOOR = 1e-20


def posterior_variance(alpha_bar_t: float, alpha_bar_prev: float) -> float:
    """``sigma_t^2 = (1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev)``.

    The variance of ``q(z_prev | z_t, z_0)`` between two (possibly respaced) timesteps of a
    schedule with cumulative products ``abar``; ``beta~_t`` of DDPM when ``prev = t - 1``.
    """
    if not 0.0 < alpha_bar_t <= 1.0 or not 0.0 < alpha_bar_prev <= 1.0:
        raise ValueError(f"cumulative alphas must lie in (0, 1]; got {alpha_bar_t}, {alpha_bar_prev}")
    if alpha_bar_t >= 1.0:
        return 0.0
    return (1.0 - alpha_bar_prev) / (1.0 - alpha_bar_t) * (1.0 - alpha_bar_t / alpha_bar_prev)


def step_size(variance: float, rule: str = "official", scale: float = -10.0, eta: float = 10.0) -> float:
    """``lambda_t`` of Eq. 3 for a step with posterior variance ``variance`` (see module doc).

    ``rule="official"``: ``scale * log(max(variance, 1e-20))`` (``scale`` is the official
    ``guidance_scale``, -10).  ``rule="paper"``: ``eta * variance``.  A positive value descends.
    """
    if rule == "official":
        return float(scale) * math.log(max(float(variance), LOG_VARIANCE_FLOOR))
    if rule == "paper":
        return float(eta) * float(variance)
    raise ValueError(f"unknown step-size rule {rule!r}; choose one of {', '.join(STEP_RULES)}")


def guidance_step(
    z: torch.Tensor, loss_fn: Callable[[torch.Tensor], torch.Tensor], step: float
) -> tuple[torch.Tensor, float]:
    """One gradient step ``z - step * dE/dz``; returns the new latents and ``E(z)`` before the step.

    The gradient is taken in float32 (whatever the latents' dtype) and with autograd enabled,
    so this works inside the ``torch.no_grad()`` of a diffusers pipeline; it does not pass
    through the denoiser.
    """
    with torch.enable_grad():
        z32 = z.detach().to(torch.float32).requires_grad_(True)
        loss = loss_fn(z32)
        (grad,) = torch.autograd.grad(loss, z32)
    new = (z32.detach() - float(step) * grad).to(z.dtype)
    return new, float(loss.detach())


def scheduler_step_variance(
    alphas_cumprod: Sequence[float] | torch.Tensor,
    timesteps: Sequence[int],
    index: int,
    final_alpha_cumprod: float = 1.0,
) -> float:
    """Posterior variance of step ``index`` of a sampler that visits ``timesteps`` in order.

    The step goes from ``timesteps[index]`` to ``timesteps[index + 1]``; the last step goes to
    "before the schedule", whose cumulative alpha is ``final_alpha_cumprod`` (1 for DDPM and for
    DDIM with ``set_alpha_to_one``; ``alphas_cumprod[0]`` otherwise).
    """
    ac = [float(a) for a in alphas_cumprod]
    t = int(timesteps[index])
    abar_t = ac[t]
    abar_prev = ac[int(timesteps[index + 1])] if index + 1 < len(timesteps) else float(final_alpha_cumprod)
    return posterior_variance(abar_t, abar_prev)
