"""Preparing a run of the official MGLD-VSR tile script without touching the user's checkout.

Everything is built in a scratch folder:

* the **working folder** the script runs in mirrors the checkout (one symlink per top-level
  entry) plus ``configs/video_autoencoder/video_autoencoder_kl_64x64x4_resi.yaml``, the path
  the script hard-codes but the repository does not ship (it ships ``configs/video_vae/``);
* a **patched copy of the script** whose non-tiled branch (taken when the padded frame is at
  most ``vqgantile_size`` on both sides) defines the flow and occlusion tensors it uses, instead
  of failing with a NameError, and re-seeds like the tiled branch does;
* **configs with checkpoint paths** replaced by the files the user named (the released configs
  hold the authors' absolute paths);
* the **input frames**, one folder per sequence, padded by the suite to a multiple of the chunk
  length with *distinct* file names, so the script's own padding (which repeats the last file
  name and overwrites the last real frame's output) never happens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError
from mgld_bench.frames import write_image

#: The VAE config path the tile script opens, relative to its working folder.
HARDCODED_VAE_CONFIG = Path("configs/video_autoencoder/video_autoencoder_kl_64x64x4_resi.yaml")
#: Bumped whenever the patch below changes (it is part of the cache key).
PATCH_VERSION = 1

_TILED_ENCODE = re.compile(
    r"^(?P<indent>[ \t]*)init_latent = model\.get_first_stage_encoding\(model\.encode_first_stage\(im_lq_bs\)\)[ \t]*$",
    re.M,
)
_FLOW_REARRANGE = re.compile(r"^(?P<indent>[ \t]*)flow_f = rearrange\(flow_f,", re.M)


@dataclass
class PatchReport:
    """Which fixes were applied to the copy of the script."""

    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def patch_tile_script(source: str) -> tuple[str, PatchReport]:
    """Return the script text with the non-tiled branch fixed, and what was done.

    The non-tiled branch (``else:`` after ``if im_lq_bs.shape[2] > opt.vqgantile_size ...``)
    uses ``flow_f``, ``flow_b``, ``fwd_occ`` and ``bwd_occ``, which only the tiled branch
    defines.  The fix binds them to the whole-frame tensors (``flows[0]``, ``flows[1]``,
    ``fwd_occs``, ``bwd_occs``, the same tensors the tiled branch cuts into tiles) right before
    their first use, and calls ``seed_everything(opt.seed)`` before the branch encodes the LR,
    as the tiled branch does before every tile, so every chunk starts from the same seed.
    """
    report = PatchReport()
    encode = list(_TILED_ENCODE.finditer(source))
    flows = list(_FLOW_REARRANGE.finditer(source))
    if len(encode) != 1 or len(flows) < 2 or flows[-1].start() < encode[0].start():
        report.skipped.append(
            "non-tiled branch fix: the script does not have the expected lines (a different version?); "
            "inputs whose padded size is at most vqgantile_size on both sides may fail"
        )
        return source, report
    last = flows[-1]
    indent = last.group("indent")
    bind = f"{indent}flow_f, flow_b, fwd_occ, bwd_occ = flows[0], flows[1], fwd_occs, bwd_occs  # mgld-bench fix\n"
    source = source[: last.start()] + bind + source[last.start() :]
    enc = encode[0]
    seed = f"{enc.group('indent')}seed_everything(opt.seed)  # mgld-bench fix: re-seed as the tiled branch does\n"
    source = source[: enc.start()] + seed + source[enc.start() :]
    report.applied.append("non-tiled branch: bind flow_f/flow_b/fwd_occ/bwd_occ to the whole-frame tensors")
    report.applied.append("non-tiled branch: seed_everything(opt.seed) before encoding, as in the tiled branch")
    return source, report


def mirror_checkout(repo: Path, workdir: Path, vae_config: Path) -> Path:
    """A working folder that looks like the checkout, plus the hard-coded VAE config path.

    Top-level entries are symlinks (relative paths inside configs keep working); ``configs`` is
    a real folder of symlinks so that ``configs/video_autoencoder/`` can be added to it.
    """
    cwd = workdir / "checkout"
    cwd.mkdir(parents=True, exist_ok=True)
    for entry in repo.iterdir():
        if entry.name in ("configs", ".git"):
            continue
        (cwd / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
    configs = cwd / "configs"
    configs.mkdir(exist_ok=True)
    if (repo / "configs").is_dir():
        for entry in (repo / "configs").iterdir():
            (configs / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
    target = cwd / HARDCODED_VAE_CONFIG
    if target.parent.is_symlink():  # a future checkout that ships the folder: leave it as it is
        return cwd
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.symlink_to(vae_config.resolve())
    return cwd


#: Known checkpoint file names inside the configs -> the adapter option that replaces them.
CONFIG_FILES = {
    "v2-1_512-ema-pruned.ckpt": "sd_ckpt",
    "raft-things.pth": "raft_ckpt",
    "spynet_sintel_final-3d2a1287.pth": "spynet_ckpt",
    "open_clip_pytorch_model.bin": "openclip_ckpt",
}


def rewrite_config(config: dict[str, Any], files: dict[str, Path]) -> tuple[dict[str, Any], list[str]]:
    """Replace every string value whose file name is a key of ``files`` by that file's path.

    With an ``open_clip_pytorch_model.bin`` given, the OpenCLIP embedder's ``version`` (commented
    out in the released config, so OpenCLIP would download) is set to it.
    Returns the new config and a list of "key: old -> new" lines.
    """
    changes: list[str] = []

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            out = {k: walk(v, f"{path}.{k}" if path else str(k)) for k, v in node.items()}
            target = str(out.get("target", ""))
            if target.endswith("FrozenOpenCLIPEmbedder") and "open_clip_pytorch_model.bin" in files:
                params = dict(out.get("params") or {})
                new = str(files["open_clip_pytorch_model.bin"])
                if params.get("version") != new:
                    changes.append(f"{path}.params.version: {params.get('version')} -> {new}")
                    params["version"] = new
                out["params"] = params
            return out
        if isinstance(node, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, str) and Path(node).name in files and not node.startswith("{"):
            new = str(files[Path(node).name])
            if new != node:
                changes.append(f"{path}: {node} -> {new}")
            return new
        return node

    return walk(config, ""), changes


def drop_training_loss(config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Replace the VAE config's ``model.params.lossconfig`` by ``torch.nn.Identity``.

    The temporal VAE builds its training loss at construction (taming's LPIPS, which downloads
    VGG16 weights, a discriminator and SpyNet); inference never calls it, and the checkpoint is
    loaded with ``strict=False``, so replacing it changes nothing but what must be on disk.
    """
    params = (config.get("model") or {}).get("params") if isinstance(config, dict) else None
    if not isinstance(params, dict) or "lossconfig" not in params:
        return config, []
    old = (params.get("lossconfig") or {}).get("target")
    if old == "torch.nn.Identity":
        return config, []
    params["lossconfig"] = {"target": "torch.nn.Identity"}
    return config, [f"model.params.lossconfig: {old} -> torch.nn.Identity (training loss, unused at inference)"]


def write_config(src: Path, dst: Path, files: dict[str, Path], drop_loss: bool = False) -> list[str]:
    """Copy the YAML config ``src`` to ``dst`` with checkpoint paths rewritten (and, with
    ``drop_loss``, the training loss replaced); return the changes."""
    import yaml

    try:
        config = yaml.safe_load(src.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise BenchError(f"cannot read the MGLD config {src}: {exc}") from exc
    new, changes = rewrite_config(config, files)
    if drop_loss:
        new, more = drop_training_loss(new)
        changes += more
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(yaml.safe_dump(new, sort_keys=False))
    return changes


def stage_sequence(frames: list[np.ndarray], folder: Path, chunk: int) -> list[str]:
    """Write ``frames`` as ``00000000.png``... into ``folder``, padded with copies of the last frame
    (under new names) to a multiple of ``chunk``; return the names of the real frames' outputs."""
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    total = len(frames) + (-len(frames)) % chunk
    for i in range(total):
        name = f"{i:08d}"
        write_image(folder / f"{name}.png", frames[min(i, len(frames) - 1)])
        if i < len(frames):
            names.append(name)
    return names
