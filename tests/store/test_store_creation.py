"""A new result store appears with its schema: a concurrent reader never sees an empty file."""

from __future__ import annotations

import threading
from pathlib import Path

from mgld_bench.store.results import ResultStore


def test_a_store_file_is_never_visible_without_its_tables(tmp_path: Path) -> None:
    problems: list[BaseException] = []

    def write(path: Path) -> None:
        try:
            ResultStore(path).close()
        except BaseException as exc:
            problems.append(exc)

    def read(path: Path, stop: threading.Event) -> None:
        while not stop.is_set():
            if path.is_file():
                try:
                    with ResultStore(path, readonly=True) as store:
                        store.query("SELECT COUNT(*) FROM clip_scores")
                except BaseException as exc:
                    problems.append(exc)
                return

    for i in range(30):
        path = tmp_path / f"run{i}" / "results.sqlite"
        path.parent.mkdir()
        stop = threading.Event()
        readers = [threading.Thread(target=read, args=(path, stop)) for _ in range(2)]
        writers = [threading.Thread(target=write, args=(path,)) for _ in range(2)]
        for t in readers + writers:
            t.start()
        for t in writers:
            t.join()
        stop.set()
        for t in readers:
            t.join()
        assert sorted(p.name for p in path.parent.iterdir()) == ["results.sqlite"]  # no temporary left
    assert not problems, problems[0]
