"""pyiqa (IQA-PyTorch) as a backend.  Licence: PolyForm Noncommercial since 2026 -- see docs/metrics.md.

Every pyiqa model is built inside :func:`guarded_loading`, which keeps pyiqa to the suite's rules:

* **no download**: pyiqa's ``load_file_from_url``, torch hub's ``download_url_to_file`` and the
  CLIP loader's ``_download`` only return files already in the weights folder; a missing file
  raises :class:`~mgld_bench.errors.WeightsMissingError` naming the file, its URL and where it
  must lie (pyiqa files in ``hub/pyiqa``, torchvision backbones in ``hub/checkpoints``, CLIP in
  ``hub/clip``);
* **no pickle**: ``torch.load`` is routed through :func:`mgld_bench.safeload.load_weights`
  (``weights_only=True`` / safetensors), although pyiqa itself asks for ``weights_only=False``;
* a model whose pyiqa checkpoint holds its whole timm backbone (``backbone_in_checkpoint``, e.g.
  MANIQA, loaded with ``strict=True``) builds the backbone without timm's ImageNet download.

:func:`pyiqa_info` reads pyiqa's model table without importing pyiqa (nor torch).
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.util
import io
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mgld_bench.errors import BenchError, UnknownNameError, WeightsMissingError
from mgld_bench.metrics.backends.base import IQAModel, ModelSpec


@dataclass(frozen=True)
class PyiqaInfo:
    """What pyiqa's model table says about one metric."""

    name: str
    mode: str
    lower_better: bool
    score_range: str
    arch: str
    options: dict[str, Any]


def _pyiqa_dir() -> Path:
    spec = importlib.util.find_spec("pyiqa")
    if spec is None or not spec.submodule_search_locations:
        raise BenchError("pyiqa is not installed: pip install pyiqa (PolyForm Noncommercial licence)")
    return Path(next(iter(spec.submodule_search_locations)))


