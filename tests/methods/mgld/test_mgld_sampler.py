"""MGLD's respaced schedule, canvas sampler and per-chunk pipeline, checked against independent
references (diffusers' DDPMScheduler, hand values) and with stand-in networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mgld_bench.methods.mgld.pipeline import Networks, Settings, adain, prepare_frames, upscale_chunk
from mgld_bench.methods.mgld.sampler import (
    canvas_starts,
    gaussian_tile_weights,
    outer_tile_starts,
    predict_eps_canvas,
    sample_chunk,
)
from mgld_bench.methods.mgld.schedule import respaced_schedule, space_timesteps


def test_space_timesteps_matches_the_documented_list():
    steps = space_timesteps(1000, 50)
    assert len(steps) == 50 and steps[:6] == [0, 20, 41, 61, 82, 102] and steps[-3:] == [958, 979, 999]
    # the fractional stride 999/49 rounded half-to-even, computed by hand for a few positions
    assert steps[10] == round(10 * 999 / 49) == 204 and steps[40] == 816
    assert space_timesteps(1000, 1000) == list(range(1000))


def test_schedule_against_diffusers_ddpm():
    """diffusers' DDPMScheduler with SD's scaled-linear betas, custom timesteps and the
    fixed-small variance is an independent implementation of the same respaced posterior."""
    from diffusers import DDPMScheduler

    sched = respaced_schedule(50)
    ref = DDPMScheduler(
        num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
        clip_sample=False, variance_type="fixed_small", prediction_type="epsilon",
    )
    ts = [int(t) for t in sched.timesteps[::-1]]
    ref.set_timesteps(timesteps=ts)
    acp = ref.alphas_cumprod.double()
    assert sched.start_signal == pytest.approx(float(acp[999].sqrt()), rel=1e-6)
    assert sched.start_noise == pytest.approx(float((1 - acp[999]).sqrt()), rel=1e-6)
    for k in (49, 30, 10, 1):
        t = int(sched.timesteps[k])
        assert float(np.exp(sched.posterior_log_variance_clipped[k])) == pytest.approx(
            float(ref._get_variance(t)), rel=1e-4
        )
    # the documented guidance step sizes 10 |log var| (docs/mgld.md)
    lam = -10.0 * sched.posterior_log_variance_clipped
    table = {999: 15.5, 816: 17.8, 612: 21.5, 408: 26.4, 204: 33.2, 102: 38.9, 41: 46.1, 20: 71.2, 0: 460.5}
    for t, value in table.items():
        assert lam[list(sched.timesteps).index(t)] == pytest.approx(value, abs=0.05)


def test_sampler_steps_equal_diffusers_steps_without_noise(monkeypatch):
    """With zero step noise and no guidance, every step equals DDPMScheduler.step."""
    import diffusers.schedulers.scheduling_ddpm as ddpm
    from diffusers import DDPMScheduler

    sched = respaced_schedule(5)
    ref = DDPMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False)
    ref.set_timesteps(timesteps=[int(t) for t in sched.timesteps[::-1]])
    monkeypatch.setattr(ddpm, "randn_tensor", lambda shape, **kw: torch.zeros(shape, dtype=kw.get("dtype")))

    def denoise(x, lr, t):  # an arbitrary smooth "network"
        return torch.tanh(x * (1 + t / 1000.0)) + 0.1 * lr

    g = torch.Generator().manual_seed(0)
    z_lr = torch.randn(5, 4, 16, 16, generator=g)
    x_t = torch.randn(5, 4, 16, 16, generator=g)
    ours = sample_chunk(denoise, z_lr, sched, lambda shape: torch.zeros(shape), None, tile=16, x_t=x_t)
    x = x_t.clone()
    for t in ref.timesteps:
        x = ref.step(denoise(x, z_lr, int(t)), int(t), x).prev_sample
    torch.testing.assert_close(ours, x, rtol=1e-4, atol=1e-5)


def test_canvas_tiles_and_weights_by_hand():
    assert canvas_starts(64, 64, 32) == [0]
    assert canvas_starts(65, 64, 32) == [0, 1]
    assert canvas_starts(128, 64, 32) == [0, 32, 64]
    assert canvas_starts(120, 64, 32) == [0, 32, 56]
    assert canvas_starts(10, 64, 32) == [0]
    w = gaussian_tile_weights(64, 64).numpy()
    g = lambda i, mid: np.exp(-((i - mid) ** 2) / 64**2 / 0.02) / np.sqrt(2 * np.pi * 0.01)  # noqa: E731
    assert w[0, 0] == pytest.approx(g(0, 32.0) * g(0, 31.5))
    assert w[32, 31] == pytest.approx(g(32, 32.0) * g(31, 31.5))
    assert outer_tile_starts(1280, 960, 750) == [0, 320]
    assert outer_tile_starts(736, 960, 750) == [0]
    assert outer_tile_starts(2560, 960, 750) == [0, 750, 1500, 1600]


def test_canvas_stitching_is_exact_for_a_pointwise_denoiser():
    """A denoiser that acts pixel by pixel gives the same ε tiled or not (weights sum out)."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5, 4, 96, 80, generator=g)
    lr = torch.randn(5, 4, 96, 80, generator=g)

    def fn(a, b, t):
        return a * 0.5 + b

    tiled = predict_eps_canvas(fn, x, lr, 10, tile=64, overlap=32)
    torch.testing.assert_close(tiled, fn(x, lr, 10), rtol=1e-5, atol=1e-6)


