"""The backend interface: a :class:`ModelSpec` in, a callable :class:`IQAModel` out.

Contract of every backend model (enforced here, not in each metric):

* inputs are lists of uint8 RGB frames (H, W, 3), converted once to float (N, 3, H, W) in
  [0, 1] on the chosen device;
* full-reference models are called as ``model(distorted, reference)`` (pyiqa's order);
* the output is one float per frame, whatever shape the library returns ((N,), (N, 1),
  (N, 1, 1, 1), or a 0-d tensor for N = 1);
* weights are checked *before* the library is touched: a missing file raises
  :class:`~mgld_bench.errors.WeightsMissingError` instead of letting the library download, a
  file whose sha256 differs from its published or recorded digest is refused, and while the
  library builds its model every ``torch.load`` it makes goes through
  :func:`mgld_bench.safeload.load_weights` (no pickle code runs).
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.frames import uint8_to_unit
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
    #: The library's checkpoint holds the whole timm backbone (strict load): skip timm's own download.
    backbone_in_checkpoint: bool = False


@dataclass(frozen=True)
class ReferenceSplit:
    """A full-reference model cut at its reference side: ``reference(y) -> features`` runs the
    network on the reference frames only, ``compare(x, features) -> scores`` finishes the model
    on the distorted frames.  ``compare(x, reference(y))`` performs exactly the operations of the
    library's ``model(x, y)`` (same values), so the reference features of a GT frame can be kept
    and reused for every output scored against it (:mod:`mgld_bench.metrics.backends.split`)."""

    reference: Callable[[Any], Any]
    compare: Callable[[Any, Any], Any]


def reference_key(frames: list[np.ndarray]) -> str:
    """A digest of the content of ``frames`` (shape, dtype, bytes): which reference features are held."""
    h = hashlib.blake2b(digest_size=20)
    for f in frames:
        arr = np.ascontiguousarray(f)
        h.update(f"{arr.shape}|{arr.dtype}|".encode())
        h.update(memoryview(arr).cast("B"))
    return h.hexdigest()


#: Version of the stored GT-side feature layout (part of every ``gtfeat`` key).
FEATURE_FORMAT = 2  # 2: features computed channels-last (split.py)


def _flatten(feats: Any) -> tuple[list[Any], Any]:
    """Tensors of a nested list/tuple in order, and the nesting (JSON) to rebuild it."""
    if isinstance(feats, list | tuple):
        leaves: list[Any] = []
        shape = []
        for f in feats:
            sub, sub_shape = _flatten(f)
            leaves.extend(sub)
            shape.append(sub_shape)
        return leaves, {"list" if isinstance(feats, list) else "tuple": shape}
    return [feats], None


def _unflatten(shape: Any, leaves: Iterator[Any]) -> Any:
    if shape is None:
        return next(leaves)
    (kind, items), = shape.items()
    out = [_unflatten(s, leaves) for s in items]
    return out if kind == "list" else tuple(out)


class ReferenceFeatures:
    """GT-side features kept across runs in the content-addressed cache (namespace ``gtfeat``).

    Keyed by the reference batch's content digest, the metric's identity and backend, the device
    kind, torch's version and :data:`FEATURE_FORMAT`; stored as float32 exactly as computed (so
    ``compare`` gives the bit-identical value) and read memory-mapped.  An entry whose checksum
    or size is wrong is deleted and recomputed (``cache.get_arrays``)."""

    NAMESPACE = "gtfeat"

    def __init__(self, cache: Any, identity: Any, backend: str) -> None:
        self.cache = cache
        self.identity = identity
        self.backend = backend
        #: entries read from / written to the cache (tests count them)
        self.hits = 0
        self.writes = 0

    def key(self, reference: str, device: str) -> str:
        import torch

        from mgld_bench.specs import digest

        return digest({"kind": self.NAMESPACE, "format": FEATURE_FORMAT, "metric": self.identity,
                       "backend": self.backend, "device": str(device).split(":")[0],
                       "torch": torch.__version__, "reference": reference})

    def load(self, reference: str, device: str) -> Any | None:
        import torch

        got = self.cache.get_arrays(self.NAMESPACE, self.key(reference, device))
        if got is None:
            return None
        arrays, shape = got
        try:
            feats = _unflatten(shape, iter([torch.from_numpy(a).to(device) for a in arrays]))
        except (StopIteration, ValueError, AttributeError, TypeError):
            return None
        self.hits += 1
        return feats

    def save(self, reference: str, device: str, feats: Any) -> None:
        leaves, shape = _flatten(feats)
        arrays = [t.detach().cpu().numpy() for t in leaves]
        self.cache.put_arrays(self.NAMESPACE, self.key(reference, device), arrays, shape)
        self.writes += 1


class IQAModel:
    """A loaded model: ``score(distorted, reference) -> list[float]``.

    A full-reference model with a :class:`ReferenceSplit` keeps the features of the last
    reference batch (keyed by its content): scoring several outputs against the same GT frame,
    one after the other, runs the network on that GT frame once.  The held features are dropped
    before the next reference's are computed (peak memory as the unsplit model) and by
    :meth:`release`.
    """

    def __init__(self, spec: ModelSpec, device: str, fn: Callable[[Any, Any], Any],
                 split: ReferenceSplit | None = None) -> None:
        self.spec = spec
        self.device = device
        self._fn = fn
        self.split = split
        self._held: tuple[str, Any] | None = None
        #: Reference batches run through the network (tests count them).
        self.reference_runs = 0

    def release(self) -> None:
        """Forget the held reference features."""
        self._held = None

    def score(self, distorted: list[np.ndarray], reference: list[np.ndarray] | None = None,
              keep_reference: bool = True, stored: ReferenceFeatures | None = None) -> list[float]:
        """One value per distorted frame.  ``keep_reference=False``: the reference is used once
        (e.g. tLP's frame pairs), so the model is called whole and the held features stay.
        ``stored``: the reference features are also read from / written to the cache."""
        import torch

        if self.spec.mode == "FR" and reference is None:
            raise BenchError(f"{self.spec.metric} is full-reference and needs reference frames")
        if self.spec.mode == "FR" and reference is not None:
            dshape = [np.shape(f) for f in distorted]
            rshape = [np.shape(f) for f in reference]
            if dshape != rshape:
                raise BenchError(f"{self.spec.metric}: distorted frames {dshape} vs reference {rshape}")
        with torch.inference_mode(), _deterministic(torch):
            if keep_reference and self.split is not None and self.spec.mode == "FR" and reference is not None:
                key = reference_key(reference)
                if self._held is None or self._held[0] != key:
                    self._held = None  # free the last reference's features first
                    feats = stored.load(key, self.device) if stored is not None else None
                    if feats is None:
                        feats = self.split.reference(frames_to_tensor(reference, self.device))
                        self.reference_runs += 1
                        if stored is not None:
                            stored.save(key, self.device, feats)
                    self._held = (key, feats)
                out = self.split.compare(frames_to_tensor(distorted, self.device), self._held[1])
            else:
                x = frames_to_tensor(distorted, self.device)
                y = frames_to_tensor(reference, self.device) if self.spec.mode == "FR" else None
                out = self._fn(x, y)
        values = torch.as_tensor(out).detach().reshape(-1).double().cpu().tolist()
        if len(values) != len(distorted):
            raise BenchError(f"{self.spec.metric}: backend returned {len(values)} values for {len(distorted)} frames")
        return [float(v) for v in values]


def _deterministic(torch: Any) -> Any:
    """cuDNN settings pyiqa's own call uses (deterministic kernels), also for the split path."""
    return torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=True)


