"""Flow backends and warping against independent references (scipy, hand-computed values, true flow)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from mgld_bench.datasets.synthetic import SyntheticDataset
from mgld_bench.errors import UnknownNameError, WeightsMissingError
from mgld_bench.flow import backward_warp, estimate_flow, motion_boundary, occlusion_mask


def test_backward_warp_hand_values() -> None:
    img = np.tile(np.array([0.0, 10.0, 20.0, 30.0], dtype=np.float32), (2, 1))
    flow = np.zeros((2, 4, 2), np.float32)
    flow[..., 0] = 0.25
    np.testing.assert_allclose(backward_warp(img, flow)[0], [2.5, 12.5, 22.5, 30.0], atol=1e-6)
    flow[..., 0] = -1.0  # x = 0 samples x = -1, clamped to the border
    np.testing.assert_allclose(backward_warp(img, flow)[0], [0.0, 0.0, 10.0, 20.0], atol=1e-6)


@pytest.mark.parametrize("channels", [1, 2, 3, 5])
def test_backward_warp_matches_scipy_bilinear(channels: int) -> None:
    rng = np.random.default_rng(0)
    img = rng.random((23, 31, channels)).astype(np.float32)
    flow = (rng.random((23, 31, 2)) * 8 - 4).astype(np.float32)
    yy, xx = np.mgrid[0:23, 0:31].astype(np.float64)
    cx = np.clip(xx + flow[..., 0], 0, 30)
    cy = np.clip(yy + flow[..., 1], 0, 22)
    ref = np.stack([ndimage.map_coordinates(img[..., c].astype(np.float64), [cy, cx], order=1)
                    for c in range(channels)], -1)
    np.testing.assert_allclose(backward_warp(img, flow), ref, atol=1e-5)


def test_occlusion_forward_backward_thresholds_by_hand() -> None:
    h, w = 4, 5
    fwd = np.zeros((h, w, 2), np.float32)
    bwd = np.zeros((h, w, 2), np.float32)
    fwd[..., 0], bwd[..., 0] = 1.0, -1.0  # consistent: |F+B|^2 = 0
    assert occlusion_mask(fwd, bwd).all()
    bwd[...] = 0.0  # |F+B|^2 = 1 > 0.01 * 1 + 0.5
    assert not occlusion_mask(fwd, bwd).any()
    fwd[..., 0] = 0.5  # 0.25 < 0.01 * 0.25 + 0.5
    assert occlusion_mask(fwd, bwd).all()


def test_motion_boundary_forward_differences_by_hand() -> None:
    flow = np.zeros((3, 4, 2), np.float32)
    flow[:, 2:, 0] = 1.0  # u = [0, 0, 1, 1] along x
    mb = motion_boundary(flow)
    # u(1) - u(2) = -1: |grad|^2 = 1 > 0.002 at x = 1 only (forward differences, last column 0)
    expected = np.zeros((3, 4), bool)
    expected[:, 1] = True
    np.testing.assert_array_equal(mb, expected)
    fwd = flow.copy()
    bwd = -flow  # consistent everywhere: only the boundary is removed
    np.testing.assert_array_equal(occlusion_mask(fwd, bwd), ~expected)
    np.testing.assert_array_equal(occlusion_mask(fwd, bwd, motion_boundaries=False), np.ones((3, 4), bool))


#: Mean end-point error (px) reached on non-occluded pixels of the 256x256 synthetic clips
#: (measured: DIS-medium 0.08-0.11, DIS-fast 0.19-0.21, DIS-ultrafast 0.19-0.26, Farneback 0.12-0.24), with margin.
EPE_LIMITS = {"dis-ultrafast": 0.35, "dis-fast": 0.35, "dis-medium": 0.15, "farneback": 0.35}


@pytest.mark.parametrize("backend", sorted(EPE_LIMITS))
def test_opencv_flow_close_to_true_flow(backend: str) -> None:
    ds = SyntheticDataset(frames=2, size=256)
    epes = []
    for name in ds.clip_names():
        clip = ds.load_clip(name)
        flow = estimate_flow(clip.gt[0], clip.gt[1], backend)
        assert flow.shape == (256, 256, 2) and flow.dtype == np.float32
        true = clip.extras["true_flow"](0)
        keep = ~clip.extras["occluded"](0)
        epes.append(float(np.linalg.norm(flow - true, axis=-1)[keep].mean()))
        # the zero flow is much worse: the estimate is genuinely tracking the motion
        assert np.linalg.norm(true, axis=-1)[keep].mean() > 3 * epes[-1]
    assert max(epes) < EPE_LIMITS[backend], epes


def test_unknown_backend_and_missing_raft_weights(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path))
    img = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(UnknownNameError):
        estimate_flow(img, img, "flownet2")
    with pytest.raises(WeightsMissingError, match=r"raft_small_C_T_V2-01064c6d\.pth"):
        estimate_flow(img, img, "raft-small")


def test_raft_small_matches_torchvision_with_the_same_file(tmp_path, monkeypatch) -> None:
    import torch
    from torchvision.models.optical_flow import raft_small

    from mgld_bench.flow import raft as raft_mod
    from mgld_bench.weights import RAFT_SMALL

    monkeypatch.setenv("MGLD_BENCH_WEIGHTS", str(tmp_path))
    monkeypatch.setattr(raft_mod, "_MODELS", {})
    torch.manual_seed(0)
    net = raft_small(weights=None)
    RAFT_SMALL.path().parent.mkdir(parents=True)
    torch.save(net.state_dict(), RAFT_SMALL.path())
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (128, 140, 3), dtype=np.uint8)  # width not a multiple of 8: padded
    b = np.roll(a, 2, axis=1)
    ours = estimate_flow(a, b, "raft-small")
    assert ours.shape == (128, 140, 2) and ours.dtype == np.float32

    def t(x):
        return torch.from_numpy(x).permute(2, 0, 1)[None].float() / 255 * 2 - 1

    pad = (2, 2, 0, 0)  # 140 -> 144, split evenly as the backend does
    with torch.no_grad():
        want = net.eval()(torch.nn.functional.pad(t(a), pad, mode="replicate"),
                          torch.nn.functional.pad(t(b), pad, mode="replicate"), num_flow_updates=12)[-1]
    want = want[0, :, :, 2:-2].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ours, want, atol=1e-4)


def test_a_dis_flow_does_not_depend_on_what_was_computed_before() -> None:
    """A reused DIS instance kept state from its previous images (1.9 px after a 32 px pair)."""
    import cv2

    from mgld_bench.datasets.synthetic import SyntheticDataset
    from mgld_bench.flow import estimate_flow

    clip = SyntheticDataset(frames=2, size=128).load_clip("pan")
    gray = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in (clip.gt[0], clip.gt[1])]
    want = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(gray[1], gray[0], None)
    noise = np.random.default_rng(5).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    estimate_flow(noise, noise[::-1].copy(), "dis-medium")
    np.testing.assert_array_equal(estimate_flow(clip.gt[1], clip.gt[0], "dis-medium"), want)
