"""The port computes the same function as upstream mmagic (fixture made by running mmagic's code).

The fixture was computed in float64; the port runs here in float32 (4x faster on CPU), hence
tolerances of 1e-4 absolute on pixels in [0, 1] and 1e-5 relative on frame statistics.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.realbasicvsr.arch import RealBasicVSRNet
from tests.baselines._rbv_fixture import NET, reference_inputs, reference_weights

FIXTURE = Path(__file__).parent.parent / "reference" / "realbasicvsr_mmagic.npz"


@pytest.mark.parametrize("case,thres,sequential", [("a", 255, True), ("b", 5, False)])
def test_matches_upstream_mmagic(case: str, thres: int, sequential: bool) -> None:
    ref = np.load(FIXTURE)
    net = RealBasicVSRNet(dynamic_refine_thres=thres, is_sequential_cleaning=sequential, **NET).eval()
    weights = reference_weights(net.state_dict())
    net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    x = torch.from_numpy(reference_inputs()[case]).permute(0, 3, 1, 2)[None]
    with torch.no_grad():
        y, lqs = net(x, return_lqs=True)
    y = y[0].permute(0, 2, 3, 1).numpy()
    lqs = lqs[0].permute(0, 2, 3, 1).numpy()
    np.testing.assert_allclose(y[:, 3::8, 3::8], ref[f"{case}_sr_sub"], atol=1e-4)
    np.testing.assert_allclose(y.mean(axis=(1, 2)), ref[f"{case}_sr_mean"], rtol=1e-5)
    np.testing.assert_allclose(y.std(axis=(1, 2)), ref[f"{case}_sr_std"], rtol=1e-5)
    np.testing.assert_allclose(lqs.mean(axis=(1, 2)), ref[f"{case}_lq_mean"], rtol=1e-5)
