"""Opening weight files without running code from them.

Every weight file the suite or a library it calls reads is opened here first:

* ``.safetensors`` files with safetensors (no code at all);
* everything else with ``torch.load(weights_only=True)``, memory-mapped where the file is in
  torch's zip format.

A pickle that names globals outside torch's tensor allowlist is refused with one line naming
the file and the globals -- unless the caller asks for ``inert_globals`` (Lightning
checkpoints, whose training state holds callbacks, hyper-parameters and the like): then every
such global is replaced by an inert placeholder class written here, so the file still loads
and no code from it runs; the tensors come out as tensors and the rest as placeholders.
``allow_pickle`` (the user's explicit trust in one file) falls back to a plain ``torch.load``.
Globals that exist to run code or reach the system (:data:`CODE_MODULES`, :data:`CODE_BUILTINS`)
are never stubbed: a pickle naming one is refused even with ``inert_globals``.

:func:`plain_copy` writes what such a load gives back, reduced to tensors and plain containers,
as a new file: code that insists on plain pickle (a subprocess running someone else's script)
is pointed at that copy and can only ever unpickle plain data.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError, writing


class UnsafeWeightsError(BenchError):
    """A weight file whose pickle needs globals that could run code."""

    exit_code = 3


class Inert:
    """Stand-in for a pickled object of an unknown class: keeps its arguments and state, runs nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<inert {type(self).__module__}.{type(self).__qualname__}>"


#: Files the user trusts with plain pickle (``--allow-pickle FILE``), as resolved paths.
_PICKLE_TRUSTED: set[str] = set()


def trust_pickle(paths: Iterable[str | Path]) -> None:
    """Let :func:`load_weights` read these files with plain pickle (the user's explicit trust)."""
    for p in paths:
        _PICKLE_TRUSTED.add(str(Path(p).expanduser().resolve()))


def pickle_trusted(path: str | Path) -> bool:
    """Whether the user passed ``--allow-pickle`` for ``path``."""
    return str(Path(path).expanduser().resolve()) in _PICKLE_TRUSTED


def _inert_class(qualified: str) -> type:
    module, _, name = qualified.rpartition(".")
    cls = type(name, (Inert,), {"__module__": module})
    cls.__qualname__ = name
    return cls


