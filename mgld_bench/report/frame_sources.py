"""Frames for figures: GT and LR from the dataset, SR outputs from the run's cache.

The result store records, for each (dataset, method, clip), the inference cache key
(``infer_key``) and, in the run provenance, the cache folder (``cache_dir``) and the command line
(``argv``).  The dataset is rebuilt the way the run built it: its spec (``folder:/data/x``),
options and data root are read back from ``provenance["datasets"]``, which ``run`` records,
and can be overridden by the caller.
SR frames are read from the cache, never recomputed: a report never runs a method.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.report.figures import bicubic_upsample
from mgld_bench.report.store_read import query, runs

GT_LABEL = "GT"
INPUT_LABEL = "Input (bicubic)"


@dataclass
class RunInfo:
    """What the store says about how its frames were made."""

    cache_dirs: list[str] = field(default_factory=list)
    #: stored dataset name -> (spec as given to run, --set options, --data-root)
    datasets: dict[str, tuple[str, dict[str, dict[str, Any]], str | None]] = field(default_factory=dict)


def run_info(store_path: Path) -> RunInfo:
    """Cache folders and dataset specs of the store's runs (newest first).

    The default cache folder (``$MGLD_BENCH_CACHE`` or the per-user one) is tried last.
    """
    info = RunInfo()
    for run in reversed(runs(store_path)):
        prov = run["provenance"]
        if prov.get("cache_dir") and prov["cache_dir"] not in info.cache_dirs:
            info.cache_dirs.append(prov["cache_dir"])
        recorded = prov.get("datasets")
        if isinstance(recorded, dict):
            for name, spec in recorded.items():
                if isinstance(spec, dict):
                    spec_text = str(spec.get("spec", name))
                    registered = spec_text.partition(":")[0].strip().lower()
                    info.datasets.setdefault(
                        name, (spec_text, {registered: spec.get("options", {})}, spec.get("root"))
                    )
    from mgld_bench.store.cache import default_cache_dir

    fallback = str(default_cache_dir())
    if fallback not in info.cache_dirs:
        info.cache_dirs.append(fallback)
    return info


def open_dataset(
    name: str, info: RunInfo, data_root: str | None = None, options: dict[str, dict[str, Any]] | None = None
) -> Any:
    """The dataset ``name`` as the run built it; caller's ``data_root``/``options`` win."""
    from mgld_bench.registry import DATASETS
    from mgld_bench.specs import Ref

    spec, run_options, run_root = info.datasets.get(name, (name, {}, None))
    registered = spec.partition(":")[0].strip().lower()
    if registered not in DATASETS:
        raise BenchError(f"dataset {registered!r} of the results is not registered here; install its plugin")
    merged = dict(run_options.get(registered, {}))
    for key in (registered, name.lower(), spec.lower()):
        merged.update((options or {}).get(key, {}))
    return DATASETS.instantiate(Ref.of("dataset", spec, merged), root=data_root or run_root)


def sr_frames(infer_key: str, cache_dirs: Sequence[str], label: str) -> Any:
    """The cached SR frames of ``infer_key`` (searched in each cache folder)."""
    from mgld_bench.store.cache import Cache
    from mgld_bench.store.outputs import load_infer

    for root in cache_dirs:
        if not infer_key or not Path(root).is_dir():
            continue
        hit = load_infer(Cache(root), infer_key, label)
        if hit is not None:
            return hit.frames
    where = ", ".join(cache_dirs) or "(no cache folder recorded)"
    raise BenchError(
        f"the SR frames of {label} are not in the cache ({where}); rerun the same `mgld-bench run` "
        "to recreate them, or pass --cache-dir"
    )


class UpsampledFrames(Sequence[np.ndarray]):
    """LR frames resized to the output size with bicubic interpolation, read lazily.

    ``size`` is the output (H, W), or a callable giving it on first use (reading a GT frame
    only when a frame is wanted); ``identity`` names what fixes that size (the GT's digest, or
    the scale), so :meth:`digest` needs no decoding.
    """

    def __init__(self, lr: Sequence[np.ndarray], size: tuple[int, int] | Any, identity: str | Any = "") -> None:
        self.lr = lr
        self._size = size
        self.identity = identity

    @property
    def size(self) -> tuple[int, int]:
        if callable(self._size):
            self._size = tuple(self._size())
        return self._size

    def __len__(self) -> int:
        return len(self.lr)

    def __getitem__(self, index: int) -> np.ndarray:  # type: ignore[override]
        return bicubic_upsample(self.lr[index], self.size)

    def digest(self) -> str:
        """A content digest: the LR frames' digest, the resize and what fixes the output size."""
        import hashlib

        lr = self.lr.digest() if hasattr(self.lr, "digest") else repr(len(self.lr))
        size = (self.identity() if callable(self.identity) else self.identity) or repr(self.size)
        return hashlib.sha256(f"bicubic-upsampled-v1:{lr}:{size}".encode()).hexdigest()


def clip_sources(
    store_path: Path,
    dataset: str,
    clip: str,
    methods: Sequence[str] | None = None,
    cache_dir: Path | None = None,
    data_root: str | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    with_input: bool = True,
    reference: str | None = None,
) -> list[tuple[str, Sequence[np.ndarray]]]:
    """(label, frames) for GT (if any), the bicubic-upsampled input and each method on one clip.

    ``reference``: a method shown first that stands in for the input panel (e.g. a ``bicubic``
    method, whose output is that same image); without it methods come alphabetically.
    """
    info = run_info(store_path)
    if cache_dir is not None:
        info.cache_dirs.insert(0, str(cache_dir))
    keys = query(
        store_path,
        "SELECT DISTINCT method, infer_key FROM clip_scores WHERE dataset = ? AND clip = ?",
        (dataset, clip),
    )
    if keys.empty:
        raise BenchError(f"the results hold no clip {dataset}/{clip}")
    by_method = dict(zip(keys["method"], keys["infer_key"], strict=True))
    wanted = list(methods) if methods else sorted(by_method, key=lambda n: (n != reference, n))
    unknown = [m for m in wanted if m not in by_method]
    if unknown:
        raise BenchError(
            f"no results for method(s) {', '.join(unknown)} on {dataset}/{clip}; "
            f"available: {', '.join(sorted(by_method))}"
        )
    ds = open_dataset(dataset, info, data_root, options)
    clip_obj = ds.clip(clip)
    sources: list[tuple[str, Sequence[np.ndarray]]] = []
    if clip_obj.gt is not None:
        sources.append((GT_LABEL, clip_obj.gt))
    if with_input and (reference is None or reference not in wanted):
        gt = clip_obj.gt
        fixed_by = (lambda: f"gt:{gt.digest()}") if gt is not None else f"scale:{clip_obj.scale}"
        sources.append((INPUT_LABEL, UpsampledFrames(clip_obj.lr, clip_obj.expected_sr_size, fixed_by)))
    for method in wanted:
        sources.append((method, sr_frames(by_method[method], info.cache_dirs, f"{method} on {dataset}/{clip}")))
    return sources
