"""Backends that compute learned and no-reference image metrics (pyiqa, lpips).

Everything that differs between libraries -- argument order, input range, output shape,
where weights come from -- is handled here once; metric classes only name a backend and a model.
"""

from mgld_bench.metrics.backends.base import BACKENDS, IQAModel, ModelSpec, frames_to_tensor, load_model

__all__ = ["BACKENDS", "IQAModel", "ModelSpec", "frames_to_tensor", "load_model"]