def unsafe_globals(path: Path) -> list[str]:
    """The globals a torch file's pickle names beyond torch's allowlist (nothing is executed)."""
    import torch

    try:
        return list(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
    except Exception:  # legacy (non-zip) files: found by trying the restricted load instead
        return []


#: Top-level modules whose globals a weight file never gets, not even as inert placeholders:
#: they exist to run code, import modules or reach the system.  (``commands`` and
#: ``__builtin__`` are the Python 2 names pickle protocol 2 writes.)
CODE_MODULES = frozenset({
    "os", "posix", "nt", "sys", "subprocess", "commands", "_posixsubprocess", "shutil", "importlib",
    "runpy", "pickle", "_pickle", "cPickle", "copyreg", "copy_reg", "marshal", "code", "codeop", "types",
    "operator", "ctypes", "socket", "pty", "pdb", "bdb", "timeit", "webbrowser", "platform", "signal",
    "multiprocessing", "threading", "_thread", "asyncio", "io", "_io", "tempfile", "zipimport", "site",
    "inspect", "gc", "ssl", "urllib", "http", "ftplib", "smtplib", "telnetlib", "sqlite3",
})
#: Builtins that run or reach code (the builtin types a pickle may name stay allowed as placeholders).
CODE_BUILTINS = frozenset({
    "eval", "exec", "execfile", "compile", "__import__", "open", "file", "input", "raw_input", "breakpoint",
    "getattr", "setattr", "delattr", "globals", "locals", "vars", "exit", "quit", "help", "apply", "reload",
})
#: Names in :data:`CODE_MODULES` that are plain data holders (training state may hold them).
PLAIN_EXCEPTIONS = frozenset({"types.SimpleNamespace"})


def code_globals(names: Iterable[str]) -> list[str]:
    """The entries of ``names`` (``module.name``) that are never allowed, even as placeholders."""
    out = []
    for qualified in names:
        module, _, attr = qualified.rpartition(".")
        if qualified in PLAIN_EXCEPTIONS:
            continue
        if module.split(".")[0] in CODE_MODULES or (module in ("builtins", "__builtin__") and attr in CODE_BUILTINS):
            out.append(qualified)
    return out


def _refuse(path: Path, found: list[str]) -> UnsafeWeightsError:
    return UnsafeWeightsError(
        f"weight file {path} is a pickle that needs {', '.join(found[:5])}, which could run code; "
        "it was not loaded. Use a safetensors or weights-only copy, or, if you trust this file, "
        f"pass --allow-pickle {path}"
    )


def _real_torch_load() -> Any:
    """``torch.load`` itself, also while :func:`routed_torch_load` has replaced it."""
    import torch

    return getattr(torch.load, "_mgld_original", torch.load)


def _torch_load(path: Path, map_location: Any) -> Any:
    load = _real_torch_load()
    try:
        return load(path, map_location=map_location, weights_only=True, mmap=True)
    except RuntimeError as exc:
        if "mmap" not in str(exc):  # only legacy-format files refuse mmap
            raise
        return load(path, map_location=map_location, weights_only=True)


def load_weights(
    path: str | Path, *, map_location: Any = "cpu", inert_globals: bool = False, allow_pickle: bool = False
) -> Any:
    """The object stored in a weight file, read without running code from it.

    ``inert_globals`` loads pickles that hold non-tensor objects (replaced by :class:`Inert`);
    ``allow_pickle`` is the user's explicit trust and loads the file with plain pickle.
    Raises :class:`BenchError` naming the file on every failure.
    """
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise BenchError(f"weight file {path} does not exist")
    allow_pickle = allow_pickle or pickle_trusted(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device=map_location if isinstance(map_location, str) else "cpu")
        except Exception as exc:
            raise BenchError(f"cannot read {path}: {type(exc).__name__}: {exc}; download it again") from None
    try:
        if allow_pickle:
            return _real_torch_load()(path, map_location=map_location, weights_only=False)
        names = unsafe_globals(path) if inert_globals else []
        for _ in range(_MAX_GLOBALS):
            if code_globals(names):
                raise _refuse(path, code_globals(names))
            try:
                with torch.serialization.safe_globals([_inert_class(n) for n in names]):
                    return _torch_load(path, map_location)
            except pickle.UnpicklingError as exc:
                # legacy files name their globals one at a time, in the error
                more = [n for n in _named_globals(exc) if n not in names]
                if not (inert_globals and more) or _is_blocked(exc):
                    raise
                names += more
        raise pickle.UnpicklingError(f"more than {_MAX_GLOBALS} unknown globals")
    except pickle.UnpicklingError as exc:
        found = unsafe_globals(path) or _named_globals(exc) or [_first_line(exc)]
        raise _refuse(path, code_globals(found) or found) from None
    except BenchError:
        raise
    except Exception as exc:
        raise BenchError(
            f"cannot read weight file {path}: {type(exc).__name__}: {_first_line(exc)}. The file is corrupt, "
            "truncated or not a PyTorch file; download it again and check its sha256"
        ) from None


_ROUTE_LOCK = threading.RLock()


@contextmanager
def routed_torch_load() -> Iterator[None]:
    """While active, every ``torch.load`` (a library's own, torch hub's, torchvision's) goes through
    :func:`load_weights`, so a library that asks for ``weights_only=False`` still gets a restricted
    load; only files passed to ``--allow-pickle`` are read with plain pickle."""
    import torch

    if hasattr(torch.load, "_mgld_original"):  # already routed (nested use)
        yield
        return
    original = torch.load

    def load(f: Any, map_location: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(f, str | os.PathLike):
            return load_weights(f, map_location=map_location or "cpu")
        kwargs.pop("pickle_module", None)  # args: a positional pickle_module, dropped likewise
        kwargs["weights_only"] = True  # file objects: no path to trust, so never plain pickle
        return original(f, map_location, **kwargs)

    load._mgld_original = original  # type: ignore[attr-defined]
    with _ROUTE_LOCK:
        torch.load = load
        try:
            yield
        finally:
            torch.load = original


_MAX_GLOBALS = 64
_GLOBAL_RE = re.compile(r"GLOBAL ([A-Za-z_][\w.]*)")


def _named_globals(exc: BaseException) -> list[str]:
    return list(dict.fromkeys(_GLOBAL_RE.findall(str(exc))))


def _is_blocked(exc: BaseException) -> bool:
    """torch refuses globals of os/sys/subprocess-like modules outright: never stub those."""
    return "is blocked" in str(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- plain tensors as NumPy arrays, without torch ----------------------------------------------
#: torch storage class name -> NumPy dtype (what a tensors-only file may hold).
_STORAGE_DTYPES = {
    "DoubleStorage": "<f8", "FloatStorage": "<f4", "HalfStorage": "<f2", "LongStorage": "<i8",
    "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?",
}


class _Storage:
    def __init__(self, dtype: str) -> None:
        self.dtype = dtype


def _rebuild_array(storage: Any, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any) -> Any:
    import numpy as np

    size, stride = tuple(int(v) for v in size), tuple(int(v) for v in stride)
    if len(size) != len(stride) or min((*size, *stride, offset), default=0) < 0:
        raise ValueError("bad tensor layout")
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True)) if all(size) else -1
    if last >= len(storage):
        raise ValueError("tensor reaches past its storage")
    item = storage.itemsize
    return np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * item for s in stride), writeable=False
    ).copy()


