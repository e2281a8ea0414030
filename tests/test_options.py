"""Typed, frozen options: one place checks them, no component can change them after it is built."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from mgld_bench.errors import BenchError
from mgld_bench.options import Configurable, Options
from mgld_bench.registry import DATASETS, METHODS, METRICS
from mgld_bench.specs import Ref, canonical_json


def _entries() -> list[Any]:
    return [pytest.param(reg, e, id=f"{reg.kind}:{e.name}") for reg in (DATASETS, METHODS, METRICS)
            for e in reg.entries()]


@pytest.mark.parametrize(("registry", "entry"), _entries())
def test_every_registered_component_has_typed_frozen_options(registry: Any, entry: Any) -> None:
    factory = entry.load()
    assert issubclass(factory, Configurable), f"{entry.name} is not a Configurable"
    defaults = {**factory.defaults, **dict(entry.params)}
    klass = factory.options_class(defaults)
    assert dataclasses.is_dataclass(klass) and issubclass(klass, Options)
    assert klass.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert [f.name for f in dataclasses.fields(klass)] == list(defaults)
    # every option has a declared scalar type that its own default satisfies, within its range
    types = factory.option_types(defaults)
    for key, value in defaults.items():
        assert types[key], f"{entry.name}.{key}: no type"
        assert isinstance(value, types[key]), f"{entry.name}.{key}: default {value!r} not {types[key]}"
    values = factory.check_options(defaults, {}, entry.name)
    opts = klass(**values)
    assert dict(opts) == defaults
    first = next(iter(defaults), None)
    if first is not None:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(opts, first, defaults[first])
        with pytest.raises(TypeError, match="frozen"):
            opts[first] = defaults[first]  # type: ignore[index]


def test_a_built_component_cannot_change_its_options() -> None:
    psnr = METRICS.create("psnr", crop_border="4")
    assert psnr.options.crop_border == 4 and psnr.options["crop_border"] == 4
    key = canonical_json(psnr.identity())
    with pytest.raises(dataclasses.FrozenInstanceError):
        psnr.options.crop_border = 0
    with pytest.raises(TypeError, match="frozen"):
        psnr.options["crop_border"] = 0
    with pytest.raises(AttributeError):
        psnr.options = {"crop_border": 0}
    assert canonical_json(psnr.identity()) == key


def test_options_serialise_and_pickle_as_their_values() -> None:
    psnr = METRICS.create("psnr", crop_border=2)
    assert psnr.options == {"color_space": "y", "crop_border": 2}
    assert canonical_json(psnr.options) == '{"color_space":"y","crop_border":2}'
    assert Ref.of("metric", "psnr", psnr.options) == Ref.of("metric", "psnr", {"color_space": "y", "crop_border": 2})
    again = pickle.loads(pickle.dumps(psnr.options))
    assert again == psnr.options and type(again) is type(psnr.options)
    assert pickle.loads(pickle.dumps(psnr)).options == psnr.options


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, r"option psnr\.crop_border: expected int, got 1\.5"),
        ("four", r"option psnr\.crop_border: cannot read 'four' as int"),
        (True, r"option psnr\.crop_border: expected int, got True"),
        ([4], r"option psnr\.crop_border: expected int"),
    ],
)
def test_an_override_of_the_wrong_type_names_component_and_option(value: Any, message: str) -> None:
    with pytest.raises(BenchError, match=message):
        METRICS.create("psnr", crop_border=value)


def test_wrong_types_in_methods_and_datasets_are_named_too() -> None:
    with pytest.raises(BenchError, match=r"option bicubic\.scale: cannot read .x4. as int"):
        METHODS.create("bicubic", scale="x4")
    with pytest.raises(BenchError, match=r"option synthetic\.frames: expected int"):
        DATASETS.create("synthetic", frames=[3])


def test_unknown_option_suggests_the_close_name() -> None:
    with pytest.raises(BenchError, match=r"psnr: unknown option\(s\) crop_bordr \(did you mean crop_border\?\)"):
        METRICS.create("psnr", crop_bordr=4)


def test_choices_and_minimum_are_checked() -> None:
    with pytest.raises(BenchError, match="psnr: color_space must be one of y, rgb"):
        METRICS.create("psnr", color_space="lab")
    with pytest.raises(BenchError, match="psnr: crop_border must be >= 0"):
        METRICS.create("psnr", crop_border=-1)


def test_integral_float_becomes_int_and_int_stays_for_a_float_option() -> None:
    assert METRICS.create("psnr", crop_border=4.0).options.crop_border == 4

    class Scaled(Configurable):
        name = "scaled"
        defaults: ClassVar[dict[str, Any]] = {"gain": 1.5}

    assert Scaled(gain=2).options.gain == 2  # an int is a float option's valid value, kept as given
    assert Scaled(gain="0.5").options.gain == 0.5


@dataclass(frozen=True, eq=False)
class _GainOptions(Options):
    gain: float = 1.0
    mode: str = "fast"
    steps: int | None = None


class _Declared(Configurable):
    name = "declared"
    options_type = _GainOptions
    choices: ClassVar[dict[str, tuple[str, ...]]] = {"mode": ("fast", "slow")}


def test_a_component_may_declare_its_options_dataclass() -> None:
    assert _Declared.defaults == {"gain": 1.0, "mode": "fast", "steps": None}
    obj = _Declared(gain="2", mode="slow")
    assert type(obj.options) is _GainOptions
    assert obj.options == {"gain": 2.0, "mode": "slow", "steps": None}
    assert _Declared(steps=3).options.steps == 3
    with pytest.raises(BenchError, match=r"option declared\.mode: expected str, got 3"):
        _Declared(mode=3)
    with pytest.raises(BenchError, match="declared: mode must be one of fast, slow"):
        _Declared(mode="medium")
    assert pickle.loads(pickle.dumps(obj.options)) == obj.options


def test_a_declared_options_class_must_be_frozen() -> None:
    @dataclass
    class Loose(Options):
        gain: float = 1.0

    with pytest.raises(TypeError, match="frozen=True"):
        type("Bad", (Configurable,), {"options_type": Loose})
