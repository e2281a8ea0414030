"""Cache size by kind and pruning (``mgld-bench cache info|prune``).

What the cache holds (see :mod:`mgld_bench.store.cache` for the layout): ``blobs`` (SR frames as
PNG, named by their sha256), one folder per namespace of small entries (``infer`` manifests that
list the blobs of one method's output on one clip, ``score`` metric results, ``flow`` optical
flows, ``gtfeat`` GT-side network features of LPIPS/DISTS, method values such as ``mgld`` text
contexts), ``logs`` of jobs, and ``tmp`` (staging
folders of jobs in progress).

Pruning never breaks what it leaves behind and never races a run:

* ``tmp`` is only swept by :func:`mgld_bench.store.sweep.collect_stale` (folders of processes
  that are gone); a live run's staging folder is never touched;
* nothing written or used in the last :data:`GRACE_S` seconds is deleted (a cache hit touches
  the entry, committing an existing blob touches it, so a concurrent run's files are young);
* an inference manifest is deleted before its blobs, and a blob goes only when no manifest that
  stays lists it; a manifest whose blob was deleted is deleted too (it would be a miss anyway).

A deleted entry is simply a cache miss later: the next run recomputes it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mgld_bench.errors import BenchError

#: Entries younger than this (seconds since written or last used) are never pruned.
GRACE_S = 3600.0
#: Top-level folders and what they hold, for ``cache info`` (other folders are method namespaces).
KINDS = {
    "blobs": "SR frames (PNG blobs)",
    "infer": "inference manifests",
    "score": "metric scores",
    "flow": "optical flows",
    "gtfeat": "GT-side LPIPS/DISTS features (gt_cache)",
    "logs": "job logs",
    "weights-plain": "plain checkpoint copies (mgld-official)",
    "tmp": "staging (jobs in progress)",
}
_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """``"500M"``, ``"2G"``, ``"1.5GiB"``, ``"1048576"`` -> bytes (binary units: K = 1024)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?b)?\s*", str(text).lower())
    if not m:
        raise BenchError(f"--max-size {text!r}: expected a size such as 500M, 2G or 1.5GiB")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def human_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