def load_arrays(path: str | Path) -> Any:
    """The tensors of a PyTorch zip-format file as NumPy arrays, without importing torch.

    The pickle may name only torch's tensor rebuild function, its plain storage types and
    ``OrderedDict`` (a stricter list than ``torch.load(weights_only=True)``): anything else, and
    any file that is not in torch's zip format (e.g. the legacy format), raises
    :class:`BenchError` -- read such a file with :func:`load_weights`.  Containers (tuples, lists,
    dicts) come back as they were saved, with arrays in place of tensors.
    """
    import collections
    import pickle
    import zipfile

    import numpy as np

    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise BenchError(f"weight file {path} is not in PyTorch's zip format")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            raise BenchError(f"weight file {path} has no single data.pkl; not a PyTorch file")
        prefix = pkl[0][: -len("data.pkl")]
        order = zf.read(prefix + "byteorder").decode().strip() if prefix + "byteorder" in names else "little"
        if order != "little":
            raise BenchError(f"weight file {path} is big-endian; read it with torch")

        class Reader(pickle.Unpickler):
            def find_class(self, module: str, name: str) -> Any:
                if module == "torch._utils" and name == "_rebuild_tensor_v2":
                    return _rebuild_array
                if module == "torch" and name in _STORAGE_DTYPES:
                    return _Storage(_STORAGE_DTYPES[name])
                if module == "collections" and name == "OrderedDict":
                    return collections.OrderedDict
                raise pickle.UnpicklingError(f"{module}.{name} is not a plain tensor")

            def persistent_load(self, pid: Any) -> Any:
                if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                        and isinstance(pid[1], _Storage)):
                    raise pickle.UnpicklingError(f"unexpected persistent id {pid!r:.60}")
                _, kind, key, _location, numel = pid
                data = np.frombuffer(zf.read(f"{prefix}data/{key}"), dtype=kind.dtype)
                if len(data) < int(numel):
                    raise pickle.UnpicklingError(f"storage {key} is truncated")
                return data

        try:
            return Reader(zf.open(pkl[0])).load()
        except (pickle.UnpicklingError, KeyError, ValueError, TypeError, EOFError) as exc:
            raise BenchError(f"weight file {path} cannot be read without torch ({_first_line(exc)})") from None


# -- plain copies -----------------------------------------------------------------------------------
#: Bump when :func:`plain_copy` writes something else for the same source (old copies are not reused).
PLAIN_COPY_VERSION = 1


