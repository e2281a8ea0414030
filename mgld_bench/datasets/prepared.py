"""Where prepared (synthesised) LR sets live and how their manifest is read.

``mgld-bench data prepare NAME --root ROOT --seed N --degradation D`` writes
``ROOT/prepared/NAME/D-vV-seedN/`` with one folder per clip and a ``manifest.json`` written last
(the folder is renamed into place only when complete).  The manifest records the seed, the
degradation name and version, the library versions and the sha256 of every frame.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError

PREPARED_MANIFEST = "manifest.json"


def prepared_dir(root: Path, dataset: str, degradation: str, seed: int) -> Path:
    """The folder of the LR set made from ``dataset`` with ``degradation`` and ``seed``."""
    from mgld_bench.degrade.pipeline import get_degradation

    version = get_degradation(degradation).version
    return root / "prepared" / dataset / f"{degradation}-v{version}-seed{seed}"


def read_prepared_manifest(folder: Path, dataset: str, root: Path, seed: int, degradation: str) -> dict[str, Any]:
    """The manifest of a complete prepared set; raise saying how to make it when absent."""
    path = folder / PREPARED_MANIFEST
    if not path.is_file():
        raise BenchError(
            f"{dataset}: the synthetic LR set ({degradation} degradation, seed {seed}) is not prepared: "
            f"{path} does not exist. Run `mgld-bench data prepare {dataset} --root {root} --seed {seed} "
            f"--degradation {degradation}` first"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BenchError(f"{dataset}: prepared-set manifest {path} is unreadable ({exc}); run prepare again") from None
    if not isinstance(data, dict) or "clips" not in data:
        raise BenchError(f"{dataset}: prepared-set manifest {path} is malformed; run prepare again")
    return data
