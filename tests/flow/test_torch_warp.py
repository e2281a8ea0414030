"""The one torch flow warp (MGLD's guidance, RealBasicVSR, SPyNet) and flow resizing, against
independent references (scipy, numpy, OpenCV)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from scipy import ndimage

from mgld_bench.flow.torch_warp import flow_warp, resize_flow


def test_flow_warp_matches_scipy_bilinear():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 9, 11))
    flow = rng.uniform(-2.5, 2.5, size=(2, 2, 9, 11))
    got = flow_warp(torch.from_numpy(x), torch.from_numpy(flow)).numpy()
    ys, xs = np.mgrid[0:9, 0:11].astype(np.float64)
    for n in range(2):
        coords = [ys + flow[n, 1], xs + flow[n, 0]]
        for c in range(3):
            # grid-constant: bilinear with zeros beyond the edge, like grid_sample's zero padding
            ref = ndimage.map_coordinates(x[n, c], coords, order=1, mode="grid-constant", cval=0.0)
            np.testing.assert_allclose(got[n, c], ref, atol=1e-10)


def test_border_padding_repeats_the_edge_like_scipy_nearest():
    """SPyNet's warp: a sample beyond the edge takes the edge value."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1, 2, 7, 10))
    flow = rng.uniform(-4.0, 4.0, size=(1, 2, 7, 10))
    got = flow_warp(torch.from_numpy(x), torch.from_numpy(flow), padding_mode="border").numpy()
    ys, xs = np.mgrid[0:7, 0:10].astype(np.float64)
    coords = [ys + flow[0, 1], xs + flow[0, 0]]
    for c in range(2):
        ref = ndimage.map_coordinates(x[0, c], coords, order=1, mode="nearest")
        np.testing.assert_allclose(got[0, c], ref, atol=1e-10)


@pytest.mark.parametrize("dx,dy", [(2.0, 1.0), (-3.0, 0.0), (0.5, -1.25)])
def test_flow_warp_moves_a_known_shift(dx: float, dy: float) -> None:
    """out(y, x) = img(y + dy, x + dx); reference: scipy map_coordinates (bilinear, zeros outside)."""
    rng = np.random.default_rng(3)
    img = rng.random((20, 24)).astype(np.float64)
    flow = torch.zeros(1, 2, 20, 24, dtype=torch.float64)
    flow[:, 0] = dx
    flow[:, 1] = dy
    out = flow_warp(torch.from_numpy(img)[None, None], flow)[0, 0].numpy()
    yy, xx = np.mgrid[0:20, 0:24].astype(np.float64)
    ref = ndimage.map_coordinates(img, [yy + dy, xx + dx], order=1, mode="constant", cval=0.0)
    inside = (yy + dy >= 0) & (yy + dy <= 19) & (xx + dx >= 0) & (xx + dx <= 23)
    np.testing.assert_allclose(out[inside], ref[inside], atol=1e-10)
    if float(dx).is_integer() and float(dy).is_integer():  # integer shift: exact slicing
        sy, sx = int(dy), int(dx)
        ys = slice(max(0, -sy), 20 - max(0, sy))
        xs = slice(max(0, -sx), 24 - max(0, sx))
        np.testing.assert_allclose(out[ys, xs], img[ys.start + sy : ys.stop + sy, xs.start + sx : xs.stop + sx])


def test_flow_warp_in_half_precision_keeps_subpixel_accuracy() -> None:
    """A 4-px period pattern 600 px wide shifted by 0.3 px; fp16 coordinates would be off by up to 0.25 px."""
    xs = np.arange(600)
    row = np.sin(2 * np.pi * xs / 4).astype(np.float16)
    img = torch.from_numpy(np.stack([row, row]))[None, None]  # (1, 1, 2, 600) float16
    flow = torch.zeros(1, 2, 2, 600)
    flow[:, 0] = 0.3
    out = flow_warp(img, flow)
    assert out.dtype == torch.float16
    ref = np.interp(xs[:-1] + 0.3, xs, row.astype(np.float64))
    assert np.abs(out[0, 0, 0].float().numpy()[:-1] - ref).max() < 2e-3


def test_flow_warp_keeps_float32_coordinates_for_half_precision_flows():
    """A half-precision flow on a wide map: the grid is built in float32.  In float16 a
    coordinate near 1000 is only representable to 0.5 px, which on a fast-varying signal would
    move samples by a large fraction of its range."""
    cols = torch.arange(1200, dtype=torch.float32)
    x = torch.sin(cols * 1.3).repeat(1, 1, 2, 1)  # (1, 1, 2, 1200)
    flow = torch.zeros(1, 2, 2, 1200)
    flow[:, 0] = 0.25  # a quarter pixel right
    ref = flow_warp(x, flow)
    out = flow_warp(x.half(), flow.half())
    assert out.dtype == torch.float16
    # float16 values in [-1, 1] carry ~5e-4; a rounded coordinate would err by up to ~0.3 here
    assert (out.float()[..., :1199] - ref[..., :1199]).abs().max() < 5e-3


@pytest.mark.parametrize("size", [(6, 8), (24, 20)])
def test_resize_flow_matches_cv2_and_rescales_values(size):
    rng = np.random.default_rng(1)
    flow = rng.normal(size=(12, 10, 2)).astype(np.float32)
    got = resize_flow(torch.from_numpy(flow).permute(2, 0, 1)[None], size)[0].permute(1, 2, 0).numpy()
    ref = cv2.resize(flow, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    ref[..., 0] *= size[1] / 10
    ref[..., 1] *= size[0] / 12
    np.testing.assert_allclose(got, ref, atol=1e-5)