#: Upload uint8 frames and convert them on the device: None = on every device but the CPU (a
#: quarter of the bytes cross the bus and no float copy is made in host memory).  Tests set True
#: to run that path on the CPU.
UPLOAD_UINT8: bool | None = None
def frames_to_tensor(frames: list[np.ndarray] | None, device: str) -> Any:
    """uint8 RGB frames -> float32 tensor (N, 3, H, W) in [0, 1] on ``device``.

    On the CPU the frames are converted in place; on another device (CUDA) the uint8 stack is
    uploaded and converted there (:func:`uint8_to_unit`, same values bit for bit)."""
    import torch

    if frames is None:
        return None
    arr = np.stack([np.asarray(f) for f in frames])
    if arr.ndim != 4 or arr.shape[3] != 3:
        raise BenchError(f"expected H x W x 3 RGB frames, got a stack of shape {arr.shape}")
    t = torch.from_numpy(np.ascontiguousarray(arr))
    upload = UPLOAD_UINT8 if UPLOAD_UINT8 is not None else torch.device(device).type != "cpu"
    if arr.dtype == np.uint8 and upload:
        return uint8_to_unit(t.to(device))
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
    "native": "mgld_bench.metrics.backends.native_nets:load_native",
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
    from mgld_bench.safeload import routed_torch_load

    require_weights(list(spec.files), spec.metric)  # also checks each file's sha256 (weight_trust)
    key = (spec.metric, repr(sorted(spec.options.items())), backend, f"{device}|{weights_dir()}")
    if key not in _MODELS:
        prepare_torch_home()
        with routed_torch_load():  # the library's own torch.load calls go through safeload
            _MODELS[key] = loader(spec, device)
    return _MODELS[key]


def clear_models() -> None:
    """Forget every loaded model (tests that swap weight folders)."""
    _MODELS.clear()


def release_references() -> None:
    """Drop the reference features every loaded model holds (end of a clip's scoring)."""
    for model in _MODELS.values():
        model.release()
