"""Options shared by datasets, methods and metrics: declared defaults, checked overrides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from mgld_bench.errors import BenchError


class Configurable:
    """A component with declared options.

    ``defaults`` lists every option and its default; unknown option names are an error naming
    the component and the valid options.  ``options`` holds the resolved values, which go into
    cache keys and provenance.
    """

    name: ClassVar[str] = ""
    version: ClassVar[int] = 1
    summary: ClassVar[str] = ""
    defaults: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.defaults))
        if unknown:
            valid = ", ".join(sorted(self.defaults)) or "none"
            raise BenchError(
                f"{self.name or type(self).__name__}: unknown option(s) {', '.join(unknown)}; "
                f"valid options: {valid}"
            )
        resolved = dict(self.defaults)
        for key, value in options.items():
            resolved[key] = coerce_like(self.defaults[key], value, f"{self.name}.{key}")
        self.options: dict[str, Any] = resolved

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
