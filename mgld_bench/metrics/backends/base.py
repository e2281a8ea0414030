"""The backend interface: a :class:`ModelSpec` in, a callable :class:`IQAModel` out.

Contract of every backend model (enforced here, not in each metric):

* inputs are lists of uint8 RGB frames (H, W, 3), converted once to float (N, 3, H, W) in
  [0, 1] on the chosen device;
* full-reference models are called as ``model(distorted, reference)`` (pyiqa's order);
* the output is one float per frame, whatever shape the library returns ((N,), (N, 1),
  (N, 1, 1, 1), or a 0-d tensor for N = 1);
* weights are checked *before* the library is touched: a missing file raises
  :class:`~mgld_bench.errors.WeightsMissingError` instead of letting the library download.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.weights import WeightFile, require_weights, weights_dir


@dataclass(frozen=True)
class ModelSpec:
    """What to build: the library's model name, its files, and options."""

    metric: str
    #: "FR" (distorted, reference) or "NR" (distorted only).
    mode: str
    lower_better: bool
    #: pyiqa's name for the model (e.g. "lpips-vgg").
    pyiqa_name: str
    #: Every file the model reads (checked before construction).
    files: tuple[WeightFile, ...] = ()
    #: The file passed explicitly as the model's own weights (``pretrained_model_path``).
    model_file: WeightFile | None = None
    options: dict[str, Any] = field(default_factory=dict)


class IQAModel:
    """A loaded model: ``score(distorted, reference) -> list[float]``."""

    def __init__(self, spec: ModelSpec, device: str, fn: Callable[[Any, Any], Any]) -> None:
        self.spec = spec
        self.device = device
        self._fn = fn

    def score(self, distorted: list[np.ndarray], reference: list[np.ndarray] | None = None) -> list[float]:
        import torch

        if self.spec.mode == "FR" and reference is None:
            raise BenchError(f"{self.spec.metric} is full-reference and needs reference frames")
        x = frames_to_tensor(distorted, self.device)
        y = frames_to_tensor(reference, self.device) if self.spec.mode == "FR" and reference is not None else None
        if y is not None and y.shape != x.shape:
            raise BenchError(f"{self.spec.metric}: distorted frames {tuple(x.shape)} vs reference {tuple(y.shape)}")
        with torch.inference_mode():
            out = self._fn(x, y)
        values = torch.as_tensor(out).detach().reshape(-1).double().cpu().tolist()
        if len(values) != len(distorted):
            raise BenchError(f"{self.spec.metric}: backend returned {len(values)} values for {len(distorted)} frames")
        return [float(v) for v in values]


def frames_to_tensor(frames: list[np.ndarray] | None, device: str) -> Any:
    """uint8 RGB frames -> float32 tensor (N, 3, H, W) in [0, 1] on ``device``."""
    import torch

    if frames is None:
        return None
    arr = np.stack([np.asarray(f) for f in frames])
    if arr.ndim != 4 or arr.shape[3] != 3:
        raise BenchError(f"expected H x W x 3 RGB frames, got a stack of shape {arr.shape}")
    t = torch.from_numpy(np.ascontiguousarray(arr))
    t = t.float() / 255.0 if arr.dtype == np.uint8 else t.float().clamp(0.0, 1.0)
    return t.permute(0, 3, 1, 2).contiguous().to(device)


def prepare_torch_home() -> None:
    """Point torch hub (torchvision backbones) and pyiqa at the weights folder.

    pyiqa fixes its cache folder when it is first imported, so ``TORCH_HOME`` is set before
    that; ``torch.hub.set_dir`` covers the case where torch was imported earlier.
    """
    root = weights_dir()
    if "pyiqa" not in sys.modules:
        os.environ["TORCH_HOME"] = str(root)
    import torch

    torch.hub.set_dir(str(root / "hub"))


Loader = Callable[[ModelSpec, str], IQAModel]
#: Backend name -> where its loader lives (imported on first use, so no backend library is
#: imported before a metric needs it).  Plugins may add loaders with :func:`register_backend`.
LOADER_TARGETS: dict[str, str] = {
    "pyiqa": "mgld_bench.metrics.backends.pyiqa_backend:load_pyiqa",
    "lpips": "mgld_bench.metrics.backends.lpips_backend:load_lpips",
}
_LOADERS: dict[str, Loader] = {}
_MODELS: dict[tuple[str, str, str, str], IQAModel] = {}


def register_backend(name: str) -> Callable[[Loader], Loader]:
    """Decorator registering a loader ``(spec, device) -> IQAModel`` under ``name``."""

    def deco(fn: Loader) -> Loader:
        _LOADERS[name] = fn
        return fn

    return deco


#: Backend names a learned metric may use.
BACKENDS = tuple(LOADER_TARGETS)


def _loader(backend: str, metric: str) -> Loader:
    if backend not in _LOADERS and backend in LOADER_TARGETS:
        import importlib

        module, _, attr = LOADER_TARGETS[backend].partition(":")
        _LOADERS[backend] = getattr(importlib.import_module(module), attr)
    if backend not in _LOADERS:
        valid = ", ".join(sorted({*LOADER_TARGETS, *_LOADERS}))
        raise BenchError(f"{metric}: unknown backend {backend!r}; valid: {valid}")
    return _LOADERS[backend]


def load_model(spec: ModelSpec, backend: str, device: str) -> IQAModel:
    """Build (once per process) the model of ``spec`` with ``backend`` on ``device``."""
    loader = _loader(backend, spec.metric)
    require_weights(list(spec.files), spec.metric)
    key = (spec.metric, repr(sorted(spec.options.items())), backend, f"{device}|{weights_dir()}")
    if key not in _MODELS:
        prepare_torch_home()
        _MODELS[key] = loader(spec, device)
    return _MODELS[key]


def clear_models() -> None:
    """Forget every loaded model (tests that swap weight folders)."""
    _MODELS.clear()