@dataclass
class PlainCopy:
    """A weight file reduced to tensors and plain containers (see :func:`plain_copy`)."""

    source: Path
    sha256: str
    path: Path
    #: Where non-plain objects were dropped (``callbacks/ModelCheckpoint``: the Inert class).
    dropped: list[str] = field(default_factory=list)
    reused: bool = False


_PLAIN_SCALARS = (str, bytes, int, float, bool, complex, type(None))
_MAX_DEPTH = 100


def to_plain(obj: Any, where: str = "") -> tuple[Any, list[str]]:
    """``obj`` with everything but tensors, numbers, strings, ``None``, dicts, lists and tuples
    removed (a dict entry or a list item that is something else is dropped and reported).  Tensors
    become plain ``torch.Tensor`` (parameters and subclasses lose their class)."""
    from collections import OrderedDict

    import torch

    dropped: list[str] = []

    def walk(x: Any, at: str, depth: int) -> tuple[bool, Any]:
        if depth > _MAX_DEPTH:
            dropped.append(f"{at}: nested deeper than {_MAX_DEPTH}")
            return False, None
        if isinstance(x, torch.Tensor):
            t = x.detach()
            return True, t if type(t) is torch.Tensor else t.as_subclass(torch.Tensor)
        if isinstance(x, torch.Size | torch.dtype | torch.device) or type(x) in _PLAIN_SCALARS:
            return True, x
        if isinstance(x, dict):
            out: dict[Any, Any] = OrderedDict() if isinstance(x, OrderedDict) else {}
            for k, v in x.items():
                if type(k) not in _PLAIN_SCALARS:
                    dropped.append(f"{at}/<{type(k).__name__} key>")
                    continue
                ok, value = walk(v, f"{at}/{k}", depth + 1)
                if ok:
                    out[k] = value
            return True, out
        if isinstance(x, list | tuple):
            items = []
            for i, v in enumerate(x):
                ok, value = walk(v, f"{at}[{i}]", depth + 1)
                if ok:
                    items.append(value)
            return True, (items if isinstance(x, list) else tuple(items))
        kind = type(x)
        dropped.append(f"{at or '/'}: {kind.__module__}.{kind.__qualname__}")
        return False, None

    ok, plain = walk(obj, where, 0)
    return (plain if ok else {}), dropped


def plain_file_ok(path: Path) -> bool:
    """Whether ``path`` is a torch zip file whose pickle names only torch's allowlisted globals."""
    import torch

    try:
        return not torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
    except Exception:
        return False


def plain_copy(path: str | Path, folder: str | Path, *, sha256: str | None = None) -> PlainCopy:
    """A copy of the weight file ``path`` holding only tensors and plain containers.

    ``path`` is read with :func:`load_weights` (``inert_globals``: a pickle naming a global of
    :data:`CODE_MODULES` is refused, others become placeholders, which are dropped).  The copy is
    written once, atomically, to ``folder/v<N>/<sha[:2]>/<sha256 of path>/<name of path>`` (content
    addressed: a later call for the same bytes reuses it after checking that its pickle is plain).
    """
    import torch

    from mgld_bench.fileio import file_sha256, temp_beside

    source = Path(path)
    if not source.is_file():
        raise BenchError(f"weight file {source} does not exist")
    sha = sha256 or file_sha256(source)
    target = Path(folder) / f"v{PLAIN_COPY_VERSION}" / sha[:2] / sha / source.name
    if target.is_file() and plain_file_ok(target):
        os.utime(target)  # a use, as a cache hit is: `cache prune --older-than` goes by last use
        return PlainCopy(source, sha, target, reused=True)
    obj = load_weights(source, inert_globals=True)
    plain, dropped = to_plain(obj)
    with writing(target.parent, f"a plain copy of {source.name}"):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = temp_beside(target)  # the user's umask, as every other file
        os.close(fd)
        try:
            torch.save(plain, tmp)
            if not plain_file_ok(Path(tmp)):  # to_plain let something through: never hand it on
                raise BenchError(f"the plain copy of {source} still names non-tensor globals; report this")
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return PlainCopy(source, sha, target, dropped)