@lru_cache(maxsize=1)
def pyiqa_configs() -> dict[str, Any]:
    """pyiqa's ``DEFAULT_CONFIGS`` (read from its source file; pyiqa and torch are not imported)."""
    path = _pyiqa_dir() / "default_model_configs.py"
    spec = importlib.util.spec_from_file_location("_mgld_pyiqa_configs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.DEFAULT_CONFIGS)


def pyiqa_info(name: str) -> PyiqaInfo:
    """The table entry for ``name`` (case-insensitive); unknown names list close matches."""
    configs = pyiqa_configs()
    by_lower = {k.lower(): k for k in configs}
    key = by_lower.get(name.strip().lower())
    if key is None:
        close = difflib.get_close_matches(name.lower(), list(by_lower), n=4)
        hint = f" Did you mean {', '.join(by_lower[c] for c in close)}?" if close else ""
        raise UnknownNameError(f"pyiqa has no metric {name!r}.{hint} List them with `pyiqa -ls`.")
    cfg = configs[key]
    opts = dict(cfg.get("metric_opts", {}))
    return PyiqaInfo(key, str(cfg.get("metric_mode", "NR")), bool(cfg.get("lower_better", False)),
                     str(cfg.get("score_range", "")), str(opts.get("type", "")), opts)


@lru_cache(maxsize=256)
def pyiqa_model_files(name: str) -> tuple[str, ...]:
    """File names pyiqa downloads for ``name``'s own weights, found in its arch source (torch-free).

    The arch's ``default_model_urls`` entry is matched against the string options of the table
    entry (``pretrained='koniq10k'``, ``train_dataset='koniq'``, ``model_type=...``); backbones
    (torchvision, timm, CLIP) are not found this way -- they are reported when the model is built.
    """
    info = pyiqa_info(name)
    values = {str(v) for v in info.options.values() if isinstance(v, str)} | {info.name}
    for src in sorted((_pyiqa_dir() / "archs").glob("*.py")):
        text = src.read_text(encoding="utf-8", errors="replace")
        if not re.search(rf"^class {re.escape(info.arch)}\(", text, re.M):
            continue
        urls = dict(re.findall(r"['\"]([^'\"]+)['\"]\s*:\s*get_url_from_name\(\s*['\"]([^'\"]+)['\"]", text))
        return tuple(sorted({urls[k] for k in urls if k in values}))
    return ()


def _missing(url: str, path: Path, user: str) -> WeightsMissingError:
    from mgld_bench.weights import known_weights

    name = os.path.basename(urlparse(url).path)
    if name not in known_weights():  # not declared: `weights fetch` takes the URL itself
        name = url
    return WeightsMissingError(name, url, str(path), user)


@contextlib.contextmanager
def guarded_loading(user: str, backbone_in_checkpoint: bool = False) -> Iterator[None]:
    """Build pyiqa models with local files only and weights read without pickle (see module docstring)."""
    import torch
    import torch.hub

    from mgld_bench.extras import import_extra

    import_extra("pyiqa", used_by=user)  # its modules must exist before they are patched
    download_util = import_extra("pyiqa.utils.download_util", used_by=user)

    from mgld_bench.safeload import load_weights
    from mgld_bench.weights import LOCATIONS, weights_dir

    root = weights_dir()
    real_download = torch.hub.download_url_to_file
    real_from_url = download_util.load_file_from_url
    # the unpatched torch.load, also when an outer guard (safeload's routing) already replaced it
    real_load = getattr(torch.load, "_mgld_original", torch.load)

    def safe_load(f: Any, map_location: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(f, str | os.PathLike):
            current, torch.load = torch.load, real_load  # safeload calls torch.load itself
            try:
                return load_weights(f, map_location=map_location if map_location is not None else "cpu")
            finally:
                torch.load = current
        kwargs.pop("pickle_module", None)
        kwargs["weights_only"] = True  # file objects: never plain pickle
        return real_load(f, map_location, *args, **kwargs)

    safe_load._mgld_original = real_load  # type: ignore[attr-defined]

    def no_download(url: str, dst: str, *args: Any, **kwargs: Any) -> None:
        raise _missing(url, Path(dst), user)

    def local_file(url: str, model_dir: Any = None, progress: bool = True, file_name: Any = None) -> str:
        path = root / LOCATIONS["pyiqa"] / (file_name or os.path.basename(urlparse(url).path))
        if not path.is_file():
            raise _missing(url, path, user)
        return str(path)

    def clip_file(url: str, root_dir: Any = None) -> str:
        path = root / LOCATIONS["clip"] / os.path.basename(urlparse(url).path)
        if not path.is_file():
            raise _missing(url, path, user)
        return str(path)

    patched: list[tuple[Any, str, Any]] = []

    def patch(obj: Any, attr: str, value: Any) -> None:
        patched.append((obj, attr, getattr(obj, attr)))
        setattr(obj, attr, value)

    for mod_name, mod in list(sys.modules.items()):
        if mod is None or not mod_name.startswith(("pyiqa", "torchvision", "torch.hub", "timm")):
            continue
        for attr, value in list(vars(mod).items()):
            if value is real_download:
                patch(mod, attr, no_download)
            elif value is real_from_url:
                patch(mod, attr, local_file)
    clip_mod = sys.modules.get("pyiqa.archs.clip_model")
    if clip_mod is not None and hasattr(clip_mod, "_download"):
        patch(clip_mod, "_download", clip_file)
    if backbone_in_checkpoint:
        import timm

        real_create = timm.create_model

        def create_without_download(*args: Any, **kwargs: Any) -> Any:
            kwargs["pretrained"] = False
            return real_create(*args, **kwargs)

        for mod_name, mod in list(sys.modules.items()):
            if mod_name.startswith(("pyiqa", "timm")) and getattr(mod, "create_model", None) is real_create:
                patch(mod, "create_model", create_without_download)
    patch(torch, "load", safe_load)
    try:
        yield
    finally:
        for obj, attr, value in reversed(patched):
            setattr(obj, attr, value)


def load_pyiqa(spec: ModelSpec, device: str) -> IQAModel:
    from mgld_bench.extras import import_extra

    pyiqa = import_extra("pyiqa", spec.metric)

    kwargs = dict(spec.options)
    if spec.model_file is not None:
        kwargs["pretrained_model_path"] = str(spec.model_file.path())
    with guarded_loading(spec.metric, spec.backbone_in_checkpoint), contextlib.redirect_stdout(io.StringIO()):
        metric = pyiqa.create_metric(spec.pyiqa_name, device=device, **kwargs)  # pyiqa prints "Loading ..."
    if bool(metric.lower_better) != spec.lower_better or metric.metric_mode != spec.mode:
        raise BenchError(
            f"{spec.metric}: pyiqa {pyiqa.__version__} reports {spec.pyiqa_name} as "
            f"{metric.metric_mode}/lower_better={metric.lower_better}, expected {spec.mode}/{spec.lower_better}"
        )

    def call(x, y):  # pyiqa: distorted first, reference second
        return metric(x, y) if spec.mode == "FR" else metric(x)

    from mgld_bench.metrics.backends.split import pyiqa_split

    return IQAModel(spec, device, call, pyiqa_split(metric.net) if spec.mode == "FR" else None)

