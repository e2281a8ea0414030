"""The degradation operations and pipelines, each checked against an independent reference or a
measurable effect (noise level, JPEG blockiness, compression error), plus seeding and scale."""

from __future__ import annotations

import numpy as np
import pytest

from mgld_bench.degrade import kernels
from mgld_bench.degrade.bicubic import imresize
from mgld_bench.degrade.jpeg import RandomJPEG, jpeg_roundtrip
from mgld_bench.degrade.noise import RandomNoise, gaussian_noise, poisson_noise
from mgld_bench.degrade.pipeline import clip_seed, degrade_clip
from mgld_bench.degrade.resize import RandomResize
from mgld_bench.degrade.sharpen import unsharp_mask
from mgld_bench.degrade.video import compress_video
from mgld_bench.degrade.walk import RandomWalk
from tests.fakes import smooth_frames


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import peak_signal_noise_ratio

    return float(peak_signal_noise_ratio(a, b, data_range=1.0))


def _float_frames(n: int, h: int, w: int, seed: int) -> list[np.ndarray]:
    return [f.astype(np.float32) / 255 for f in smooth_frames(n, h, w, seed)]


# --- kernels ---------------------------------------------------------------------------------------


def test_iso_gaussian_matches_opencv() -> None:
    import cv2

    g = cv2.getGaussianKernel(13, 1.7)
    np.testing.assert_allclose(kernels.gaussian_kernel(13, 1.7), g @ g.T, atol=1e-7)


def test_aniso_gaussian_matches_scipy_pdf() -> None:
    from scipy.stats import multivariate_normal

    sx, sy, theta = 2.5, 0.8, 0.6
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    cov = rot @ np.diag([sx**2, sy**2]) @ rot.T
    ax = np.arange(15) - 7
    xx, yy = np.meshgrid(ax, ax)
    ref = multivariate_normal(mean=[0, 0], cov=cov).pdf(np.stack([xx, yy], -1))
    np.testing.assert_allclose(kernels.gaussian_kernel(15, sx, sy, theta), ref / ref.sum(), atol=1e-7)


def test_generalized_and_plateau_shapes() -> None:
    np.testing.assert_allclose(
        kernels.generalized_gaussian_kernel(11, 1.3, 2.0, 0.4, 1.0), kernels.gaussian_kernel(11, 1.3, 2.0, 0.4),
        atol=1e-7,
    )
    k = kernels.plateau_kernel(9, 1.5, None, 0.0, 1.7)
    r2 = np.array([0.0, 1.0, 4.0, 9.0]) / 1.5**2  # points (0,0), (1,0), (2,0), (3,0)
    expected = 1 / (1 + r2**1.7)
    got = k[4, 4:8]
    np.testing.assert_allclose(got / got[0], expected / expected[0], rtol=1e-6)
    for kind in kernels.KERNEL_TYPES:
        kern = kernels.make_kernel(kind, 21, 2.0, 1.0, 0.3, 2.0, 1.5, 1.2)
        assert kern.shape == (21, 21) and kern.sum() == pytest.approx(1.0, abs=1e-5)


def test_sinc_kernel_is_a_circular_low_pass() -> None:
    omega = np.pi / 2
    k = kernels.sinc_kernel(21, omega)
    response = np.abs(np.fft.fft2(k, (256, 256)))
    freq = np.fft.fftfreq(256) * 2 * np.pi
    radius = np.hypot(freq[:, None], freq[None, :])
    assert response[radius < 0.6 * omega].min() > 0.85  # pass band
    assert response[radius > 1.5 * omega].max() < 0.15  # stop band, in every direction
    np.testing.assert_allclose(k, k.T, atol=1e-8)  # circular symmetry


# --- noise -------------------------------------------------------------------------------------


def test_gaussian_noise_level_and_gray(rng: np.random.Generator) -> None:
    img = np.full((128, 128, 3), 0.5, np.float32)
    out = gaussian_noise(img, 10 / 255, gray=False, rng=rng)
    assert np.std(out - img) * 255 == pytest.approx(10, rel=0.03)
    gray = gaussian_noise(img, 10 / 255, gray=True, rng=rng)
    np.testing.assert_array_equal(gray[..., 0], gray[..., 2])


def test_random_gaussian_noise_within_range(rng: np.random.Generator) -> None:
    op = RandomNoise(noise_prob=(1.0, 0.0), gaussian_sigma=(1.0, 30.0))
    frames = [np.full((96, 96, 3), 0.5, np.float32)] * 4
    for seed in range(6):
        levels = [np.std(f - 0.5) * 255 for f in op.stream(frames, np.random.default_rng(seed))]
        assert all(0.9 < s < 30.9 for s in levels)
        assert max(levels) - min(levels) < 0.1 * 3 + 0.5  # random walk: at most 0.1 per frame (+ sampling)


