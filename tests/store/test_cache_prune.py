"""``mgld-bench cache info|prune`` on a small cache built in tmp_path."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from mgld_bench.cli import main
from mgld_bench.store.cache import Cache
from mgld_bench.store.maintenance import apply_prune, info, parse_size, plan_prune
from mgld_bench.store.outputs import save_infer
from mgld_bench.store.results import ClipRecord, ResultStore

DAY = 86400.0


def _frame(v: int) -> np.ndarray:
    return np.full((8, 8, 3), v, dtype=np.uint8)


def _age(path: Path, days: float) -> None:
    t = time.time() - days * DAY
    os.utime(path, (t, t))


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    """Two outputs (A: frames 1, 2; B: frames 2, 3 -- frame 2 shared), two scores, one flow, a log,
    everything written 10 days ago except what a test makes younger."""
    c = Cache(tmp_path / "cache")
    save_infer(c, "a" * 64, [_frame(1), _frame(2)], 2, (8, 8), "A", {})
    save_infer(c, "b" * 64, [_frame(2), _frame(3)], 2, (8, 8), "B", {})
    c.put_json("score", "c" * 64, {"value": 1})
    c.put_json("score", "d" * 64, {"value": 2})
    c.put_array("flow", "e" * 64, np.zeros((4, 4, 2), np.float16))
    log = c.log_dir("a" * 64)
    log.mkdir(parents=True)
    (log / "job.log").write_text("ok")
    for p in c.root.rglob("*"):
        _age(p, 10)
    return c


def _blob_sha(v: int) -> str:
    import hashlib

    from mgld_bench.frames import encode_png

    return hashlib.sha256(encode_png(_frame(v))).hexdigest()


def _store(tmp_path: Path, infer_key: str, score_key: str) -> Path:
    out = tmp_path / "out"
    with ResultStore(out / "results.sqlite") as store:
        run = store.start_run([], {})
        store.write(run, ClipRecord("d", "m", "c", "psnr", "default", 30.0, {0: 30.0},
                                    infer_key=infer_key, score_key=score_key))
    return out


def _files(root: Path) -> dict[str, int]:
    """Independent count of files per top-level folder."""
    out: dict[str, int] = {}
    for dirpath, _, names in os.walk(root):
        top = Path(dirpath).relative_to(root).parts[:1]
        if top and names:
            out[top[0]] = out.get(top[0], 0) + len(names)
    return out


def test_info_counts_and_sizes_by_kind(cache: Cache, capsys: pytest.CaptureFixture) -> None:
    totals = {t.kind: t for t in info(cache.root)}
    files = _files(cache.root)
    assert {k: t.count for k, t in totals.items() if k != "logs"} == {k: v for k, v in files.items() if k != "logs"}
    assert totals["blobs"].count == 3 and totals["infer"].count == 2 and totals["logs"].count == 1
    assert totals["blobs"].size == sum(p.stat().st_size for p in (cache.root / "blobs").rglob("*") if p.is_file())
    assert main(["cache", "info", "--cache-dir", str(cache.root)]) == 0
    out = capsys.readouterr().out
    assert "SR frames (PNG blobs)" in out and "optical flows" in out and "total" in out


def test_unreferenced_keeps_what_a_store_refers_to_and_shared_blobs(tmp_path: Path, cache: Cache) -> None:
    out = _store(tmp_path, "a" * 64, "c" * 64)
    assert main(["cache", "prune", "--cache-dir", str(cache.root), "--unreferenced", "--out", str(out)]) == 0
    assert cache.get_json("infer", "a" * 64) is not None and cache.get_json("infer", "b" * 64) is None
    assert cache.get_json("score", "c" * 64) is not None and cache.get_json("score", "d" * 64) is None
    assert cache.has_blob(_blob_sha(1)) and cache.has_blob(_blob_sha(2))  # 2 is shared with the kept output
    assert not cache.has_blob(_blob_sha(3))
    assert cache.get_array("flow", "e" * 64) is not None  # flows are not store-referenced: left alone


def test_dry_run_deletes_nothing(tmp_path: Path, cache: Cache, capsys: pytest.CaptureFixture) -> None:
    before = _files(cache.root)
    assert main(["cache", "prune", "--cache-dir", str(cache.root), "--older-than", "1", "--dry-run"]) == 0
    assert _files(cache.root) == before
    assert "would delete 3 SR frames (PNG blobs)" in capsys.readouterr().out


def test_older_than_keeps_recently_used_entries_and_their_blobs(cache: Cache) -> None:
    assert cache.get_json("infer", "b" * 64) is not None  # a cache hit: B is in use now
    apply_prune(plan_prune(cache.root, older_than_days=5))
    assert cache.get_json("infer", "a" * 64) is None and cache.get_json("infer", "b" * 64) is not None
    # B's blobs are old files but listed by a manifest that stays; A's own blob goes
    assert cache.has_blob(_blob_sha(2)) and cache.has_blob(_blob_sha(3)) and not cache.has_blob(_blob_sha(1))
    assert not cache.log_dir("a" * 64).exists()


def test_max_size_drops_least_recently_used_first(cache: Cache) -> None:
    cache.get_json("infer", "b" * 64)  # B used now, A twenty days ago, the rest ten
    _age(cache.root / "infer" / "aa" / f"{'a' * 64}.json", 20)
    total = sum(t.size for t in info(cache.root))
    blob1 = cache.blob_path(_blob_sha(1)).stat().st_size
    plan = plan_prune(cache.root, max_size=total - blob1, grace_s=0)
    apply_prune(plan)
    assert sum(t.size for t in info(cache.root)) <= total - blob1
    assert cache.get_json("infer", "b" * 64) is not None and cache.has_blob(_blob_sha(3))
    assert cache.get_json("infer", "a" * 64) is None  # the oldest output went first


def test_a_concurrent_runs_files_are_never_deleted(cache: Cache) -> None:
    # a live run: its staging folder (our own pid) and a blob it just committed, not yet listed
    stage = cache.root / "tmp" / f"blobs-{os.getpid()}-abcd1234"
    stage.mkdir(parents=True)
    (stage / "x").write_bytes(b"partial")
    with cache.staged_blobs() as s:
        fresh = s.put(b"just committed")
        s.commit()
    assert main(["cache", "prune", "--cache-dir", str(cache.root), "--older-than", "0", "--max-size", "0"]) == 0
    assert (stage / "x").is_file() and cache.has_blob(fresh)


def test_an_entry_used_after_planning_stays_with_its_blobs(cache: Cache) -> None:
    plan = plan_prune(cache.root, older_than_days=5)
    assert any(i.kind == "infer" and i.key == "a" * 64 for i in plan.items)
    assert cache.get_json("infer", "a" * 64) is not None  # a run hits A between plan and deletion
    apply_prune(plan)
    assert cache.get_json("infer", "a" * 64) is not None
    assert cache.has_blob(_blob_sha(1)) and cache.has_blob(_blob_sha(2))
    assert cache.get_json("infer", "b" * 64) is None and not cache.has_blob(_blob_sha(3))
    assert not any(i.kind == "infer" and i.key == "a" * 64 for i in plan.items)  # the plan lists what went


def test_prune_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    c = str(tmp_path / "c")
    assert main(["cache", "prune", "--cache-dir", c]) != 0
    assert main(["cache", "prune", "--cache-dir", c, "--unreferenced"]) != 0
    assert "--out OUT" in capsys.readouterr().err
    assert main(["cache", "prune", "--cache-dir", c, "--max-size", "lots"]) != 0
    assert parse_size("2G") == 2 * 1024**3 and parse_size("1.5MiB") == 1572864 and parse_size("100") == 100


def test_plain_checkpoint_copies_are_a_kind_of_their_own_and_pruned_whole(cache: Cache) -> None:
    copy = cache.root / "weights-plain" / "v1" / "ab" / ("ab" + "0" * 62)
    copy.mkdir(parents=True)
    (copy / "mgldvsr_unet.ckpt").write_bytes(b"x" * 1000)
    for p in (copy, copy / "mgldvsr_unet.ckpt"):
        _age(p, 10)
    totals = {t.kind: t for t in info(cache.root)}
    assert totals["weights-plain"].count == 1 and totals["weights-plain"].size == 1000
    assert main(["cache", "prune", "--cache-dir", str(cache.root), "--older-than", "5"]) == 0
    assert not copy.exists()
