"""Weight-free structural full-reference metrics (MS-SSIM, GMSD) from piq or pyiqa.

Both libraries get the same input: float32 planes (N, C, H, W) in [0, 1] that the metric has
already cropped and converted to its colour space (:mod:`mgld_bench.metrics.structural`), and
each returns one value per image.  piq (Apache-2.0) is the default; pyiqa (PolyForm
Noncommercial) is the alternative.  Where they differ, and by how much, is in docs/metrics.md:

* MS-SSIM: pyiqa clamps the contrast-structure *map* at 0 pixel by pixel before averaging it
  (piq clamps the averaged values), and zero-pads odd sizes on both sides when halving (piq
  repeats the first row/column);
* GMSD: pyiqa's deviation divides by N - 1 (piq by N) and drops the last row/column of an odd
  size when halving (piq zero-pads it).

Imports of torch, piq and pyiqa happen inside the functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mgld_bench.errors import BenchError

#: MS-SSIM's five scales with an 11-px window need at least (11 - 1) * 2**4 + 1 pixels per side.
MS_SSIM_MIN_SIDE = 161


def _piq(used_by: str) -> Any:
    from mgld_bench.extras import import_extra

    return import_extra("piq", used_by=used_by)


def piq_ms_ssim(x: Any, y: Any) -> Any:
    """piq's ``multi_scale_ssim`` (Gaussian 11x11, sigma 1.5, weights of Wang et al. 2003)."""
    return _piq("ms-ssim").multi_scale_ssim(x, y, data_range=1.0, reduction="none")


def pyiqa_ms_ssim(x: Any, y: Any) -> Any:
    """pyiqa's ``ms_ssim`` function (no MATLAB-style pre-downsampling, product form), 0-255 scale."""
    from mgld_bench.extras import import_extra

    ssim_arch = import_extra("pyiqa.archs.ssim_arch", used_by="ms-ssim")
    return ssim_arch.ms_ssim(x * 255.0, y * 255.0, data_range=255.0, downsample=False, is_prod=True)


def piq_gmsd(x: Any, y: Any) -> Any:
    """piq's ``gmsd`` (Prewitt gradients after 2x average pooling, T = 170 on the 0-255 scale)."""
    return _piq("gmsd").gmsd(x, y, data_range=1.0, reduction="none")


def pyiqa_gmsd(x: Any, y: Any) -> Any:
    """pyiqa's ``gmsd`` function on the given planes (its own Y conversion and rounding off)."""
    from mgld_bench.extras import import_extra

    gmsd_arch = import_extra("pyiqa.archs.gmsd_arch", used_by="gmsd")
    return gmsd_arch.gmsd(x, y, channels=x.shape[1], test_y_channel=False)


#: model -> backend -> function (distorted, reference) -> (N,) values.
FUNCTIONS: dict[str, dict[str, Callable[[Any, Any], Any]]] = {
    "ms-ssim": {"piq": piq_ms_ssim, "pyiqa": pyiqa_ms_ssim},
    "gmsd": {"piq": piq_gmsd, "pyiqa": pyiqa_gmsd},
}
#: The smallest side each model accepts (piq refuses smaller MS-SSIM inputs; pyiqa would
#: silently pool below the window size).
MIN_SIDE: dict[str, int] = {"ms-ssim": MS_SSIM_MIN_SIDE, "gmsd": 4}


def score(model: str, backend: str, x: Any, y: Any) -> list[float]:
    """One float per image of ``model`` computed by ``backend`` on planes ``x`` (distorted), ``y``."""
    import torch

    try:
        fn = FUNCTIONS[model][backend]
    except KeyError:
        valid = ", ".join(FUNCTIONS.get(model, {}))
        raise BenchError(f"{model}: no {backend!r} implementation; use one of {valid}") from None
    with torch.inference_mode():
        out = fn(x, y)
    return [float(v) for v in torch.as_tensor(out).reshape(-1).double().cpu().tolist()]
