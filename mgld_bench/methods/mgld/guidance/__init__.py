"""Motion-guided latent sampling (MGLD, arXiv 2312.00853, Eq. 2-3) as pure torch functions.

The guidance keeps the latents of consecutive frames consistent with the motion measured
between the low-resolution input frames:

* :mod:`.warp` -- warping a latent by a flow (bilinear ``grid_sample``) and resizing a flow to
  latent resolution with its values rescaled;
* :mod:`.occlusion` -- the forward-backward consistency check that marks occluded pixels;
* :mod:`.loss` -- the masked L1 warp error of Eq. 2 (the paper's pairing, or the pairing of the
  official code);
* :mod:`.step` -- the step size of Eq. 3 (the official code's ``s * log(sigma^2)`` rule, or the
  paper's ``eta * sigma^2``) and the gradient step on the latents;
* :mod:`.flows` -- flows between LR frames and the per-chunk :class:`~.motion.MotionField`;
* :mod:`.motion` -- the bundle (flows + masks at latent size) a sampler applies after each step.

The sub-modules import torch; this package file does not, so the option names below can be
checked without it.
"""

#: The warp-error pairings of :func:`mgld_bench.methods.mgld.guidance.loss.warp_error`.
LOSS_FORMS = ("paired", "official")
#: The step-size rules of :func:`mgld_bench.methods.mgld.guidance.step.step_size`.
STEP_RULES = ("official", "paper")