def test_guidance_step_follows_the_official_rule():
    """One step with a known loss: z <- z - (-10 * log var) * grad (descent)."""
    sched = respaced_schedule(3)
    z_lr = torch.zeros(5, 4, 8, 8)
    calls = []

    def guide(z):
        calls.append(1)
        return (z**2).sum() / 2  # gradient = z

    x_t = torch.ones(5, 4, 8, 8)
    out = sample_chunk(lambda x, lr, t: torch.zeros_like(x), z_lr, sched, lambda s: torch.zeros(s), guide,
                       tile=8, x_t=x_t)
    # reference by hand: mean, then z * (1 - step)
    x = x_t.clone()
    for k in reversed(range(3)):
        x0 = float(sched.sqrt_recip_alphas_cumprod[k]) * x
        x = float(sched.posterior_mean_coef1[k]) * x0 + float(sched.posterior_mean_coef2[k]) * x
        x = x * (1.0 - (-10.0) * float(sched.posterior_log_variance_clipped[k]))
    assert len(calls) == 3
    torch.testing.assert_close(out, x)


# -- the pipeline with stand-in networks --------------------------------------------------------
def _fake_networks() -> Networks:
    def encode_moments(img):
        mean = F.avg_pool2d(img, 8)
        return torch.cat([mean, mean[:, :1]], 1), torch.full_like(torch.cat([mean, mean[:, :1]], 1), -8.0)

    return Networks(
        denoise=lambda x, lr, t: 0.05 * x - 0.02 * lr,
        encode_moments=encode_moments,
        encode_features=lambda img: [img],
        decode=lambda z, feats, w: F.interpolate(z[:, :3], scale_factor=8.0, mode="nearest") + 0.0 * w,
        flow=lambda a, b: torch.zeros(a.shape[0], 2, *a.shape[-2:]),
    )


def test_prepare_frames_follows_the_script():
    frames = np.random.default_rng(0).integers(0, 256, (2, 30, 50, 3), dtype=np.uint8)
    x, s, size = prepare_frames(frames)
    assert s == pytest.approx(512 / 30) and size == (512, int(50 * 512 / 30)) and size[1] == 853
    # 853 reflect-padded to 864; 512, already a multiple of 32, gains 32 rows (the script's rule)
    assert x.shape == (2, 3, 544, 864)
    ref = F.interpolate(torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1, size=(512, 853),
                        mode="bicubic").clamp(-1, 1)
    torch.testing.assert_close(x[..., :512, :853], ref)
    torch.testing.assert_close(x[..., :512, 853:], ref.flip(-1)[..., 1:12])
    torch.testing.assert_close(x[..., 512:, :853], ref.flip(-2)[..., 1:33, :])
    square, _, _ = prepare_frames(frames[:, :, :30])  # 512 x 512: no padding at all
    assert square.shape == (2, 3, 512, 512)


def test_upscale_chunk_shapes_tiles_and_uint8_truncation():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (5, 40, 36, 3), dtype=np.uint8)  # short side 36 -> factor 512/36
    sched = respaced_schedule(2)
    settings = Settings(outer_tile=256, outer_stride=200, tile=16, tile_overlap=8, colorfix="none", min_side=128)
    out = upscale_chunk(_fake_networks(), frames, sched, settings)
    assert out.shape == (5, 160, 144, 3) and out.dtype == np.uint8
    again = upscale_chunk(_fake_networks(), frames, sched, settings)
    np.testing.assert_array_equal(out, again)  # re-seeded: deterministic
    other = upscale_chunk(_fake_networks(), frames, sched, Settings(**{**settings.__dict__, "seed": 7}))
    assert np.abs(other.astype(int) - out.astype(int)).max() > 0


def test_adain_matches_a_numpy_reference():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 3, 9, 7, generator=g), torch.randn(2, 3, 9, 7, generator=g) * 2 + 1
    out = adain(a, b).numpy()
    an, bn = a.numpy().reshape(2, 3, -1), b.numpy().reshape(2, 3, -1)
    ref = (an - an.mean(-1, keepdims=True)) / np.sqrt(an.var(-1, ddof=1, keepdims=True) + 1e-5)
    ref = ref * np.sqrt(bn.var(-1, ddof=1, keepdims=True) + 1e-5) + bn.mean(-1, keepdims=True)
    np.testing.assert_allclose(out.reshape(2, 3, -1), ref, rtol=1e-5, atol=1e-5)
