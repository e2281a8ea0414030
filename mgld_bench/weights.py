"""Weight files: what every method and metric loads, where it must lie, and how to get it.

The weights folder has the layout torch uses for ``$TORCH_HOME`` so that torchvision and pyiqa
find their files without a download: ``hub/checkpoints/`` for torchvision backbones,
``hub/pyiqa/`` for pyiqa's files and ``mgld_bench/`` for the suite's own adapters.  It is
``--weights-dir``, else ``$MGLD_BENCH_WEIGHTS``, else ``$TORCH_HOME``, else ``~/.cache/torch``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Sub-folders of the weights folder, by the consumer that reads them.
LOCATIONS = {
    "torchvision": Path("hub") / "checkpoints",
    "pyiqa": Path("hub") / "pyiqa",
    "mgld_bench": Path("mgld_bench"),
}


@dataclass(frozen=True)
class WeightFile:
    """One weight file, known by name, origin and expected content."""

    name: str
    url: str | None
    location: str = "mgld_bench"
    sha256: str | None = None
    size: int | None = None
    used_by: tuple[str, ...] = ()
    note: str = ""

    def path(self, root: Path | None = None) -> Path:
        return (root or weights_dir()) / LOCATIONS[self.location] / self.name


_REGISTRY: dict[str, WeightFile] = {}


def register_weight(wf: WeightFile) -> WeightFile:
    """Declare a weight file; the same name declared twice merges ``used_by``."""
    old = _REGISTRY.get(wf.name)
    if old is not None:
        used = tuple(dict.fromkeys(old.used_by + wf.used_by))
        wf = WeightFile(
            wf.name, wf.url or old.url, wf.location, wf.sha256 or old.sha256, wf.size or old.size,
            used, wf.note or old.note,
        )
    _REGISTRY[wf.name] = wf
    return wf


def known_weights() -> dict[str, WeightFile]:
    """Every declared weight file, by name."""
    return dict(sorted(_REGISTRY.items()))


def weights_dir() -> Path:
    """The folder weights are read from (see the module docstring for the search order)."""
    for var in ("MGLD_BENCH_WEIGHTS", "TORCH_HOME"):
        value = os.environ.get(var)
        if value:
            return Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "torch"


def set_weights_dir(path: Path) -> None:
    """Point every consumer (torch hub, torchvision, pyiqa) at ``path``.

    Must run before torch or pyiqa is imported, since pyiqa fixes its folder at import time.
    """
    path = Path(path).expanduser().resolve()
    os.environ["MGLD_BENCH_WEIGHTS"] = str(path)
    os.environ["TORCH_HOME"] = str(path)


def missing_weights(files: list[WeightFile]) -> list[str]:
    """One message per file in ``files`` that is not on disk."""
    out = []
    for wf in files:
        p = wf.path()
        if not p.is_file():
            url = f" from {wf.url}" if wf.url else ""
            out.append(
                f"weight file {wf.name} missing at {p}: run `mgld-bench weights fetch {wf.name}`{url}"
            )
    return out
