"""Name -> implementation registries for datasets, methods and metrics.

Each registry maps a lowercase name to an :class:`Entry`: a lazy ``"module:attr"`` target,
default parameters (a variant such as ``lpips-vgg`` is an entry, not a subclass) and static
facts (:class:`~mgld_bench.specs.MetricFacts` for metrics), so listing and reports need no
import of an implementation.  Older spellings stay valid as aliases.  Built-ins are
registered in :mod:`mgld_bench.builtins`; everything else (``baselines/`` included) arrives
through the entry-point groups ``mgld_bench.datasets``, ``mgld_bench.methods`` and
``mgld_bench.metrics``, read once on first lookup.  A duplicate name is an error naming both
origins, so a plugin can never silently shadow a built-in.
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from mgld_bench.errors import BenchError, UnknownNameError
from mgld_bench.specs import Ref, Spec


@dataclass(frozen=True)
class Entry:
    """One registered name: where its implementation lives, its default parameters, its static
    facts and who registered it."""

    name: str
    target: str
    origin: str
    params: tuple[tuple[str, Any], ...] = ()
    facts: Any = None
    aliases: tuple[str, ...] = ()
    summary: str = ""

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

    def create(self, **options: Any) -> Any:
        """The component of this entry, configured with ``options`` over the entry's parameters.

        A component class (``Configurable``) learns its registered name, defaults and facts
        from the entry; any other factory is called with the merged options.
        """
        factory = self.load()
        configured = getattr(factory, "configured", None)
        if configured is not None:
            obj = configured(self.name, dict(self.params), self.facts, **options)
            if self.summary:
                obj.summary = self.summary
            return obj
        return factory(**{**dict(self.params), **options})


class Registry:
    """A typed name registry with entry-point discovery and close-match errors."""

    def __init__(self, kind: str, group: str) -> None:
        self.kind = kind
        self.group = group
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}
        self._discovered = False

    def register(self, name: str, target: str | Spec, origin: str = "mgld_bench") -> None:
        """Register ``name`` -> a ``"module:attr"`` target or a :class:`Spec`; duplicate names
        raise naming both origins."""
        spec = target if isinstance(target, Spec) else Spec(target)
        key = name.lower()
        entry = Entry(
            key, spec.target, origin, spec.params, spec.facts, tuple(a.lower() for a in spec.aliases), spec.summary
        )
        if key in self._entries or key in self._aliases:
            old = self._entries.get(key) or self._entries[self._aliases[key]]
            if old.target == entry.target and old.params == entry.params:
                return
            raise BenchError(
                f"{self.kind} {name!r} is registered twice: by {old.origin} ({old.target}) and by "
                f"{origin} ({spec.target}); rename one of them"
            )
        self._entries[key] = entry
        for alias in entry.aliases:
            self._aliases.setdefault(alias, key)

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
        return isinstance(name, str) and self.canonical(name.partition(":")[0]) in self._entries

    def canonical(self, name: str) -> str:
        """The registered spelling of ``name`` (aliases resolved); unknown names unchanged."""
        self._discover()
        key = name.strip().lower()
        return self._aliases.get(key, key)

    def get(self, name: str) -> Entry:
        """Return the entry for ``name`` (``NAME:ARG``: the entry of NAME) or raise listing the valid
        names and close matches."""
        key = self.canonical(name.partition(":")[0])
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
        """The component registered as ``name``, configured with ``options``."""
        return self.get(name).create(**options)

    def instantiate(self, ref: Ref, **extra: Any) -> Any:
        """The component of ``ref`` (a name or ``NAME:PATH`` spec with its options).

        ``extra`` options (such as ``root`` from ``--data-root``) go only to components that
        declare them; ``NAME:PATH`` sets the ``path`` option.
        """
        entry = self.get(ref.name)
        factory = entry.load()
        defaults = {**getattr(factory, "defaults", {}), **dict(entry.params)}
        opts: dict[str, Any] = {k: v for k, v in extra.items() if k in defaults and v is not None}
        _, sep, arg = ref.spec.partition(":")
        #: a class whose argument names a model (``pyiqa:topiq_nr``) rather than a path
        arg_option = getattr(factory, "argument_option", None)
        if sep:
            if arg_option is None and "path" not in defaults:
                raise BenchError(f"{self.kind} {ref.name!r} takes no argument (got {ref.spec!r})")
            opts[arg_option or "path"] = arg.strip()
        opts.update(ref.option_dict())
        if sep and arg_option is not None:
            return factory.configured(f"{entry.name}:{arg.strip().lower()}", dict(entry.params),
                                      self.facts(ref.spec), **opts)
        return entry.create(**opts)

    def build(self, spec: str, options: dict[str, dict[str, Any]] | None = None, protocol: Any = None,
              **extra: Any) -> tuple[Ref, Any]:
        """``spec`` (``NAME`` or ``NAME:PATH``) built with its ``--set`` options: the :class:`Ref` that
        names it and the component -- the one route from a name to a configured component.

        The Ref spells the name as registered and holds the paths the class lists in
        ``path_options`` made absolute (so a store read from another folder finds the data).
        ``protocol``: a metric takes its values for the fields its facts list (``protocol_fields``)
        unless the user set them.  ``extra`` options (``root``) go only to components that declare
        them, under the user's.
        """
        ref = self.ref(spec, options)
        factory = self.get(ref.name).load()
        path_opts = tuple(getattr(factory, "path_options", ()))
        if path_opts:
            ref = _absolute_paths(ref, path_opts, getattr(factory, "argument_option", None) is None)
        if protocol is not None:
            fields = getattr(self.facts(ref.spec), "protocol_fields", ())
            extra = {**{f: getattr(protocol, f) for f in fields if hasattr(protocol, f)}, **extra}
        return ref, self.instantiate(ref, **extra)

    def options_for(self, spec: str, options: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The ``--set`` options of ``spec``: those given for its name (or an alias), then for
        the whole spec (``folder:/x.option=...``)."""
        name = spec.partition(":")[0].strip().lower()
        canonical = self.canonical(name)
        opts: dict[str, Any] = {}
        for key, values in options.items():
            if self.canonical(key) == canonical:
                opts.update(values)
        if spec.lower() != name:
            opts.update(options.get(spec.lower(), {}))
        return opts

    def ref(self, spec: str, options: dict[str, dict[str, Any]] | None = None) -> Ref:
        """The :class:`Ref` of ``spec`` with its ``--set`` options (name spelt as registered)."""
        name, sep, arg = spec.partition(":")
        full = self.get(name).name + (f":{arg}" if sep else "")
        return Ref.of(self.kind, full, self.options_for(spec, options or {}))

    def facts(self, name: str) -> Any:
        """The static facts of ``name``: declared on its entry, else the class's ``facts``
        attribute (a plugin registered by entry point), else None."""
        entry = self.get(name)
        _, sep, arg = name.partition(":")
        if sep and entry.target:  # NAME:ARG -- facts that depend on the argument (pyiqa:NAME)
            facts_for = getattr(entry.load(), "facts_for", None)
            if facts_for is not None:
                return facts_for(arg.strip())
        if entry.facts is not None:
            return entry.facts
        return getattr(entry.load(), "facts", None)

    def position(self, name: str) -> int:
        """The order of declaration (built-ins first), for stable column orders."""
        self._discover()
        try:
            return list(self._entries).index(self.canonical(name.partition(":")[0]))
        except ValueError:
            return len(self._entries)


