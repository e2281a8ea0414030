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
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mgld_bench.errors import BenchError


class UnsafeWeightsError(BenchError):
    """A weight file whose pickle needs globals that could run code."""


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


def _torch_load(path: Path, map_location: Any) -> Any:
    import torch

    try:
        return torch.load(path, map_location=map_location, weights_only=True, mmap=True)
    except RuntimeError as exc:
        if "mmap" not in str(exc):  # only legacy-format files refuse mmap
            raise
        return torch.load(path, map_location=map_location, weights_only=True)


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
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device=str(map_location))
        except Exception as exc:
            raise BenchError(f"cannot read {path}: {type(exc).__name__}: {exc}; download it again") from None
    try:
        if allow_pickle:
            return torch.load(path, map_location=map_location, weights_only=False)
        names = unsafe_globals(path) if inert_globals else []
        for _ in range(_MAX_GLOBALS):
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
        raise UnsafeWeightsError(
            f"weight file {path} is a pickle that needs {', '.join(found[:5])}, which could run code; "
            "it was not loaded. Use a safetensors or weights-only copy, or, if you trust this file, "
            f"pass --allow-pickle {path}"
        ) from None
    except BenchError:
        raise
    except Exception as exc:
        raise BenchError(
            f"cannot read weight file {path}: {type(exc).__name__}: {_first_line(exc)}. The file is corrupt, "
            "truncated or not a PyTorch file; download it again and check its sha256"
        ) from None


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
