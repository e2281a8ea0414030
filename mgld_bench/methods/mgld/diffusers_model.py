"""Finding, identifying and loading a diffusers model folder (local, or in the Hugging Face cache).

Nothing here downloads unless the caller allows it: availability checks look only at the local
folder or at ``huggingface_hub``'s cache, and say how to get a missing model.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError

#: Sub-folders every ``StableDiffusionUpscalePipeline`` folder holds.
UPSCALER_PARTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler", "low_res_scheduler")


def local_model_folder(model: str) -> Path | None:
    """The folder holding ``model`` on this machine (a path, or a hub id already cached), or None."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if path.is_absolute() or model.startswith((".", "~")) or model.count("/") != 1:
        return None
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - a dependency of diffusers
        return None
    try:
        return Path(snapshot_download(model, local_files_only=True, cache_dir=hub_cache_dir()))
    except Exception:  # not in the cache (LocalEntryNotFoundError and friends)
        return None


def hub_cache_dir() -> str | None:
    """The Hugging Face hub cache named by the environment now (``HF_HUB_CACHE``, else
    ``HF_HOME/hub``), or None for huggingface_hub's own default."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return str(Path(os.environ["HF_HOME"]) / "hub")
    return None


def missing_parts(folder: Path, parts: tuple[str, ...] = UPSCALER_PARTS) -> list[str]:
    """What a pipeline folder lacks (``model_index.json`` and the component sub-folders)."""
    missing = [] if (folder / "model_index.json").is_file() else ["model_index.json"]
    return missing + [p + "/" for p in parts if not (folder / p).is_dir()]


def model_availability(model: str, parts: tuple[str, ...] = UPSCALER_PARTS) -> tuple[bool, str]:
    """(True, "") when ``model`` is complete on disk; else (False, what is missing and how to get it)."""
    folder = local_model_folder(model)
    if folder is None:
        if Path(model).expanduser().is_absolute() or model.startswith((".", "~")):
            return False, f"diffusers model folder {model} does not exist"
        cache = hub_cache_dir() or "~/.cache/huggingface/hub"
        return False, (
            f"diffusers model {model!r} is not in the Hugging Face cache ({cache}); on a connected machine run "
            f"`huggingface-cli download {model}` (then copy the cache here), or point the option `model` at a "
            "local folder saved with save_pretrained"
        )
    missing = missing_parts(folder, parts)
    if missing:
        return False, f"diffusers model folder {folder} is incomplete: missing {', '.join(missing)}"
    return True, ""


def folder_digest(folder: Path) -> str:
    """A content digest of a model folder.

    Files in the Hugging Face cache are symlinks to blobs named by their content hash (sha256 for
    large files), so their names are used as they are; other files are hashed (memoised).
    """
    from mgld_bench.store.filehash import file_sha256

    h = hashlib.sha256(b"diffusers-folder-v1")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        target = path.resolve()
        if path.is_symlink() and target.parent.name == "blobs":
            content = target.name
        else:
            content = file_sha256(target)
        h.update(f"{rel}\0{content}\n".encode())
    return h.hexdigest()


def load_upscale_pipeline(model: str, device: str, fp16: bool, allow_download: bool = False) -> Any:
    """Load a ``StableDiffusionUpscalePipeline`` from ``model`` onto ``device``.

    fp16 weights are used only on CUDA; the VAE then decodes in float32 when its config asks
    for it (diffusers' ``force_upcast``).  Without ``allow_download`` nothing is fetched.
    """
    import torch
    from diffusers import StableDiffusionUpscalePipeline

    folder = local_model_folder(model)
    if folder is None and not allow_download:
        raise BenchError(model_availability(model)[1])
    dtype = torch.float16 if fp16 and str(device).startswith("cuda") else torch.float32
    source = str(folder) if folder is not None else model
    from mgld_bench.safeload import routed_torch_load

    try:
        with _quiet_loading(), routed_torch_load():  # .bin files go through safeload too
            pipe = StableDiffusionUpscalePipeline.from_pretrained(
                source, torch_dtype=dtype, local_files_only=not allow_download
            )
    except (OSError, ValueError) as exc:
        raise BenchError(f"cannot load the diffusers upscaler from {source}: {exc}") from exc
    pipe = pipe.to(device)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@contextlib.contextmanager
def _quiet_loading() -> Iterator[None]:
    """No per-component progress bars and no deprecation chatter while a pipeline loads."""
    import warnings

    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        diffusers_logging.enable_progress_bar()
        transformers_logging.enable_progress_bar()
