"""Optional dependencies: which install extra brings each, and one clear line when it is missing.

The core install (``pip install mgld-bench``) runs PSNR/SSIM, the temporal metrics with OpenCV
flows, and the bicubic, precomputed and external methods.  Heavier libraries come with extras:

* ``[learned]``: pyiqa, lpips, piq, spandrel (LPIPS, DISTS, NIQE, BRISQUE, MUSIQ, tLP, MS-SSIM, GMSD;
  Real-ESRGAN);
* ``[diffusion]``: diffusers, transformers, accelerate (``mgld-sd``, ``sd-x4``);
* ``[ray]``: ray;
* ``[dev]``: pytest, ruff, scikit-image, piq (the test suite; piq also comes with ``[learned]``).

Code that needs one of them calls :func:`import_extra` (or :func:`extra_availability` in an
``availability()``) instead of importing it bare, so a missing package reads as
``pyiqa is not installed (needed by musiq): pip install 'mgld-bench[learned]'``.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from mgld_bench.errors import BenchError

#: import name -> the extra that installs it.
EXTRAS: dict[str, str] = {
    "pyiqa": "learned",
    "lpips": "learned",
    "piq": "learned",
    "spandrel": "learned",
    "diffusers": "diffusion",
    "transformers": "diffusion",
    "accelerate": "diffusion",
    "ray": "ray",
    "skimage": "dev",
}


class MissingExtraError(BenchError):
    """An optional package is not installed; the message names the ``pip install`` to run."""


def install_hint(module: str) -> str:
    """``pip install 'mgld-bench[EXTRA]'`` for ``module`` (its top-level import name)."""
    extra = EXTRAS.get(module.split(".")[0])
    return f"pip install 'mgld-bench[{extra}]'" if extra else f"pip install {module.split('.')[0]}"


def missing_message(module: str, used_by: str = "") -> str:
    needed = f" (needed by {used_by})" if used_by else ""
    return f"{module.split('.')[0]} is not installed{needed}: {install_hint(module)}"


def is_installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def extra_availability(*modules: str, used_by: str = "") -> tuple[bool, str]:
    """(True, "") when every module is installed; else (False, the one-line install hint)."""
    for module in modules:
        if not is_installed(module):
            return False, missing_message(module, used_by)
    return True, ""


def import_extra(module: str, used_by: str = "") -> ModuleType:
    """``importlib.import_module(module)``, or a :class:`MissingExtraError` naming the extra."""
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise  # the package is there but one of its own dependencies is broken: show that
        raise MissingExtraError(missing_message(module, used_by)) from None
