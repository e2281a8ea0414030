"""Own NIQE and BRISQUE (``backend=native``) against pyiqa called directly.

pyiqa is the independent reference: its calibration pairs (TID2013 images shipped in the pyiqa
wheel as ``site-packages/ResultsCalibra``) and random textured frames are scored by both with
the same stand-in model files (no real weights exist here).  Declared tolerance: 1e-3 relative;
measured worst 3e-6; the tests ask for 1e-4.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

from mgld_bench.metrics.functional import nss
from mgld_bench.registry import METRICS
from mgld_bench.weights import BRISQUE_SVM, NIQE_PARAMS

RTOL = 1e-4


def _calibration_images() -> list[np.ndarray]:
    import cv2
    import pyiqa

    root = Path(pyiqa.__file__).resolve().parent.parent / "ResultsCalibra"
    files = sorted(root.glob("dist_dir/*.bmp"))
    if not files:
        pytest.skip("pyiqa's ResultsCalibra images are not installed")
    return [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in files]


def _textured(shape: tuple[int, int], seed: int) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    noise = rng.random((*shape, 3)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.0) * 0.6 + noise * 0.4
    return np.clip(smooth * 255, 0, 255).astype(np.uint8)


def _tensor(frame: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255.0


@pytest.fixture()
def wdir(wdir):
    """conftest's private weights folder, holding stand-in NIQE and BRISQUE parameter files."""
    root = wdir
    rng = np.random.default_rng(5)
    a = rng.normal(size=(36, 36))
    NIQE_PARAMS.path(root).parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(NIQE_PARAMS.path(root), {"mu_prisparam": rng.normal(size=(1, 36)),
                                              "cov_prisparam": a @ a.T / 36 + np.eye(36)})
    g = torch.Generator().manual_seed(3)
    torch.save((torch.randn(200, 1, generator=g, dtype=torch.float64) * 20,
                torch.rand(200, 36, generator=g, dtype=torch.float64) * 2 - 1), BRISQUE_SVM.path(root))
    return root


def test_imresize_half_equals_pyiqa() -> None:
    from pyiqa.matlab_utils import imresize

    rng = np.random.default_rng(0)
    for shape in ((96, 96), (97, 131)):
        x = rng.random(shape) * 255
        want = imresize(torch.from_numpy(x)[None, None], scale=0.5, antialiasing=True)[0, 0].double().numpy()
        np.testing.assert_allclose(nss.imresize_half(x), want, rtol=0, atol=1e-4)


def test_mscn_equals_pyiqa() -> None:
    from pyiqa.archs.func_util import normalize_img_with_gauss

    y = nss.luma255(_textured((120, 150), 1)).astype(np.float64)
    want = normalize_img_with_gauss(torch.from_numpy(y)[None, None], padding="replicate")[0, 0].numpy()
    np.testing.assert_allclose(nss.mscn(y, "replicate"), want, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("space", "pyiqa_space"), [("gray", "yiq"), ("y", "ycbcr")])
def test_niqe_native_equals_pyiqa(wdir, space, pyiqa_space) -> None:
    import pyiqa

    # rgb2gray (pyiqa's calibration setting) on every calibration pair; BT.601 Y on two frames
    frames = [*_calibration_images(), _textured((200, 300), 2)]
    if space == "y":
        frames = frames[-2:]
    direct = pyiqa.create_metric("niqe", device="cpu", pretrained_model_path=str(NIQE_PARAMS.path(wdir)),
                                 color_space=pyiqa_space)
    want = [float(direct(_tensor(f))) for f in frames]
    ours = METRICS.create("niqe", color_space=space).score_batch(frames, None)
    np.testing.assert_allclose(ours, want, rtol=RTOL)
    via_pyiqa = METRICS.create("niqe", color_space=space, backend="pyiqa").score_batch(frames[:1], None)
    assert via_pyiqa == pytest.approx(want[:1], rel=1e-9)
    cropped = METRICS.create("niqe", color_space=space, crop_border=8).score_batch(frames[-1:], None)
    np.testing.assert_allclose(cropped, [float(direct(_tensor(frames[-1])[:, :, 8:-8, 8:-8]))], rtol=RTOL)


def test_brisque_native_equals_pyiqa(wdir) -> None:
    import pyiqa

    frames = [*_calibration_images(), _textured((201, 299), 4)]
    direct = pyiqa.create_metric("brisque", device="cpu", pretrained_model_path=str(BRISQUE_SVM.path(wdir)))
    want = [float(direct(_tensor(f))) for f in frames]
    ours = METRICS.create("brisque").score_batch(frames, None)
    np.testing.assert_allclose(ours, want, rtol=RTOL)
    assert np.ptp(want) > 10  # the stand-in SVR spreads the scores: the comparison is not dominated by rho


def test_native_backend_identity_differs_from_pyiqa() -> None:
    assert METRICS.create("niqe").backend().startswith("mgld_bench ")
    assert METRICS.create("niqe", backend="pyiqa").backend().startswith("pyiqa ")
    assert METRICS.create("niqe").identity() != METRICS.create("niqe", backend="pyiqa").identity()


def test_native_niqe_flat_frame_is_a_clear_error(wdir) -> None:
    from mgld_bench.errors import BenchError

    with pytest.raises(BenchError, match="niqe failed"):
        METRICS.create("niqe").score_batch([np.full((128, 128, 3), 128, np.uint8)], None)


def test_native_niqe_imports_no_torch(wdir) -> None:
    code = (
        "import sys, numpy as np\n"
        "from mgld_bench.registry import METRICS\n"
        "rng = np.random.default_rng(0)\n"
        "f = (rng.random((100, 120, 3)) * 255).astype(np.uint8)\n"
        "v = METRICS.create('niqe').score_batch([f], None)[0]\n"
        "assert v == v and 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**__import__("os").environ})