def absolute_path(text: str) -> str:
    """``text`` as an absolute path (``~`` expanded, symlinks kept as typed)."""
    return os.path.abspath(os.path.expanduser(text))


def _absolute_paths(ref: Ref, path_opts: tuple[str, ...], arg_is_path: bool) -> Ref:
    """``ref`` with the ``NAME:PATH`` argument (when it is a path) and the ``path_opts`` options absolute."""
    name, sep, arg = ref.spec.partition(":")
    spec = ref.spec
    if sep and "path" in path_opts and arg_is_path and arg.strip():
        spec = f"{name}:{absolute_path(arg.strip())}"
    opts = ref.option_dict()
    for key in path_opts:
        if isinstance(opts.get(key), str) and opts[key]:
            opts[key] = absolute_path(opts[key])
    return Ref.of(ref.kind, spec, opts)


def check_option_targets(options: dict[str, dict[str, Any]], specs: dict[str, list[str]]) -> None:
    """Every ``--set NAME.OPTION`` names a component of this run; else an error with close names.

    ``specs`` maps a registry kind to the specs the run uses (``{"metric": ["psnr"], ...}``).
    """
    registries = {"dataset": DATASETS, "method": METHODS, "metric": METRICS}
    run_names = {s.partition(":")[0].strip().lower() for v in specs.values() for s in v}
    known: list[str] = []
    for target in options:
        found = False
        for kind, names in specs.items():
            reg = registries[kind]
            for spec in names:
                name = spec.partition(":")[0].strip().lower()
                known += [spec.lower(), name]
                found = found or target == spec.lower() or reg.canonical(target) == reg.canonical(name)
        if found:
            continue
        close = difflib.get_close_matches(target, sorted(set(known)), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownNameError(
            f"--set {target}.OPTION: {target!r} is not a dataset, method or metric of this run.{hint} "
            f"This run has: {', '.join(sorted(run_names))}"
        )


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
