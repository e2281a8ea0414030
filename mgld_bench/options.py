"""Options shared by datasets, methods and metrics: typed, frozen, checked in one place.

Every component's options are a frozen dataclass (:class:`Options`), one typed field per option.
A component declares them either in the short style, ``defaults = {"crop_border": 0, ...}`` (the
dataclass is derived: each field's type is its default's type, widened by its ``choices``), or as
a dataclass of its own (``options_type = PSNROptions``, an ``@dataclass(frozen=True, eq=False)``
subclass of :class:`Options`).
:meth:`Configurable.check_options` is the one place where names, types, choices and minimums are
checked; the resolved values are then frozen, so the identity and cache key taken from them stay
true for the component's whole life.  ``Options`` also reads as a mapping
(``options["crop_border"]`` and ``options.crop_border`` agree) and serialises as one.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

from mgld_bench.errors import BenchError

#: Field types an option may have (besides ``Any``); others are declared wrongly.
_SCALARS: dict[str, type] = {t.__name__: t for t in (bool, int, float, str)}


class Options(Mapping[str, Any]):
    """Base of every component's options: a frozen dataclass that also reads as a mapping.

    Subclasses are frozen dataclasses (``@dataclass(frozen=True, eq=False)``); assigning a field or an
    item raises.  Iteration follows the field order; equality is a mapping's (``== {...}`` works).
    """

    #: For derived classes: ``((name, (type names...)), ...)``, enough to rebuild the class in
    #: another process (a derived class cannot be imported by name).
    _derived_from: ClassVar[tuple[tuple[str, tuple[str, ...]], ...] | None] = None

    def __getitem__(self, key: str) -> Any:
        if key in self.__dataclass_fields__:  # type: ignore[attr-defined]
            return getattr(self, key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dataclass_fields__)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.__dataclass_fields__)  # type: ignore[attr-defined]

    def __setitem__(self, key: str, value: Any) -> None:
        raise TypeError(f"options are frozen: cannot set {key!r}; options are fixed when the component is built")

    def __hash__(self) -> int:
        return hash(tuple(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        values = tuple(self.values())
        if self._derived_from is not None:
            return (_rebuild, (type(self).__name__, self._derived_from, values))
        return (type(self), values)

    def replace(self, **changes: Any) -> Options:
        """A copy with ``changes`` (unchecked: build a component to check options)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


_RESERVED = frozenset(dir(Options))


def _rebuild(name: str, spec: tuple[tuple[str, tuple[str, ...]], ...], values: tuple[Any, ...]) -> Options:
    return derived_options_class(name, spec)(*values)


_DERIVED: dict[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]], type[Options]] = {}


def derived_options_class(name: str, spec: tuple[tuple[str, tuple[str, ...]], ...]) -> type[Options]:
    """The frozen dataclass with fields ``spec`` (``(name, type names)``), made once per shape."""
    key = (name, spec)
    cls = _DERIVED.get(key)
    if cls is None:
        fields = []
        for field, names in spec:
            kinds = tuple(_SCALARS[n] for n in names)
            annotation: Any = Any if not kinds else kinds[0] if len(kinds) == 1 else typing.Union[kinds]  # noqa: UP007
            fields.append((field, annotation))
        cls = dataclasses.make_dataclass(name, fields, bases=(Options,), frozen=True, eq=False)
        cls._derived_from = spec
        cls.__module__ = __name__
        _DERIVED[key] = cls
    return cls


def _type_names(default: Any, allowed: tuple[Any, ...]) -> tuple[str, ...]:
    """The types an option takes: its default's, and those of its choices (``auto`` or True)."""
    if default is None:
        return ()
    out: list[str] = []
    for value in (default, *allowed):
        name = type(value).__name__
        if name not in _SCALARS:
            return ()
        if name not in out:
            out.append(name)
    return tuple(out)


def _accepted(annotation: Any) -> tuple[type, ...]:
    """The scalar types of a declared field's annotation (empty: any value)."""
    if annotation in _SCALARS.values():
        return (annotation,)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        parts = [_accepted(a) for a in args if a is not type(None)]
        if any(not p for p in parts):
            return ()
        return tuple(t for p in parts for t in p) + ((type(None),) if type(None) in args else ())
    return ()