def test_poisson_noise_variance_follows_signal(rng: np.random.Generator) -> None:
    levels = np.arange(256, dtype=np.float32) / 255
    img = np.repeat(np.tile(levels, (400, 1))[..., None], 3, axis=2)  # every 8-bit level, 400 samples each
    scale = 2.0
    noise = (poisson_noise(img, scale, gray=False, rng=rng) - img)[..., 0]
    # 256 distinct levels -> vals = 256; Var(noise) = scale^2 * img / 256
    for level in (64, 128, 255):
        var = noise[:, level].var()
        assert var == pytest.approx(scale**2 * (level / 255) / 256, rel=0.2)
    assert abs(noise.mean()) < 2e-3


# --- JPEG, video compression ------------------------------------------------------------------------


def _blockiness(img: np.ndarray) -> float:
    """Mean |step| across 8-pixel block boundaries over the mean |step| inside blocks (columns)."""
    d = np.abs(np.diff(img.mean(axis=2), axis=1))
    boundary = d[:, 7::8].mean()
    inner = np.delete(d, np.s_[7::8], axis=1).mean()
    return float(boundary / inner)


def test_jpeg_blockiness_and_quality() -> None:
    img = _float_frames(1, 128, 128, seed=3)[0]
    low, high = jpeg_roundtrip(img, 30), jpeg_roundtrip(img, 95)
    assert _blockiness(low) > 1.1 * _blockiness(img)
    assert _psnr(img, high) > _psnr(img, low) + 3
    op = RandomJPEG()
    out = list(op.stream([img] * 3, np.random.default_rng(0)))
    assert all(o.dtype == np.float32 and o.shape == img.shape for o in out)


def _detailed_frames(n: int, h: int, w: int) -> list[np.ndarray]:
    """Fine luma detail under a smooth tint, moving 1-2 px per frame (what video codecs are built for)."""
    import cv2

    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.uniform(0, 1, (h + 2 * n, w + 2 * n)).astype(np.float32), (0, 0), 1.0)
    base = (base - base.min()) / (base.max() - base.min())
    tint = np.linspace(0.7, 1.0, w)[None, :, None] * np.array([1.0, 0.9, 0.8])
    return [(base[i : i + h, 2 * i : 2 * i + w, None] * tint).astype(np.float32) for i in range(n)]


def test_video_compression_artefacts_x264() -> None:
    frames = _detailed_frames(4, 128, 192)
    strong = list(compress_video(frames, "libx264", 10_000))
    weak = list(compress_video(frames, "libx264", 1_000_000))
    assert len(strong) == len(weak) == 4 and strong[0].shape == frames[0].shape
    p_strong = np.mean([_psnr(a, b) for a, b in zip(frames, strong, strict=True)])
    p_weak = np.mean([_psnr(a, b) for a, b in zip(frames, weak, strict=True)])
    assert p_weak > p_strong + 2.0 and p_strong < 40


def test_video_compression_artefacts_mpeg4() -> None:
    frames = _detailed_frames(4, 128, 192)
    out = list(compress_video(frames, "mpeg4", 10_000))
    assert len(out) == 4
    assert max(_psnr(a, b) for a, b in zip(frames, out, strict=True)) < 40
    assert _blockiness(out[0]) > 1.02 * _blockiness(frames[0])  # 8x8 DCT block edges


def test_video_compression_odd_and_changing_sizes() -> None:
    frames = _float_frames(3, 33, 47, seed=6)
    frames[1] = frames[1][:31, :45]  # the resize walk changes sizes: brought back to the first frame's
    out = list(compress_video(frames, "mpeg4", 200_000))
    assert [o.shape for o in out] == [(33, 47, 3)] * 3


# --- resize, USM, bicubic ------------------------------------------------------------------------------


def test_random_resize_walk_and_target() -> None:
    frame = np.zeros((100, 200, 3), np.float32)
    for seed in range(5):
        sizes = [f.shape[:2] for f in RandomResize(step=0.015).stream([frame] * 5, np.random.default_rng(seed))]
        assert all(h % 2 == 0 and w % 2 == 0 for h, w in sizes)
        assert all(14 <= h <= 150 for h, _ in sizes)
    out = list(RandomResize(mode_prob=(0, 0, 1), target=(25, 50), even=False).stream([frame], np.random.default_rng(0)))
    assert out[0].shape == (25, 50, 3)


def test_random_walk_stays_in_range() -> None:
    rng = np.random.default_rng(0)
    w = RandomWalk.draw(rng, 0.2, 3.0, 0.02)
    prev = w.value
    for _ in range(500):
        v = w.advance(rng)
        assert 0.2 <= v <= 3.0 and abs(v - prev) <= 0.02 + 1e-12
        prev = v


