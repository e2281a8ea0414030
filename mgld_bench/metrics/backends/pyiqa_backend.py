"""pyiqa (IQA-PyTorch) as a backend.  Licence: PolyForm Noncommercial since 2026 -- see docs/metrics.md."""

from __future__ import annotations

import contextlib
import io

from mgld_bench.errors import BenchError
from mgld_bench.metrics.backends.base import IQAModel, ModelSpec


def load_pyiqa(spec: ModelSpec, device: str) -> IQAModel:
    import pyiqa

    kwargs = dict(spec.options)
    if spec.model_file is not None:
        kwargs["pretrained_model_path"] = str(spec.model_file.path())
    with contextlib.redirect_stdout(io.StringIO()):  # pyiqa prints "Loading pretrained model ..."
        metric = pyiqa.create_metric(spec.pyiqa_name, device=device, **kwargs)
    if bool(metric.lower_better) != spec.lower_better or metric.metric_mode != spec.mode:
        raise BenchError(
            f"{spec.metric}: pyiqa {pyiqa.__version__} reports {spec.pyiqa_name} as "
            f"{metric.metric_mode}/lower_better={metric.lower_better}, expected {spec.mode}/{spec.lower_better}"
        )

    def call(x, y):  # pyiqa: distorted first, reference second
        return metric(x, y) if spec.mode == "FR" else metric(x)

    return IQAModel(spec, device, call)

