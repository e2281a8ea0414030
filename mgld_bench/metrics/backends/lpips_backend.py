"""The ``lpips`` package (BSD-2-Clause) as a permissive backend for LPIPS (AlexNet / VGG, v0.1)."""

from __future__ import annotations

import contextlib
import io

from mgld_bench.errors import BenchError
from mgld_bench.metrics.backends.base import IQAModel, ModelSpec

_NETS = {"lpips": "alex", "lpips-vgg": "vgg"}


def load_lpips(spec: ModelSpec, device: str) -> IQAModel:
    if spec.pyiqa_name not in _NETS:
        raise BenchError(f"{spec.metric}: the lpips backend only computes lpips and lpips-vgg; use backend=pyiqa")
    from mgld_bench.extras import import_extra

    lpips = import_extra("lpips", spec.metric)

    head = str(spec.model_file.path()) if spec.model_file else None
    with contextlib.redirect_stdout(io.StringIO()):
        net = lpips.LPIPS(net=_NETS[spec.pyiqa_name], version="0.1", model_path=head, verbose=False)
    net = net.eval().to(device)

    def call(x, y):  # inputs in [0, 1]: normalize=True maps them to [-1, 1]
        return net(x, y, normalize=True)

    from mgld_bench.metrics.backends.split import lpips_package_split

    return IQAModel(spec, device, call, lpips_package_split(net))
