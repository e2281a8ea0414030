"""Seeded weights and inputs for the MGLD network fixture (numpy PCG64 only, no torch).

Used both by ``tests/reference/mgld/make_numerics_fixture.py`` (which loads the weights into the
official classes) and by ``tests/methods/mgld/test_mgld_arch_numerics.py`` (which loads them into the port),
so no weights are stored.  Each tensor is drawn from its own stream seeded by (SEED, crc32(key)),
so the values depend only on the key and its shape, not on the order of the state dict.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

SEED = 20261128
FRAMES = 5

#: a second reduced denoiser + LR encoder with the released structure (four levels, two
#: residual blocks per level, attention at factors 1, 2, 4 and not 8), only narrower
DEEP_UNET = {"model_channels": 32, "channel_mult": (1, 2, 2, 2), "num_res_blocks": 2,
             "attention_resolutions": (4, 2, 1), "num_head_channels": 16, "context_dim": 32,
             "semb_channels": 32}
DEEP_ENCODER = {"model_channels": 32, "out_channels": 32, "channel_mult": (1, 1, 2, 2),
                "num_res_blocks": 2, "attention_resolutions": (4, 2, 1), "num_heads": 4}


def seeded_state(shapes: Mapping[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """float64 values for every key: weights N(0, 1/fan_in), norms 1 + 0.1 N, biases 0.1 N."""
    out: dict[str, np.ndarray] = {}
    for key, shape in shapes.items():
        shape = tuple(int(s) for s in shape)
        rng = np.random.default_rng([SEED, zlib.crc32(key.encode())])
        leaf = key.rsplit(".", 1)[-1]
        n = rng.standard_normal(shape)
        if leaf == "num_batches_tracked":
            out[key] = np.zeros(shape, dtype=np.int64)
            continue
        if leaf == "running_var":
            v = 0.5 + rng.random(shape)
        elif leaf == "running_mean":
            v = 0.1 * n
        elif leaf == "temporal_alpha":
            v = rng.uniform(0.2, 0.8, shape)
        elif leaf in ("positional_embedding",):
            v = 0.1 * n
        elif leaf == "logit_scale":
            v = n
        elif len(shape) >= 2:  # convolution / linear / embedding weights
            v = n / np.sqrt(float(np.prod(shape[1:])))
        elif leaf == "weight":  # 1-D weights: norms
            v = 1.0 + 0.1 * n
        else:  # biases
            v = 0.1 * n
        out[key] = v
    return out


def layout_digest(shapes: Mapping[str, tuple[int, ...]]) -> str:
    """sha256 of the sorted ``key:shape`` lines -- equal digests mean equal layouts."""
    text = "\n".join(f"{k}:{','.join(str(int(s)) for s in shapes[k])}" for k in sorted(shapes))
    return hashlib.sha256(text.encode()).hexdigest()


def inputs() -> dict[str, Any]:
    """All network inputs of the fixture (float64 numpy arrays / ints)."""
    rng = np.random.default_rng(SEED)
    n = FRAMES
    yy, xx = np.mgrid[0:128, 0:132].astype(np.float64)
    base = 0.5 + 0.25 * np.sin(xx / 7.0) * np.cos(yy / 9.0)
    shifted = 0.5 + 0.25 * np.sin((xx - 2.0) / 7.0) * np.cos((yy - 1.0) / 9.0)
    img1 = np.stack([base, base ** 2, 1 - base])[None]
    img2 = np.stack([shifted, shifted ** 2, 1 - shifted])[None]
    return {
        # denoiser + LR encoder: 5 frames of 16x16 latents, context of batch 1
        "unet_x": rng.standard_normal((n, 4, 16, 16)),
        "unet_lr": rng.standard_normal((n, 4, 16, 16)),
        "unet_context": rng.standard_normal((1, 77, 32)),
        "unet_t_one": np.array([999]),  # the official sampler's (1,) timestep, broadcast
        "unet_t_each": np.array([0, 20, 408, 612, 999]),
        # video VAE: LR images in [-1, 1] and latents, 5 frames
        "vae_lr": np.clip(rng.standard_normal((n, 3, 32, 32)) * 0.5, -1, 1),
        "vae_z": rng.standard_normal((n, 4, 4, 4)),
        # RAFT: a smooth pattern and its copy moved by (2, 1) px, in [0, 1], 128 x 132
        "raft_img1": np.clip(img1, 0, 1),
        "raft_img2": np.clip(img2, 0, 1),
    }