def test_unsharp_mask_matches_scipy_formula(rng: np.random.Generator) -> None:
    from scipy.ndimage import gaussian_filter

    img = rng.uniform(0.2, 0.8, (40, 40, 3)).astype(np.float32)
    out = unsharp_mask(img, kernel_size=51, sigma=0.0, weight=0.5, threshold=0.0)
    # OpenCV's sigma for size 51 is 0.3 * ((51 - 1) / 2 - 1) + 0.8 = 8; radius 25; reflect-101 borders.
    blur = np.stack([gaussian_filter(img[..., c], 8.0, mode="mirror", truncate=25 / 8) for c in range(3)], -1)
    expected = np.clip(img + 0.5 * (img - blur), 0, 1)
    np.testing.assert_allclose(out, expected, atol=2e-5)


def test_bicubic_matches_pil_and_constant() -> None:
    import cv2
    from PIL import Image

    rng = np.random.default_rng(1)
    img = cv2.GaussianBlur(rng.uniform(0, 255, (64, 96)), (0, 0), 2)
    ours = imresize(img, 0.25)
    pil = np.asarray(Image.fromarray(img.astype(np.float32), mode="F").resize((24, 16), Image.BICUBIC))
    assert ours.shape == (16, 24)
    np.testing.assert_allclose(ours[2:-2, 2:-2], pil[2:-2, 2:-2], atol=1e-3)  # PIL pads borders differently
    np.testing.assert_allclose(imresize(np.full((20, 20, 3), 0.3), 0.25), 0.3, atol=1e-12)


# --- pipelines ----------------------------------------------------------------------------------------


def _degrade(name: str, seed: int, clip: str = "000", codecs: tuple[str, ...] | None = None) -> list[bytes]:
    frames = smooth_frames(3, 64, 96, seed=11)
    out = list(degrade_clip(iter(frames), (64, 96), "reds4", clip, seed, name, codecs))
    assert all(f.dtype == np.uint8 and f.shape == (16, 24, 3) for f in out)  # exactly x4
    return [f.tobytes() for f in out]


@pytest.mark.parametrize("name", ["realbasicvsr", "mgld"])
def test_pipeline_seeded_and_scaled(name: str) -> None:
    a = _degrade(name, 7)
    assert a == _degrade(name, 7)
    assert a != _degrade(name, 8)
    assert a != _degrade(name, 7, clip="011")


@pytest.mark.parametrize("codec", ["libx264", "h264", "mpeg4"])
def test_every_codec_is_byte_reproducible(codec: str) -> None:
    frames = _detailed_frames(3, 70, 102)
    runs = [[f.tobytes() for f in compress_video(frames, codec, 20_000)] for _ in range(3)]
    assert runs[0] == runs[1] == runs[2]


def test_bicubic_pipeline_is_matlab_bicubic() -> None:
    frames = smooth_frames(2, 64, 96, seed=2)
    out = list(degrade_clip(iter(frames), (64, 96), "x", "c", 0, "bicubic"))
    ref = np.clip(np.round(imresize(frames[1].astype(np.float64) / 255, 0.25) * 255), 0, 255)
    np.testing.assert_array_equal(out[1], ref.astype(np.uint8))


def test_clip_seed_depends_on_every_field() -> None:
    base = clip_seed("reds4", "000", 0, "realbasicvsr", 1)
    assert base == clip_seed("reds4", "000", 0, "realbasicvsr", 1)
    for other in [("udm10", "000", 0, "realbasicvsr", 1), ("reds4", "011", 0, "realbasicvsr", 1),
                  ("reds4", "000", 1, "realbasicvsr", 1), ("reds4", "000", 0, "mgld", 1),
                  ("reds4", "000", 0, "realbasicvsr", 2)]:
        assert clip_seed(*other) != base


def test_random_blur_smooths_and_skips_with_its_probability() -> None:
    import cv2

    from mgld_bench.degrade.blur import RandomBlur

    img = np.random.default_rng(0).uniform(0, 1, (48, 48, 3)).astype(np.float32)
    sharpness = float(np.abs(cv2.Laplacian(img, cv2.CV_32F)).mean())
    skipped, ratios = 0, []
    for seed in range(200):
        out = next(RandomBlur(prob=0.8).stream([img], np.random.default_rng(seed)))
        if out is img:
            skipped += 1
        else:
            ratios.append(float(np.abs(cv2.Laplacian(out, cv2.CV_32F)).mean()) / sharpness)
    assert 20 <= skipped <= 60  # binomial(200, 0.2): mean 40, sd 5.7
    assert max(ratios) < 1.05  # sigma 0.2 or a sinc cut-off near pi is almost the identity, never sharper
    assert np.median(ratios) < 0.6
