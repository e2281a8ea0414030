"""The content-addressed cache.

Layout under the cache root::

    blobs/ab/abcdef...        immutable content (frame PNGs), named by the sha256 of their bytes
    tmp/<id>/                 blobs of a job in progress (:meth:`Cache.staged_blobs`)
    <namespace>/ab/<key>.json  small JSON entries (inference manifests, metric results)
    <namespace>/ab/<key>.npy   arrays (flows)
    <namespace>/ab/<key>.arrays  a list of raw arrays with a checked header (GT-side features,
                              ``gtfeat``; :meth:`Cache.put_arrays`, read memory-mapped)
    logs/<key>/                logs of the job that wrote an entry
    weights-plain/v1/ab/<sha>/  plain copies of checkpoints (safeload.plain_copy; mgld-official)

``mgld-bench cache info|prune`` (:mod:`mgld_bench.store.maintenance`) reports and trims it; a
cache hit and a re-committed blob touch the file (mtime = last use), so pruning by age keeps
what runs still use.

Every write goes to a temporary name in the same folder and is renamed into place, so an entry
is either absent or complete: a run killed at any moment leaves nothing a later run would
read as valid.  An inference manifest is written only after all of its frame blobs exist.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from mgld_bench.errors import BenchError, writing
from mgld_bench.fileio import atomic_write_bytes, atomic_writer

#: First bytes of an ``.arrays`` entry (:meth:`Cache.put_arrays`).
ARRAYS_MAGIC = b"MGLDARR1"
_ALIGN = 64


def touch(path: Path) -> None:
    """Mark ``path`` as just used (its mtime), so ``cache prune`` keeps what runs still use;
    best effort (a read-only cache is read, not touched)."""
    try:
        os.utime(path)
    except OSError:
        pass


def default_cache_dir() -> Path:
    """``$MGLD_BENCH_CACHE``, else the per-user cache folder."""
    env = os.environ.get("MGLD_BENCH_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mgld-bench"))


class Cache:
    """A content-addressed store of job results under ``root``."""

    def __init__(self, root: Path | str | None = None) -> None:
        # absolute, as recorded in a run's provenance: reports read it from any folder
        self.root = (Path(root).expanduser() if root else default_cache_dir()).absolute()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BenchError(
                f"cannot create the cache folder {self.root}: {exc}; pass --cache-dir DIR"
            ) from exc

    # -- paths -------------------------------------------------------------------------------
    def _entry(self, namespace: str, key: str, suffix: str) -> Path:
        return self.root / namespace / key[:2] / f"{key}{suffix}"

    def blob_path(self, sha: str) -> Path:
        return self.root / "blobs" / sha[:2] / sha

    def log_dir(self, key: str) -> Path:
        return self.root / "logs" / key

    # -- blobs -------------------------------------------------------------------------------
    @contextmanager
    def staged_blobs(self) -> Iterator[BlobStage]:
        """Blobs of one job, kept aside until :meth:`BlobStage.commit`: a job that fails before
        committing leaves nothing in the blob store (the staging folder is always removed)."""
        # the owner's pid in the name lets a later run collect it if this one is killed (store.sweep)
        stage = BlobStage(self, self.root / "tmp" / f"blobs-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        with writing(self.root, "staging job outputs"):
            stage.folder.mkdir(parents=True)
        try:
            yield stage
        finally:
            shutil.rmtree(stage.folder, ignore_errors=True)

    def read_blob(self, sha: str) -> bytes:
        path = self.blob_path(sha)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BenchError(f"cache blob {sha} is missing from {self.root}; rerun to recompute") from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise BenchError(f"cache blob {path} is corrupt (sha256 mismatch); delete it and rerun")
        return data

    def has_blob(self, sha: str) -> bool:
        return self.blob_path(sha).is_file()

    # -- JSON entries ------------------------------------------------------------------------
    def get_json(self, namespace: str, key: str) -> Any | None:
        """The entry, or None when absent (or unreadable, which counts as absent)."""
        path = self._entry(namespace, key, ".json")
        try:
            obj = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return None
        touch(path)
        return obj

    def put_json(self, namespace: str, key: str, obj: Any) -> Path:
        path = self._entry(namespace, key, ".json")
        atomic_write_bytes(path, json.dumps(obj, sort_keys=True, indent=1, allow_nan=True).encode())
        return path

    def delete(self, namespace: str, key: str) -> None:
        for suffix in (".json", ".npy", ".arrays"):
            self._entry(namespace, key, suffix).unlink(missing_ok=True)

    # -- arrays ------------------------------------------------------------------------------
    def get_array(self, namespace: str, key: str) -> np.ndarray | None:
        path = self._entry(namespace, key, ".npy")
        try:
            array = np.load(path, allow_pickle=False)
        except (FileNotFoundError, ValueError, OSError):
            return None
        touch(path)
        return array

    def put_array(self, namespace: str, key: str, array: np.ndarray) -> Path:
        buf = io.BytesIO()
        np.save(buf, np.asarray(array), allow_pickle=False)
        path = self._entry(namespace, key, ".npy")
        atomic_write_bytes(path, buf.getvalue())
        return path


    # -- lists of raw arrays (large, read memory-mapped) ------------------------------------
    def put_arrays(self, namespace: str, key: str, arrays: list[np.ndarray], meta: Any = None) -> Path:
        """Store ``arrays`` (their exact bytes, dtype and shape) and a JSON-able ``meta`` as one
        entry, written to a temporary name and renamed (never half-written).  The header holds the
        sha256 of the payload, which :meth:`get_arrays` checks before anything is used."""
        arrays = [np.ascontiguousarray(a) for a in arrays]
        h = hashlib.sha256()
        specs, offset = [], 0
        for a in arrays:
            offset = -(-offset // _ALIGN) * _ALIGN
            specs.append({"dtype": a.dtype.str, "shape": list(a.shape), "offset": offset})
            h.update(a.reshape(-1).view(np.uint8))
            offset += a.nbytes
        header = json.dumps({"arrays": specs, "payload": offset, "sha256": h.hexdigest(), "meta": meta}).encode()
        start = -(-(len(ARRAYS_MAGIC) + 8 + len(header)) // _ALIGN) * _ALIGN
        path = self._entry(namespace, key, ".arrays")
        with atomic_writer(path) as fh:
            fh.write(ARRAYS_MAGIC + len(header).to_bytes(8, "little") + header)
            for a, spec in zip(arrays, specs, strict=True):
                fh.write(b"\0" * (start + spec["offset"] - fh.tell()))
                fh.write(a.reshape(-1).view(np.uint8).data)
        return path

    def get_arrays(self, namespace: str, key: str) -> tuple[list[np.ndarray], Any] | None:
        """The arrays and meta of :meth:`put_arrays`, memory-mapped (copy-on-write: writable
        views, the file never changes), or None when absent.  An entry that is truncated, has
        extra bytes or whose payload does not match its sha256 is deleted and reads as absent
        (the caller recomputes it)."""
        path = self._entry(namespace, key, ".arrays")
        try:
            size = path.stat().st_size
        except OSError:
            return None
        try:
            with open(path, "rb") as fh:
                if fh.read(len(ARRAYS_MAGIC)) != ARRAYS_MAGIC:
                    raise ValueError("magic")
                n = int.from_bytes(fh.read(8), "little")
                header = json.loads(fh.read(n))
            start = -(-(len(ARRAYS_MAGIC) + 8 + n) // _ALIGN) * _ALIGN
            if size != start + int(header["payload"]):
                raise ValueError("size")
            whole = np.memmap(path, dtype=np.uint8, mode="c")
            h = hashlib.sha256()
            out = []
            for spec in header["arrays"]:
                dtype = np.dtype(spec["dtype"])
                shape = tuple(int(x) for x in spec["shape"])
                begin = start + int(spec["offset"])
                nbytes = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
                raw = whole[begin:begin + nbytes]
                h.update(raw)
                out.append(raw.view(dtype).reshape(shape))
            if h.hexdigest() != header["sha256"]:
                raise ValueError("sha256")
        except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
            path.unlink(missing_ok=True)  # corrupt or partial: never used, recomputed by the caller
            return None
        touch(path)
        return out, header.get("meta")


class BlobStage:
    """Blobs written aside (same file system as the blob store) and moved in together."""

    def __init__(self, cache: Cache, folder: Path) -> None:
        self.cache = cache
        self.folder = folder
        self.shas: list[str] = []

    def put(self, data: bytes) -> str:
        """Stage ``data``; return its sha256."""
        sha = hashlib.sha256(data).hexdigest()
        with writing(self.cache.root, "staging job outputs"):  # a full disk names the cache folder
            (self.folder / sha).write_bytes(data)
        self.shas.append(sha)
        return sha

    def commit(self) -> list[str]:
        """Move every staged blob into the blob store; return their digests in staging order."""
        for sha in dict.fromkeys(self.shas):
            target = self.cache.blob_path(sha)
            if target.is_file():
                touch(target)  # in use again: `cache prune` keeps it
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.folder / sha, target)
        return list(self.shas)
