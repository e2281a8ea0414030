"""Reading RealBasicVSR checkpoints: official wrapper files, bare state dicts, clear errors.

The official ``RealBasicVSR_x4.pth`` is an mmediting checkpoint of the whole training wrapper:
``{"state_dict": {"generator.<key>": ..., "generator_ema.<key>": ..., "discriminator.<key>": ...,
...}, "meta": ...}``.  At test time the wrapper runs ``generator_ema`` when it exists, so that is
the branch taken here by default; ``generator`` otherwise; a mapping with neither prefix is taken
as a bare network.  Every other entry (discriminator, perceptual loss, ``step_counter``) is
ignored, and the selected branch is loaded strictly into :class:`RealBasicVSRNet`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mgld_bench.errors import BenchError

log = logging.getLogger(__name__)

#: Branch prefixes in preference order for ``branch="auto"``.
BRANCHES = {"ema": "generator_ema.", "generator": "generator."}
#: Containers a checkpoint may nest its weights in (checked in order).
CONTAINERS = ("state_dict", "params_ema", "params", "model")
#: How many mismatched keys an error names.
SHOWN_KEYS = 5


class CheckpointError(BenchError):
    """A checkpoint that cannot be read, or that does not hold a RealBasicVSRNet."""


@dataclass(frozen=True)
class SelectedWeights:
    """The network weights picked out of a checkpoint, and where they came from."""

    state_dict: dict[str, torch.Tensor]
    branch: str  # "ema", "generator" or "bare"
    prefix: str
    ignored: int  # entries of the checkpoint not used (discriminator, loss, other branch)

    def describe(self) -> str:
        what = {
            "ema": "the EMA generator (test-time weights)",
            "generator": "the plain generator",
            "bare": "a bare network",
        }
        src = f" (keys {self.prefix}*)" if self.prefix else ""
        return f"{what[self.branch]}{src}; {len(self.state_dict)} entries used, {self.ignored} ignored"


def read_checkpoint(path: Path, allow_pickle: bool = False) -> Any:
    """The checkpoint read through :func:`mgld_bench.safeload.load_weights` (no pickle code runs
    unless ``allow_pickle`` or ``--allow-pickle PATH``); clear errors naming the file."""
    from mgld_bench.safeload import UnsafeWeightsError, load_weights

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        return load_weights(path, allow_pickle=allow_pickle)
    except UnsafeWeightsError as exc:
        raise CheckpointError(f"{exc} (or set realbasicvsr.allow_pickle=true)") from None
    except BenchError as exc:
        raise CheckpointError(
            f"cannot read checkpoint {path}: the file is corrupt or truncated, or not a PyTorch checkpoint; download "
            f"it again and check its sha256 ({exc})"
        ) from None


def unwrap(obj: Any, path: Path) -> Mapping[str, Any]:
    """The flat key -> tensor mapping inside a loaded checkpoint."""
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"checkpoint {path} holds a {type(obj).__name__}, not a state dict")
    for name in CONTAINERS:
        inner = obj.get(name)
        if isinstance(inner, Mapping) and inner:
            return inner
    return obj


def select_branch(sd: Mapping[str, Any], branch: str = "auto", path: Path | None = None) -> SelectedWeights:
    """Pick the network weights out of a (wrapper) state dict.

    ``branch`` is ``auto`` (EMA, else generator, else bare), ``ema`` or ``generator``.
    A ``module.`` prefix (DataParallel) is removed first.
    """
    flat = {(k[7:] if k.startswith("module.") else k): v for k, v in sd.items()}
    if branch not in ("auto", *BRANCHES):
        raise CheckpointError(f"realbasicvsr: unknown branch {branch!r}; use auto, ema or generator")
    order = list(BRANCHES) if branch == "auto" else [branch]
    for name in order:
        prefix = BRANCHES[name]
        picked = {k[len(prefix) :]: v for k, v in flat.items() if k.startswith(prefix)}
        if picked:
            return SelectedWeights(_tensors(picked, path), name, prefix, len(flat) - len(picked))
    if branch != "auto":
        found = ", ".join(sorted({k.split(".")[0] for k in flat})[:SHOWN_KEYS])
        raise CheckpointError(
            f"checkpoint {path or ''} has no {BRANCHES[branch]}* entries (top-level names: {found}); "
            "use realbasicvsr.branch=auto"
        )
    return SelectedWeights(_tensors(flat, path), "bare", "", 0)


def _tensors(sd: Mapping[str, Any], path: Path | None) -> dict[str, torch.Tensor]:
    bad = [k for k, v in sd.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(
            f"checkpoint {path or ''}: entries {', '.join(bad[:SHOWN_KEYS])} are not tensors; not a network state dict"
        )
    return dict(sd)


def mismatch_report(model: torch.nn.Module, sd: Mapping[str, torch.Tensor]) -> str:
    """'' when ``sd`` fits ``model`` exactly; else a sentence naming the first mismatched keys."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    wrong = [
        f"{k} {tuple(sd[k].shape)} != {tuple(v.shape)}"
        for k, v in expected.items()
        if k in sd and tuple(sd[k].shape) != tuple(v.shape)
    ]
    parts = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape (file != model)", wrong)):
        if keys:
            more = f" (+{len(keys) - SHOWN_KEYS} more)" if len(keys) > SHOWN_KEYS else ""
            parts.append(f"{len(keys)} {label}: {', '.join(keys[:SHOWN_KEYS])}{more}")
    return "; ".join(parts)


def load_into(model: torch.nn.Module, selected: SelectedWeights, path: Path | None = None) -> None:
    """Strict load; a mismatch raises naming the first missing/unexpected/wrong-shape keys."""
    report = mismatch_report(model, selected.state_dict)
    if report:
        raise CheckpointError(
            f"checkpoint {path or ''} ({selected.describe()}) does not match RealBasicVSRNet "
            f"({len(model.state_dict())} entries): {report}. Is it a RealBasicVSR checkpoint "
            "(not BasicSR's BasicVSR or another architecture)?"
        )
    model.load_state_dict(selected.state_dict, strict=True)


def load_realbasicvsr(
    path: Path, branch: str = "auto", allow_pickle: bool = False, **net_options: Any
) -> tuple[torch.nn.Module, SelectedWeights]:
    """Build a :class:`RealBasicVSRNet` and load ``path`` into it strictly; return it and the branch used."""
    from baselines.realbasicvsr.arch import RealBasicVSRNet

    path = Path(path)
    selected = select_branch(unwrap(read_checkpoint(path, allow_pickle), path), branch, path)
    model = RealBasicVSRNet(**net_options)
    load_into(model, selected, path)
    log.info("realbasicvsr: loaded %s from %s", selected.describe(), path)
    return model.eval(), selected
