"""Fuzzing the trust boundaries: image headers, cache entries, labels (issue 11)."""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mgld_bench.errors import FrameError

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _png(width: int, height: int, body: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(body)) + chunk(b"IEND", b"")


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_are_a_frame_error_or_a_frame(tmp_path: Path, data: bytes) -> None:
    from mgld_bench.frames import read_image

    path = tmp_path / "f.png"
    path.write_bytes(data)
    try:
        img = read_image(path)
    except FrameError as exc:
        assert str(path) in str(exc)
    else:
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3


@FUZZ
@given(st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1), st.binary(max_size=64))
def test_png_headers_over_the_limit_are_never_decoded(tmp_path: Path, w: int, h: int, body: bytes) -> None:
    from mgld_bench.frames import read_image
    from mgld_bench.imagecheck import max_pixels

    path = tmp_path / "f.png"
    path.write_bytes(_png(w, h, body))
    if w * h > max_pixels():
        with pytest.raises(FrameError, match="above the limit"):
            read_image(path)
    else:
        try:
            read_image(path)
        except FrameError:
            pass


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(JSON, st.sampled_from(["frames", "value", "format", "digest", "extras"]))
def test_any_cache_entry_is_valid_or_absent(tmp_path: Path, obj: object, key: str) -> None:
    from mgld_bench.runner.jobs import _result_from_json, load_infer
    from mgld_bench.store.cache import Cache

    cache = Cache(tmp_path / "c")
    for entry in (obj, {"format": 1, key: obj}, {"format": 1, "frames": obj, "value": obj, "digest": obj}):
        res = _result_from_json(entry)  # type: ignore[arg-type]
        assert res is None or isinstance(res.value, float)
        cache.put_json("infer", "ab" * 32, entry)
        assert load_infer(cache, "ab" * 32) is None  # no blob could match: absent, never an exception


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["x", "y", "x~2"]), st.sampled_from("abcde")), max_size=12))
def test_claimed_labels_are_stable_and_unique(claims: list[tuple[str, str]]) -> None:
    from mgld_bench.store.results import SCHEMA
    from mgld_bench.store.results import claim_label as claim

    db = sqlite3.connect(":memory:", isolation_level=None)
    db.executescript(SCHEMA)  # the store's one schema (it owns the sources table)
    given_to: dict[str, str] = {}
    for label, source in claims:
        got = claim(db, "dataset", label, source)
        assert given_to.setdefault(source, got) == got  # the same source always gets its label back
    assert len(set(given_to.values())) == len(given_to)  # no two sources share one


@FUZZ
@given(st.dictionaries(st.sampled_from("abcdefgh"), st.text(max_size=30), min_size=1))
def test_option_labels_tell_option_sets_apart(options: dict[str, str]) -> None:
    from mgld_bench.methods.base import option_label

    defaults = dict.fromkeys("abcdefgh", "")
    key = next(iter(options))
    for changed in (options[key] + "!", "/elsewhere/" + options[key], options[key] + "/x"):
        assert option_label("m", options, defaults) != option_label("m", {**options, key: changed}, defaults)
