"""Write sampler.npz: the official MGLD sampler (with its motion guidance) and CFW decode on one chunk.

Runs the official ``LatentDiffusionVSRTextWT.sample_canvas`` (``p_sample_loop_canvas`` ->
``p_sample_canvas`` -> ``compute_temporal_condition_v4``) of ``official_tiny.build()`` (the
reduced networks with ``tests/_mgld_arch_fixture.seeded_state`` weights) on injected inputs, with
the schedule respaced by the tile script's own ``space_timesteps`` the way its ``main()`` does,
``guidance_scale=-10``, 3 steps, a 16x24 latent canvas cut into 8x8 tiles with overlap 4 (so the
Gaussian stitching is exercised), then decodes with the official ``VideoAutoencoderKLResi``
(``fusion_w`` 1.0, CFW features of its own encoder) and applies the official AdaIN colour fix.

Injected (stored, float32): the LR latent, x_T, flows F_{i->i+1} / F_{i+1->i} at latent size, the
step noises (the official ``noise_like`` is replaced by a list), the upscaled LR image in [-1, 1].
The occlusion masks come from the official ``forward_backward_consistency_check``.  Stored
outputs: the text context, the masks, the latent after each of the 3 guided steps, and the
colour-fixed decode (float16, every second row and column).

    MGLD_OFFICIAL_REPO=/tmp/MGLD-VSR MGLD_REF_SITE=/tmp/mgld_ref_site \\
        python tests/reference/mgld/make_sampler_fixture.py     # ~2 min on 2 busy cores
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

STEPS = 3
FRAMES = 5
LATENT = (16, 24)
TILE, OVERLAP = 8, 4
SEED = 20261128


def inputs() -> dict[str, np.ndarray]:
    """Seeded inputs; smooth flows so that the occlusion check keeps most pixels."""
    rng = np.random.default_rng(SEED)
    h, w = LATENT
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    fwd = np.stack([np.stack([1.0 + 0.3 * np.sin(yy / 3 + k), 0.5 * np.cos(xx / 4 - k)]) for k in range(FRAMES - 1)])
    bwd = -fwd + 0.05 * rng.standard_normal(fwd.shape)
    return {
        "z_lr": (rng.standard_normal((FRAMES, 4, h, w)) * 0.8).astype(np.float32),
        "x_t": rng.standard_normal((FRAMES, 4, h, w)).astype(np.float32),
        "flow_fwd": fwd.astype(np.float32),
        "flow_bwd": bwd.astype(np.float32),
        "noise": rng.standard_normal((STEPS, FRAMES, 4, h, w)).astype(np.float32),
        "image": np.clip(rng.standard_normal((FRAMES, 3, 8 * h, 8 * w)) * 0.4, -1, 1).astype(np.float32),
    }


def main() -> None:
    import official_env

    official_env.setup()
    import ldm.models.diffusion.ddpm as ddpm
    import official_tiny
    import torch
    import vsr_val_ddpm_text_T_vqganfin_oldcanvas_tile as tile_script
    from scripts.util_flow import forward_backward_consistency_check
    from scripts.wavelet_color_fix import adaptive_instance_normalization

    torch.manual_seed(0)
    model, video = official_tiny.build()
    # the script sets model.configs = its OmegaConf config; the canvas reads channels from it
    model.configs = types.SimpleNamespace(model=types.SimpleNamespace(params=types.SimpleNamespace(channels=4)))
    inp = inputs()
    t = {k: torch.from_numpy(v) for k, v in inp.items()}

    # the tile script's respacing (its main(), lines after register_schedule)
    model.register_schedule(given_betas=None, beta_schedule="linear", timesteps=1000,
                            linear_start=0.00085, linear_end=0.0120, cosine_s=8e-3)
    use = set(tile_script.space_timesteps(1000, [STEPS]))
    last, betas = 1.0, []
    for i, acp in enumerate(model.alphas_cumprod):
        if i in use:
            betas.append((1 - acp / last).numpy())
            last = acp
    model.register_schedule(given_betas=np.array(betas), timesteps=len(betas))
    model.num_timesteps = 1000
    model.ori_timesteps = sorted(use)

    # occlusion masks by the official check, as the script pairs them (fwd = F_{i->i+1})
    fo, bo = [], []
    for i in range(FRAMES - 1):
        a, b = forward_backward_consistency_check(t["flow_fwd"][i : i + 1], t["flow_bwd"][i : i + 1],
                                                  alpha=0.01, beta=0.5)
        fo.append(a.unsqueeze(1))
        bo.append(b.unsqueeze(1))
    fwd_occ, bwd_occ = torch.stack(fo, 1), torch.stack(bo, 1)  # (1, T-1, 1, h, w)
    flows = (t["flow_bwd"][None], t["flow_fwd"][None])  # (flows_forward i+1->i, flows_backward i->i+1)

    noises = list(t["noise"])
    ddpm.noise_like = lambda shape, device, repeat=False: noises.pop(0).to(device)
    steps: list[np.ndarray] = []
    original = type(model).p_sample_canvas

    def record(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        steps.append((out[0] if isinstance(out, tuple) else out).detach().numpy().copy())
        return out

    type(model).p_sample_canvas = record
    with torch.no_grad():
        context = model.cond_stage_model([""])
        samples, _ = model.sample_canvas(
            cond=context, struct_cond=t["z_lr"], guidance_scale=-10.0, lr_images=None, flows=flows,
            masks=(fwd_occ, bwd_occ), cond_flow=None, batch_size=FRAMES, timesteps=STEPS, time_replace=STEPS,
            x_T=t["x_t"], return_intermediates=True, tile_size=TILE, tile_overlap=OVERLAP, batch_size_sample=1,
        )
        video.decoder.fusion_w = 1.0
        _, enc_fea = video.encode(t["image"])
        decoded = video.decode(samples * 1.0 / model.scale_factor, enc_fea)
        fixed = adaptive_instance_normalization(decoded, t["image"])
    assert not noises, "every step draws one noise tensor"
    np.savez_compressed(
        HERE / "sampler.npz",
        **inp,
        context=context.numpy().astype(np.float32),
        occ_fwd=fwd_occ[0].numpy().astype(np.float32),
        occ_bwd=bwd_occ[0].numpy().astype(np.float32),
        timesteps=np.array(model.ori_timesteps),
        steps=np.stack(steps).astype(np.float32),
        decoded=fixed.numpy()[:, :, ::2, ::2].astype(np.float16),
    )
    print("wrote", HERE / "sampler.npz", "steps", len(steps), "timesteps", model.ori_timesteps)


if __name__ == "__main__":
    main()