def check_type(value: Any, accepted: tuple[type, ...], what: str) -> Any:
    """``value`` as an option of ``accepted`` types (strings from the CLI are converted first);
    a value of another type is an error naming ``what`` (component.option)."""
    if not accepted or (value is None and type(None) in accepted):
        return value
    if isinstance(value, str) and str not in accepted:
        value = coerce_like(accepted[0](), value, what)
    if isinstance(value, bool):
        if bool in accepted:
            return value
    elif isinstance(value, int) and (int in accepted or float in accepted):
        return value  # an int is a valid float (kept as given: it is part of the identity)
    elif isinstance(value, float):
        if float in accepted:
            return value
        if int in accepted and value.is_integer():
            return int(value)
    elif isinstance(value, os.PathLike) and str in accepted:
        return os.fspath(value)
    elif isinstance(value, str) and str in accepted:
        return value
    want = " or ".join("None" if t is type(None) else t.__name__ for t in accepted)
    raise BenchError(f"option {what}: expected {want}, got {value!r} ({type(value).__name__})")


class Configurable:
    """A component with declared options.

    ``defaults`` lists every option and its default (its type is the default's type), or
    ``options_type`` declares them as a frozen :class:`Options` dataclass (then ``defaults`` is
    read from it); ``choices`` the allowed values of an option, ``minimum`` the smallest allowed
    number.  All of this is checked once, here, for every component (:meth:`check_options`):
    unknown option names (with the closest valid one), values of the wrong type and values out of
    range are errors naming the component and the option.  ``options`` holds the resolved values,
    frozen: they go into identities, cache keys and provenance.

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
    #: (:meth:`mgld_bench.registry.Registry.build`), so reports work from any folder.
    path_options: ClassVar[tuple[str, ...]] = ()
    #: A declared options dataclass (optional; else it is derived from ``defaults``).
    options_type: ClassVar[type[Options] | None] = None
    #: Execution-only options: they change how the work is carried out (batch sizes), never the
    #: values, so they are checked like the others and recorded in the run's provenance
    #: (:meth:`execution`) but left out of :meth:`identity` -- hence of labels, cache keys and
    #: stored parameters.  In an ``options_type`` a field declares it with
    #: ``metadata={"execution": True}``.  Declare one only where a test shows equal values.
    execution_options: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("options_type")
        if declared is not None:
            params = getattr(declared, "__dataclass_params__", None)
            if not (issubclass(declared, Options) and params is not None and params.frozen and not params.eq):
                raise TypeError(
                    f"{cls.__name__}.options_type must be @dataclass(frozen=True, eq=False) deriving from "
                    "Options (it compares as a mapping)"
                )
            cls.defaults = {f.name: f.default for f in dataclasses.fields(declared)}
            marked = tuple(f.name for f in dataclasses.fields(declared) if f.metadata.get("execution"))
            if marked:
                cls.execution_options = tuple(dict.fromkeys((*cls.execution_options, *marked)))
        for key in cls.__dict__.get("execution_options", ()):
            if key not in cls.defaults:
                raise TypeError(f"{cls.__name__}.execution_options names {key!r}, which is not an option")

    def __init__(self, **options: Any) -> None:
        values = self.check_options(self.defaults, options, self.name or type(self).__name__, self)
        self._options = self.options_class(self.defaults)(**values)

    @property
    def options(self) -> Options:
        """The resolved options (frozen)."""
        return self._options

    def complete_options(self, values: dict[str, Any], given: Mapping[str, Any]) -> None:
        """Fill in or normalise ``values`` (all options, ``given`` those passed) before they are
        checked and frozen, e.g. from an options file.  Does nothing unless overridden."""

    @classmethod
    def options_class(cls, defaults: Mapping[str, Any] | None = None) -> type[Options]:
        """The frozen dataclass of this component's options (for ``defaults``: the class's, or an
        entry's merged ones)."""
        defaults = cls.defaults if defaults is None else defaults
        if cls.options_type is not None and set(defaults) <= set(cls.defaults):
            return cls.options_type
        for key in defaults:
            if not key.isidentifier() or key in _RESERVED:
                raise BenchError(f"{cls.__name__}: {key!r} cannot be an option name")
        spec = tuple((k, _type_names(v, tuple(cls.choices.get(k, ())))) for k, v in defaults.items())
        return derived_options_class(f"{cls.__name__}Options", spec)

    @classmethod
    def option_types(cls, defaults: Mapping[str, Any] | None = None) -> dict[str, tuple[type, ...]]:
        """Option name -> the types it accepts (empty: any)."""
        klass = cls.options_class(defaults)
        hints = typing.get_type_hints(klass)
        return {f.name: _accepted(hints.get(f.name, Any)) for f in dataclasses.fields(klass)}

    @classmethod
    def check_options(
        cls, defaults: Mapping[str, Any], given: Mapping[str, Any], label: str, component: Any = None
    ) -> dict[str, Any]:
        """Every option resolved and checked: ``given`` over ``defaults`` (``component``, when
        given, may complete them first).  Raises a :class:`BenchError` naming ``label`` and the
        option on an unknown name, a wrong type, a value not among its choices or below its minimum."""
        unknown = sorted(set(given) - set(defaults))
        if unknown:
            hints = [f"{u} (did you mean {close[0]}?)" if (close := difflib.get_close_matches(u, defaults, n=1))
                     else u for u in unknown]
            valid = ", ".join(sorted(defaults)) or "none"
            raise BenchError(f"{label}: unknown option(s) {', '.join(hints)}; valid options: {valid}")
        accepted = cls.option_types(defaults)
        values = dict(defaults)
        for key, value in given.items():
            values[key] = check_type(value, accepted[key], f"{label}.{key}")
        if component is not None:
            component.complete_options(values, given)
        for key, value in values.items():
            values[key] = check_type(value, accepted[key], f"{label}.{key}")
        for key, allowed in cls.choices.items():
            if key in values and values[key] not in allowed:
                raise BenchError(
                    f"{label}: {key} must be one of {', '.join(map(str, allowed))}, got {values[key]!r}"
                )
        for key, low in cls.minimum.items():
            value = values.get(key)
            if isinstance(value, int | float) and not value >= low:
                raise BenchError(f"{label}: {key} must be >= {low:g}, got {value!r}")
        return values

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
        """Name, version and resolved options but the execution-only ones: what identifies this
        component's behaviour (hence its label, cache keys and stored parameters)."""
        skip = set(self.execution_options)
        return {"name": self.name, "version": self.version,
                "options": dict(sorted((k, v) for k, v in self.options.items() if k not in skip))}

    def execution(self, device_kind: str | None = None) -> dict[str, Any]:
        """The execution-only options as the component runs them (on a device of kind
        ``device_kind``, ``cpu``/``cuda``, when known): what a run's provenance records."""
        return {k: self.options[k] for k in self.execution_options}


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


#: Option lists longer than this are shortened in labels (the digest keeps them distinct).
LABEL_OPTIONS_MAX = 48


def option_label(name: str, options: dict[str, Any], defaults: Any) -> str:
    """``name[k=v,...]`` for the options that differ from ``defaults`` (paths by file name and digest)."""
    import hashlib

    def show(v: Any) -> str:  # a path by its file name and a digest of the whole path
        if isinstance(v, str) and ("/" in v or "\\" in v):
            return f"{Path(v).name}#{hashlib.sha256(v.encode()).hexdigest()[:4]}"
        return str(v)

    changed = [f"{k}={show(v)}" for k, v in sorted(options.items()) if k in defaults and v != defaults[k]]
    if not changed:
        return name
    text = ",".join(changed)
    if len(text) > LABEL_OPTIONS_MAX:
        digest = hashlib.sha256(text.encode()).hexdigest()[:6]
        text = f"{text[: LABEL_OPTIONS_MAX - 8]}..#{digest}"
    return f"{name}[{text}]"
