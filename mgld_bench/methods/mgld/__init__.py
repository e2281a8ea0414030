"""MGLD-VSR (arXiv 2312.00853) in one room.

* ``mgld`` -- the port run in this process from the two released checkpoints
  (:mod:`.method`, :mod:`.pipeline`, :mod:`.sampler`, :mod:`.schedule`, :mod:`.checkpoint`;
  the networks in :mod:`.unet`, :mod:`.encoder`, :mod:`.vae`, :mod:`.raft`, :mod:`.text`);
* ``mgld-official`` -- the official repository's tile script in its own environment
  (:mod:`.official`, :mod:`.staging`), for cross-checks;
* ``mgld-sd`` / ``sd-x4`` -- MGLD-style guidance on diffusers' SD x4 upscaler (:mod:`.sd`);
* :mod:`.guidance` -- the motion-guided latent sampling itself (warp error, occlusion, step).

Importing this package does not import torch.
"""