@dataclass
class Item:
    """One deletable thing: a blob, an entry file, or a job's log folder."""

    kind: str
    path: Path
    size: int
    mtime: float
    #: the sha256s an inference manifest lists (empty for other items)
    blobs: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The cache key (entries) or sha256 (blobs)."""
        return self.path.name.split(".")[0]


def _tree_size(path: Path) -> tuple[int, float]:
    total, newest = 0, 0.0
    for p in path.rglob("*"):
        try:
            st = p.stat()
        except OSError:
            continue
        if p.is_file():
            total += st.st_size
        newest = max(newest, st.st_mtime)
    try:
        newest = max(newest, path.stat().st_mtime)
    except OSError:
        pass
    return total, newest


def scan(root: Path) -> list[Item]:
    """Every blob, entry and log folder of the cache at ``root`` (``tmp`` left out)."""
    items: list[Item] = []
    if not root.is_dir():
        return items
    for top in sorted(p for p in root.iterdir() if p.is_dir()):
        if top.name == "tmp":
            continue
        if top.name in ("logs", "weights-plain"):  # one folder per job log / per plain copy
            for d in (top.iterdir() if top.name == "logs" else top.glob("v*/*/*")):
                if d.is_dir():
                    size, mtime = _tree_size(d)
                    items.append(Item(top.name, d, size, mtime))
            continue
        for f in top.glob("*/*"):
            if not f.is_file() or f.name.startswith(".") or ".tmp" in f.name:
                continue  # an atomic write in progress (fileio writes to a hidden temp name)
            try:
                st = f.stat()
            except OSError:
                continue
            blobs: tuple[str, ...] = ()
            if top.name == "infer" and f.suffix == ".json":
                try:
                    listed = json.loads(f.read_text()).get("frames", [])
                    blobs = tuple(s for s in listed if isinstance(s, str))
                except (OSError, ValueError, AttributeError):
                    blobs = ()
            items.append(Item(top.name, f, st.st_size, st.st_mtime, blobs))
    return items


@dataclass
class KindTotal:
    kind: str
    description: str
    count: int = 0
    size: int = 0


def info(root: Path) -> list[KindTotal]:
    """Size and count per kind (``tmp`` included: jobs in progress or left by killed runs)."""
    totals: dict[str, KindTotal] = {}
    for item in scan(root):
        t = totals.setdefault(item.kind, KindTotal(item.kind, KINDS.get(item.kind, "method values")))
        t.count += 1
        t.size += item.size
    tmp = root / "tmp"
    if tmp.is_dir():
        t = KindTotal("tmp", KINDS["tmp"])
        for d in tmp.iterdir():
            t.count += 1
            t.size += _tree_size(d)[0] if d.is_dir() else d.stat().st_size
        if t.count:
            totals["tmp"] = t
    order = list(KINDS)
    return sorted(totals.values(), key=lambda t: (order.index(t.kind) if t.kind in order else len(order), t.kind))


def referenced_keys(outs: Iterable[Path]) -> set[str]:
    """Inference and score keys the result stores of the run folders ``outs`` refer to."""
    from mgld_bench.store.results import ResultStore

    keys: set[str] = set()
    for out in outs:
        path = Path(out)
        path = path / "results.sqlite" if path.is_dir() else path
        if not path.is_file():
            raise BenchError(f"--out {out}: no results.sqlite there; pass the run folders whose results to keep")
        with ResultStore(path, readonly=True) as store:
            for infer_key, score_key in store._db.execute("SELECT infer_key, score_key FROM clip_scores"):
                keys.update(k for k in (infer_key, score_key) if k)
    return keys


@dataclass
class PrunePlan:
    """What a prune deletes, by kind."""

    items: list[Item] = field(default_factory=list)
    kept_size: int = 0

    def by_kind(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for item in self.items:
            n, s = out.get(item.kind, (0, 0))
            out[item.kind] = (n + 1, s + item.size)
        return out

    @property
    def size(self) -> int:
        return sum(i.size for i in self.items)


def plan_prune(
    root: Path, older_than_days: float | None = None, max_size: int | None = None,
    keep_keys: set[str] | None = None, now: float | None = None, grace_s: float = GRACE_S,
) -> PrunePlan:
    """What to delete: entries older than ``older_than_days``; with ``keep_keys`` (the keys
    result stores refer to), inference manifests and scores no kept store refers to; then the
    least recently used entries until the cache fits in ``max_size`` bytes; then every blob no
    remaining manifest lists (and manifests that list a deleted blob).  Nothing younger than
    ``grace_s`` is deleted."""
    now = time.time() if now is None else now
    items = scan(root)
    entries = [i for i in items if i.kind != "blobs"]
    blobs = {i.key: i for i in items if i.kind == "blobs"}
    # a blob is used as recently as the newest manifest listing it
    last_use = {id(i): i.mtime for i in items}
    for m in entries:
        for sha in m.blobs:
            if sha in blobs:
                last_use[id(blobs[sha])] = max(last_use[id(blobs[sha])], m.mtime)
    young = {id(i) for i in items if now - last_use[id(i)] < grace_s}
    doomed: set[int] = set()

    def drop(item: Item) -> None:
        if id(item) not in young:
            doomed.add(id(item))

    if older_than_days is not None:
        cutoff = now - older_than_days * 86400
        for item in entries:  # blobs follow their manifests (settle)
            if item.mtime < cutoff:
                drop(item)
    if keep_keys is not None:
        for item in entries:
            if item.kind in ("infer", "score") and item.key not in keep_keys:
                drop(item)

    def settle() -> None:
        """Blobs no surviving manifest lists go; manifests listing a doomed blob go."""
        while True:
            live = [i for i in entries if i.kind == "infer" and id(i) not in doomed]
            listed = {s for m in live for s in m.blobs}
            changed = False
            for sha, blob in blobs.items():
                if (sha not in listed and id(blob) not in doomed and id(blob) not in young
                        and (older_than_days is None or blob.mtime < now - older_than_days * 86400
                             or keep_keys is not None or max_size is not None)):
                    doomed.add(id(blob))
                    changed = True
            for m in live:
                if any(s in blobs and id(blobs[s]) in doomed for s in m.blobs):
                    drop(m)
                    changed = changed or id(m) in doomed
            if not changed:
                return

    if keep_keys is not None or older_than_days is not None:
        settle()
    if max_size is not None:
        # least recently used first; a blob lives as long as the newest manifest listing it
        order = sorted(items, key=lambda i: last_use[id(i)])
        total = sum(i.size for i in items if id(i) not in doomed)
        for item in order:
            if total <= max_size:
                break
            if id(item) in doomed or id(item) in young:
                continue
            doomed.add(id(item))
            total -= item.size
        settle()
    chosen = [i for i in items if id(i) in doomed]
    # manifests first, blobs last: a reader never finds a manifest whose blobs are gone
    chosen.sort(key=lambda i: (i.kind == "blobs", i.kind))
    return PrunePlan(chosen, sum(i.size for i in items) - sum(i.size for i in chosen))


def apply_prune(plan: PrunePlan, grace_s: float = GRACE_S) -> int:
    """Delete what ``plan`` lists (manifests before blobs); return the bytes freed.

    Each file is looked at again just before it goes: one a run used since the plan was made
    (young again) stays, and so do the blobs of a manifest that stays."""
    freed = 0
    kept_blobs: set[str] = set()
    for item in plan.items:
        try:  # a folder (a job log, a plain copy) is as young as its newest file
            mtime = _tree_size(item.path)[1] if item.path.is_dir() else item.path.stat().st_mtime
        except OSError:
            continue
        young = time.time() - mtime < grace_s
        if young or (item.kind == "blobs" and item.key in kept_blobs):
            kept_blobs.update(item.blobs)
            continue
        try:
            if item.path.is_dir():
                shutil.rmtree(item.path)
            else:
                os.unlink(item.path)
            freed += item.size
        except FileNotFoundError:
            continue  # another prune got there first
    plan.items = [i for i in plan.items if not i.path.exists()]
    return freed
