"""The motion-guidance functions against independent references (scipy, OpenCV, hand geometry)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mgld_bench.methods.mgld.guidance.loss import warp_error
from mgld_bench.methods.mgld.guidance.motion import MotionField
from mgld_bench.methods.mgld.guidance.occlusion import forward_backward_occlusion
from mgld_bench.methods.mgld.guidance.step import guidance_step, posterior_variance, scheduler_step_variance, step_size


def _moving_square(h=16, w=16, top=4, left=4, side=5, d=(2, 1)):
    """Flows of a square moving by integer d=(dx, dy) over a static background, + region masks."""
    dx, dy = d
    fwd = np.zeros((h, w, 2), np.float64)
    bwd = np.zeros((h, w, 2), np.float64)
    in_a = np.zeros((h, w), bool)
    in_a[top : top + side, left : left + side] = True
    in_b = np.zeros((h, w), bool)
    in_b[top + dy : top + dy + side, left + dx : left + dx + side] = True
    fwd[in_a] = (dx, dy)
    bwd[in_b] = (-dx, -dy)
    covered = in_b & ~in_a  # background of frame a hidden by the square in frame b
    disoccluded = in_a & ~in_b  # background of frame b that the square uncovered
    to_t = lambda f: torch.from_numpy(f).permute(2, 0, 1)[None]  # noqa: E731
    return to_t(fwd), to_t(bwd), covered, disoccluded


def test_occlusion_mask_marks_exactly_the_hidden_regions():
    fwd, bwd, covered, disoccluded = _moving_square()
    occ_a, occ_b = forward_backward_occlusion(fwd, bwd)
    # frame a: only the background the square moves onto is invisible in b
    np.testing.assert_array_equal(occ_a[0, 0].numpy().astype(bool), covered)
    # frame b: only the uncovered background; the loss weight 1 - occ is zero there
    np.testing.assert_array_equal(occ_b[0, 0].numpy().astype(bool), disoccluded)
    assert disoccluded.sum() > 0 and covered.sum() > 0
    assert (1 - occ_b[0, 0].numpy())[disoccluded].max() == 0.0


def test_occlusion_threshold_uses_alpha_beta():
    # a constant mismatch of 0.4 px is consistent (beta = 0.5); 0.6 px is not
    fwd = torch.zeros(1, 2, 5, 5)
    for err, expected in ((0.4, 0.0), (0.6, 1.0)):
        bwd = torch.zeros(1, 2, 5, 5)
        bwd[:, 0] = err
        occ_a, _ = forward_backward_occlusion(fwd, bwd)
        # threshold = 0.01 * (0 + err) + 0.5
        assert occ_a.unique().tolist() == [expected]


def test_zero_flow_static_clip_gives_zero_loss():
    z = torch.randn(1, 4, 8, 8).repeat(5, 1, 1, 1)
    zero = np.zeros((4, 32, 32, 2), np.float32)
    field = MotionField.from_flows(zero, zero, (8, 8))
    assert field.occ_fwd.sum() == 0 and field.occ_bwd.sum() == 0
    # zero up to float32 rounding of grid_sample's normalised coordinates; ~exact in float64
    assert field.loss(z, "paired").item() < 1e-6
    assert field.loss(z.double(), "paired").item() < 1e-12
    z2 = z.clone()
    z2[2] += 0.25  # a change in one frame makes it non-zero
    assert field.loss(z2, "paired").item() > 0


def _shift(a: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """out(y, x) = a(y + dy, x + dx), zeros outside (integer warp by a constant flow)."""
    out = np.zeros_like(a)
    h, w = a.shape[-2:]
    ys = slice(max(0, -dy), min(h, h - dy))
    xs = slice(max(0, -dx), min(w, w - dx))
    ys_src = slice(ys.start + dy, ys.stop + dy)
    xs_src = slice(xs.start + dx, xs.stop + dx)
    out[..., ys, xs] = a[..., ys_src, xs_src]
    return out


def _constant_flows(t, h, w, d):
    fwd = np.zeros((t - 1, h, w, 2), np.float32)
    fwd[..., 0], fwd[..., 1] = d
    return fwd, -fwd


def test_paired_loss_matches_hand_computation():
    rng = np.random.default_rng(2)
    t, c, h, w, d = 3, 2, 10, 12, (2, -1)
    z = rng.normal(size=(t, c, h, w))
    fwd, bwd = _constant_flows(t, h, w, d)
    field = MotionField.from_flows(fwd, bwd, (h, w))
    ref = 0.0
    for i in range(t - 1):
        vis_a = 1 - field.occ_fwd[i].numpy()
        vis_b = 1 - field.occ_bwd[i].numpy()
        ref += np.mean(np.abs(vis_a * (_shift(z[i + 1], *d) - z[i])))
        ref += np.mean(np.abs(vis_b * (_shift(z[i], -d[0], -d[1]) - z[i + 1])))
    got = field.loss(torch.from_numpy(z), "paired").item()
    assert got == pytest.approx(ref, rel=1e-6)
    # the masks are the out-of-frame bands: exactly |dx| columns and |dy| rows
    assert field.occ_fwd[0, 0].numpy().sum() == h * w - (h - 1) * (w - 2)


def test_official_loss_matches_the_documented_term_table():
    rng = np.random.default_rng(3)
    t, c, h, w = 5, 2, 8, 9
    z = rng.normal(size=(t, c, h, w))
    fwd = rng.integers(-1, 2, size=(t - 1, 2)).astype(np.float32)  # one constant flow per pair
    f = np.zeros((t - 1, h, w, 2), np.float32)
    f[:] = fwd[:, None, None, :]
    b = -f
    of = np.zeros((t - 1, 1, h, w))
    of[:, :, :2] = 1  # arbitrary masks
    ob = np.zeros((t - 1, 1, h, w))
    ob[:, :, :, -3:] = 1

    def sh(a, flow):
        return _shift(a, int(flow[0]), int(flow[1]))

    term = lambda o, diff: np.mean(np.abs((1 - o) * diff))  # noqa: E731
    ref = term(of[3], 0 - z[3])
    for i in (2, 1, 0):
        ref += term(of[i], sh(z[i + 1], fwd[i + 1]) - z[i])
    ref += term(ob[0], 0 - z[1])
    for i in (1, 2, 3):
        ref += term(ob[i], sh(z[i], -fwd[i - 1]) - z[i + 1])
    tt = lambda a: torch.from_numpy(np.ascontiguousarray(a)).double()  # noqa: E731
    got = warp_error(tt(z), tt(f.transpose(0, 3, 1, 2)), tt(b.transpose(0, 3, 1, 2)), tt(of), tt(ob), "official")
    assert got.item() == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("form", ["paired", "official"])
def test_warp_error_gradient_matches_finite_differences(form):
    g = torch.Generator().manual_seed(4)
    t, h, w = 4, 6, 7
    z = torch.randn(t, 2, h, w, generator=g, dtype=torch.float64, requires_grad=True)
    fwd = torch.rand(t - 1, 2, h, w, generator=g, dtype=torch.float64) * 2.0 - 1.0
    bwd = -fwd + 0.1 * torch.randn(t - 1, 2, h, w, generator=g, dtype=torch.float64)
    occ_f, occ_b = forward_backward_occlusion(fwd, bwd)
    assert torch.autograd.gradcheck(lambda x: warp_error(x, fwd, bwd, occ_f, occ_b, form), (z,), eps=1e-6, atol=1e-7)
    # and a hand-rolled central difference on a few coordinates
    loss = warp_error(z, fwd, bwd, occ_f, occ_b, form)
    (grad,) = torch.autograd.grad(loss, z)
    with torch.no_grad():
        for idx in [(0, 0, 1, 1), (1, 1, 3, 4), (3, 0, 5, 6)]:
            zp, zm = z.detach().clone(), z.detach().clone()
            zp[idx] += 1e-6
            zm[idx] -= 1e-6
            fd = (warp_error(zp, fwd, bwd, occ_f, occ_b, form) - warp_error(zm, fwd, bwd, occ_f, occ_b, form)) / 2e-6
            assert grad[idx].item() == pytest.approx(fd.item(), abs=1e-7)


def _ldm_schedule():
    """The official 1000-step schedule (LDM 'linear': sqrt-spaced betas 0.00085..0.012) and its
    50-step respacing (StableSR space_timesteps: round(i * 999 / 49))."""
    betas = np.linspace(math.sqrt(0.00085), math.sqrt(0.012), 1000, dtype=np.float64) ** 2
    abar = np.cumprod(1 - betas)
    kept = sorted({round(i * 999 / 49) for i in range(50)})
    return abar, kept[::-1]


@pytest.mark.parametrize(
    "t, expected",
    [(999, 15.5), (816, 17.8), (612, 21.5), (408, 26.4), (204, 33.2), (102, 38.9), (41, 46.1), (20, 71.2), (0, 460.5)],
)
def test_official_step_sizes_match_the_documented_table(t, expected):
    # reference: methods.md sec. 3.6, 10 * |log sigma~^2_t| on the 50-step respaced schedule
    abar, timesteps = _ldm_schedule()
    index = timesteps.index(t)
    var = scheduler_step_variance(abar, timesteps, index, final_alpha_cumprod=1.0)
    assert step_size(var, "official", scale=-10.0) == pytest.approx(expected, abs=0.06)


def test_paper_step_and_posterior_variance_by_hand():
    abar_t, abar_prev = 0.5, 0.8
    var = posterior_variance(abar_t, abar_prev)
    assert var == pytest.approx((0.2 / 0.5) * (1 - 0.5 / 0.8))
    assert step_size(var, "paper", eta=10.0) == pytest.approx(10 * var)
    assert step_size(0.0, "official") == pytest.approx(-10 * math.log(1e-20))
    with pytest.raises(ValueError):
        step_size(var, "nope")


def test_guidance_step_is_a_descent_step_and_works_under_no_grad():
    rng = np.random.default_rng(5)
    t, h, w, d = 5, 12, 12, (1, 1)
    fwd, bwd = _constant_flows(t, h * 2, w * 2, (2 * d[0], 2 * d[1]))  # image-resolution flows
    field = MotionField.from_flows(fwd, bwd, (h, w))  # resized: values halve to d
    assert field.flows_fwd[0, :, 5, 5].tolist() == [1.0, 1.0]
    z = torch.from_numpy(rng.normal(size=(t, 4, h, w)).astype(np.float32))
    with torch.no_grad():
        new, before = field.step(z, step=60.0)
    assert new.shape == z.shape and new.dtype == z.dtype
    after = field.loss(new).item()
    assert before == pytest.approx(field.loss(z).item(), rel=1e-6)
    assert after < 0.9 * before
    # the step is exactly z - step * grad
    zz = z.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(field.loss(zz), zz)
    torch.testing.assert_close(new, z - 60.0 * grad)
    new2, _ = guidance_step(z, field.loss, 0.0)
    torch.testing.assert_close(new2, z)


def test_crop_keeps_or_rechecks_masks():
    # constant motion of 2 px to the right: on a tile, the right-most 2 columns have their match
    # outside the tile; cutting the whole-frame masks keeps them visible, a recheck masks them
    t, h, w = 2, 8, 12
    fwd, bwd = _constant_flows(t, h, w, (2, 0))
    field = MotionField.from_flows(fwd, bwd, (h, w))
    cut = field.crop(0, 8, 0, 6)
    rechecked = field.crop(0, 8, 0, 6, recheck=True)
    torch.testing.assert_close(cut.flows_fwd, rechecked.flows_fwd)
    assert cut.occ_fwd.sum() == 0
    expected = np.zeros((h, 6))
    expected[:, 4:] = 1
    np.testing.assert_array_equal(rechecked.occ_fwd[0, 0].numpy(), expected)
