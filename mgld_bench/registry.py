"""Name -> implementation registries for datasets, methods and metrics.

Each registry maps a lowercase name to a lazy ``"module:attr"`` target.  Built-ins are
registered in :mod:`mgld_bench.builtins`; everything else (``baselines/`` included) arrives
through the entry-point groups ``mgld_bench.datasets``, ``mgld_bench.methods`` and
``mgld_bench.metrics``, read once on first lookup.  A duplicate name is an error naming both
origins, so a plugin can never silently shadow a built-in.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from mgld_bench.errors import BenchError, UnknownNameError


@dataclass(frozen=True)
class Entry:
    """One registered name: where its implementation lives and who registered it."""

    name: str
    target: str
    origin: str

    def load(self) -> Any:
        """Import and return the registered object (a class or factory)."""
        module_name, _, attr = self.target.partition(":")
        try:
            module = importlib.import_module(module_name)
            obj: Any = module
            for part in attr.split(".") if attr else []:
                obj = getattr(obj, part)
        except Exception as exc:  # an import error inside a plugin must name the plugin
            raise BenchError(
                f"{self.name!r} (registered by {self.origin} as {self.target}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return obj


class Registry:
    """A typed name registry with entry-point discovery and close-match errors."""

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._entries: dict[str, Entry] = {}
        self._discovered = False

    def register(self, name: str, target: str, origin: str = "mgld_bench") -> None:
        """Register ``name`` -> ``"module:attr"``; duplicate names raise naming both origins."""
        key = name.lower()
        if key in self._entries:
            old = self._entries[key]
            if old.target == target:
                return
            raise BenchError(
                f"{self.kind} {name!r} is registered twice: by {old.origin} ({old.target}) and by "
                f"{origin} ({target}); rename one of them"
            )
        self._entries[key] = Entry(key, target, origin)

    def _discover(self) -> None:
        if self._discovered:
            return
        self._discovered = True
        for ep in metadata.entry_points(group=self.group):
            dist = getattr(ep, "dist", None)
            origin = f"entry point of {dist.name}" if dist is not None else "entry point"
            self.register(ep.name, ep.value, origin=origin)

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self._discover()
        return sorted(self._entries)

    def entries(self) -> Iterator[Entry]:
        """All entries, sorted by name."""
        for name in self.names():
            yield self._entries[name]

    def __contains__(self, name: object) -> bool:
        self._discover()
        return isinstance(name, str) and name.lower() in self._entries

    def get(self, name: str) -> Entry:
        """Return the entry for ``name`` or raise listing the valid names and close matches."""
        self._discover()
        key = name.strip().lower()
        if key in self._entries:
            return self._entries[key]
        close = difflib.get_close_matches(key, self._entries, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownNameError(
            f"unknown {self.kind} {name!r}.{hint} Valid {self.kind}s: {', '.join(self.names())}"
        )

    def load(self, name: str) -> Any:
        """Import and return the class registered as ``name``."""
        return self.get(name).load()

    def create(self, name: str, **options: Any) -> Any:
        """Instantiate the class registered as ``name`` with ``options``."""
        factory: Callable[..., Any] = self.load(name)
        return factory(**options)


DATASETS = Registry("dataset", "mgld_bench.datasets")
METHODS = Registry("method", "mgld_bench.methods")
METRICS = Registry("metric", "mgld_bench.metrics")


def _register_builtins() -> None:
    from mgld_bench import builtins

    for name, target in builtins.DATASETS.items():
        DATASETS.register(name, target)
    for name, target in builtins.METHODS.items():
        METHODS.register(name, target)
    for name, target in builtins.METRICS.items():
        METRICS.register(name, target)


_register_builtins()
