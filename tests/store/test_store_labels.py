"""Dataset labels in one store: the label a run plans (read-only, before any work) is the label the
store then claims; two folders with one base name never share it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from mgld_bench.store.results import ResultStore


def _ds(path: Path) -> SimpleNamespace:
    return SimpleNamespace(options={"path": str(path)}, label=f"folder:{path.name}", label_override=None)


def test_planned_label_is_the_claimed_one_and_planning_writes_nothing(tmp_path: Path) -> None:
    a, b, c = tmp_path / "x" / "clips", tmp_path / "y" / "clips", tmp_path / "z" / "clips"
    store_path = tmp_path / "out" / "results.sqlite"
    with ResultStore(store_path) as store:
        first, second = _ds(a), _ds(b)
        store.claim_dataset_labels([first, second])
    assert (first.label_override, second.label_override) == (None, "folder:clips~2")
    with ResultStore(store_path, readonly=True) as store:
        assert store.planned_dataset_label(_ds(b)) == "folder:clips~2"  # the same source: its label back
        assert store.planned_dataset_label(_ds(c)) == "folder:clips~3"  # a new one: the next free label
        assert store.planned_dataset_label(_ds(c)) == "folder:clips~3"  # planning claimed nothing
        assert store.planned_dataset_label(SimpleNamespace(options={}, label="synthetic")) == "synthetic"
    with ResultStore(store_path) as store:
        third = _ds(c)
        store.claim_dataset_labels([third])
    assert third.label_override == "folder:clips~3"
