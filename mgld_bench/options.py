"""Options shared by datasets, methods and metrics: declared defaults, checked overrides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mgld_bench.errors import BenchError


class Configurable:
    """A component with declared options.

    ``defaults`` lists every option and its default (its type is the default's type);
    ``choices`` the allowed values of an option, ``minimum`` the smallest allowed number.  All
    of this is checked here, once, for every component: unknown option names, unreadable values
    and values out of range are errors naming the component and what is valid.  ``options``
    holds the resolved values, which go into cache keys and provenance.

    A registry entry may reuse one class under several names with other defaults
    (:meth:`configured`), so ``name`` and ``defaults`` may be set per instance.
    """

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    summary: ClassVar[str] = ""
    defaults: ClassVar[Mapping[str, Any]] = {}
    choices: ClassVar[Mapping[str, tuple[Any, ...]]] = {}
    minimum: ClassVar[Mapping[str, float]] = {}
    #: Options that name files or folders: a run records them as absolute paths
    #: (:func:`mgld_bench.runner.plan.absolute_ref`), so reports work from any folder.
    path_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.defaults))
        label = self.name or type(self).__name__
        if unknown:
            valid = ", ".join(sorted(self.defaults)) or "none"
            raise BenchError(f"{label}: unknown option(s) {', '.join(unknown)}; valid options: {valid}")
        resolved = dict(self.defaults)
        for key, value in options.items():
            resolved[key] = coerce_like(self.defaults[key], value, f"{label}.{key}")
        for key, allowed in self.choices.items():
            if key in resolved and resolved[key] not in allowed:
                raise BenchError(
                    f"{label}: {key} must be one of {', '.join(map(str, allowed))}, got {resolved[key]!r}"
                )
        for key, low in self.minimum.items():
            value = resolved.get(key)
            if isinstance(value, int | float) and not value >= low:
                raise BenchError(f"{label}: {key} must be >= {low:g}, got {value!r}")
        self.options: dict[str, Any] = resolved

    @classmethod
    def configured(cls, name: str, params: Mapping[str, Any], facts: Any = None, **options: Any) -> Any:
        """An instance registered as ``name``: ``params`` become its defaults, ``facts`` its
        static facts (used by :meth:`mgld_bench.registry.Entry.create`)."""
        obj = cls.__new__(cls)
        obj.name = name  # type: ignore[misc]
        obj.defaults = {**cls.defaults, **params}  # type: ignore[misc]
        if facts is not None:
            obj.facts = facts  # type: ignore[attr-defined]
        obj.__init__(**options)  # type: ignore[misc]
        return obj

    def identity(self) -> dict[str, Any]:
        """Name, version and resolved options: what identifies this component's behaviour."""
        return {"name": self.name, "version": self.version, "options": dict(sorted(self.options.items()))}


def coerce_like(default: Any, value: Any, what: str) -> Any:
    """Convert a CLI string to the type of ``default`` (bool, int, float); leave others."""
    if not isinstance(value, str) or default is None or isinstance(default, str):
        return value
    try:
        if isinstance(default, bool):
            low = value.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, list | tuple):
            return [coerce_like(default[0], v, what) if default else v for v in value.split("+")]
    except ValueError:
        raise BenchError(f"option {what}: cannot read {value!r} as {type(default).__name__}") from None
    return value


def parse_assignments(items: list[str] | None) -> dict[str, dict[str, str]]:
    """Parse ``NAME.key=value`` strings into {NAME: {key: value}}."""
    out: dict[str, dict[str, str]] = {}
    for item in items or []:
        target, sep, value = item.partition("=")
        name, dot, key = target.partition(".")
        if not sep or not dot or not name or not key:
            raise BenchError(f"--set {item!r}: expected NAME.option=value, e.g. bicubic.kernel=cv2")
        out.setdefault(name.strip().lower(), {})[key.strip()] = value
    return out
