"""RealBasicVSRNet: exact mmediting layout, x4 shapes, residual structure."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from baselines.realbasicvsr.arch import RealBasicVSRNet
from tests.baselines._rbv_layout import expected_layout

torch.set_num_threads(2)


def small_net(**kw: object) -> RealBasicVSRNet:
    torch.manual_seed(0)
    return RealBasicVSRNet(num_propagation_blocks=1, num_cleaning_blocks=1, **kw).eval()


def test_state_dict_keys_and_shapes_equal_documented_layout() -> None:
    sd = RealBasicVSRNet().state_dict()
    layout = expected_layout()
    assert len(layout) == 320
    assert list(sd) == list(layout) or set(sd) == set(layout)
    assert len(sd) == 320
    assert {k: tuple(v.shape) for k, v in sd.items()} == layout


def test_parameter_count_matches_reference_arithmetic() -> None:
    net = RealBasicVSRNet()
    assert sum(p.numel() for p in net.parameters()) == 6_294_834
    assert not any(p.requires_grad for p in net.basicvsr.spynet.parameters())


def test_spynet_buffers_hold_imagenet_statistics() -> None:
    sd = RealBasicVSRNet().state_dict()
    np.testing.assert_allclose(sd["basicvsr.spynet.mean"].flatten().numpy(), [0.485, 0.456, 0.406], rtol=1e-6)
    np.testing.assert_allclose(sd["basicvsr.spynet.std"].flatten().numpy(), [0.229, 0.224, 0.225], rtol=1e-6)


def test_x4_forward_shapes() -> None:
    net = small_net()
    x = torch.rand(1, 3, 3, 64, 80)
    with torch.inference_mode():
        out, lqs = net(x, return_lqs=True)
        frames = list(net.iter_forward(x))
    assert out.shape == (1, 3, 3, 256, 320)
    assert lqs.shape == x.shape
    assert len(frames) == 3 and all(f.shape == (1, 3, 256, 320) for f in frames)
    torch.testing.assert_close(torch.stack(frames, 1), out)


def test_output_is_bilinear_x4_of_input_when_residual_branches_are_zero() -> None:
    """Zero cleaning residue and zero conv_last: output = bilinear x4 (OpenCV as reference)."""
    import cv2

    net = small_net()
    with torch.no_grad():
        for p in (*net.image_cleaning[1].parameters(), *net.basicvsr.conv_last.parameters()):
            p.zero_()
    rng = np.random.default_rng(0)
    lr = rng.random((2, 64, 64, 3), dtype=np.float32)
    x = torch.from_numpy(lr).permute(0, 3, 1, 2)[None]
    with torch.inference_mode():
        out = net(x)[0].permute(0, 2, 3, 1).numpy()
    for t in range(2):
        ref = cv2.resize(lr[t], (256, 256), interpolation=cv2.INTER_LINEAR)
        np.testing.assert_allclose(out[t], ref, atol=1e-5)


def test_input_smaller_than_64_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 64x64"):
        small_net()(torch.rand(1, 2, 3, 48, 64))


def test_cleaning_passes_follow_threshold() -> None:
    net = small_net()
    x = torch.rand(1, 2, 3, 64, 64)
    with torch.no_grad():
        net.image_cleaning[1].bias.fill_(0.1)  # mean |residue| well above 0 and below 1
        _, one = net.clean(x)
        net.dynamic_refine_thres = 0.0  # 0/255: never below -> the maximum of 3 passes
        _, three = net.clean(x)
        net.dynamic_refine_thres = 5 / 255
        _, five = net.clean(x)
    assert (one, three, five) == (1, 3, 3)
    x2 = x.clone()
    net.is_sequential_cleaning = True
    net.dynamic_refine_thres = 1.0
    with torch.no_grad():
        seq, _ = net.clean(x2)
        net.is_sequential_cleaning = False
        batch, _ = net.clean(x)
    torch.testing.assert_close(seq, batch)
    torch.testing.assert_close(x2, x)  # the caller's tensor is left alone


def test_mirror_extended_clip_detected() -> None:
    x = torch.rand(1, 2, 3, 8, 8)
    mirrored = torch.cat([x, x.flip(1)], dim=1)
    net = small_net()
    assert net.basicvsr.is_mirror_extended(mirrored)
    assert not net.basicvsr.is_mirror_extended(torch.cat([x, x], dim=1))
    assert not net.basicvsr.is_mirror_extended(torch.rand(1, 3, 3, 8, 8))
