"""Make the official MGLD-VSR classes importable on this stack -- for regenerating fixtures only.

Not used by the test suite or the package.  ``setup(repo, site)`` puts an extracted copy of
IanYeung/MGLD-VSR (commit 9aa7731) and a folder holding the two pinned pure-Python packages the
official code was written against on ``sys.path``, and installs stand-ins for what the
official modules import but never use at inference:

* ``xformers.ops.memory_efficient_attention`` -> ``F.scaled_dot_product_attention`` (so the
  official code takes its xformers branches, the only ones that repeat the text context over
  frames and the only path of ``TemporalAttention``);
* ``pytorch_lightning`` (``LightningModule`` = ``nn.Module``, ``rank_zero_only`` = identity,
  ``seed_everything``), ``mmcv``, ``clip``, ``kornia``, ``taming``, ``sklearn``, ``transformers``, ``omegaconf``,
  ``ldm.modules.encoders.transformer_utils`` (needs transformers 4.19 internals),
  ``basicsr.ops`` / ``basicsr.data`` / ``basicsr.losses`` / ``basicsr.utils.img_process_util``:
  modules whose every attribute is an inert placeholder class;
* ``basicsr``, ``basicsr.archs``, ``basicsr.utils``: shells on the real folders that do not run
  their ``__init__`` (which import every BasicSR module, mmcv-based degradations included);
* ``torchvision.transforms.functional_tensor``: alias of ``torchvision.transforms.functional``.

``site`` must hold ``einops==0.3.0`` (the official temporal layers call ``rearrange(..., t=None)``,
which only that release accepts) and ``open_clip_torch==2.0.2`` (its sequence-first text
transformer is what ``FrozenOpenCLIPEmbedder`` drives); make it with::

    pip install --no-deps --target /tmp/mgld_ref_site einops==0.3.0 open_clip_torch==2.0.2

Both paths may come from the environment: ``MGLD_OFFICIAL_REPO`` and ``MGLD_REF_SITE``.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
import types
from pathlib import Path

OFFICIAL_COMMIT = "9aa77315e8227ff1f9d54d0f64bc05335b7bb219"

# modules replaced whole by placeholder modules (and everything below them)
STUBBED = (
    "pytorch_lightning", "mmcv", "clip", "kornia", "taming", "sklearn", "xformers", "transformers",
    "omegaconf",
    "ldm.modules.encoders.transformer_utils", "basicsr.ops", "basicsr.data", "basicsr.losses",
    "basicsr.metrics", "basicsr.models", "basicsr.utils.img_process_util",
    "basicsr.utils.diffjpeg", "basicsr.utils.file_client",
)

# packages whose __init__ is skipped: (name, folder relative to the repository)
SHELLS = (("basicsr", "basicsr"), ("basicsr.archs", "basicsr/archs"), ("basicsr.utils", "basicsr/utils"))


class _Placeholder:
    """Inert stand-in for any class or function a stubbed module is asked for."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __call__(self, *args: object, **kwargs: object) -> object:
        raise RuntimeError(f"stand-in {type(self).__qualname__} was called")


class _StubModule(types.ModuleType):
    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        value = type(name, (_Placeholder,), {"__module__": self.__name__})
        setattr(self, name, value)
        return value


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if any(name == s or name.startswith(s + ".") for s in STUBBED):
            return importlib.util.spec_from_loader(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module) -> None:
        _fill(module)


def _fill(module: types.ModuleType) -> None:
    """Give the few stand-ins that are used at import or build time a real behaviour."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    name = module.__name__
    if name == "xformers.ops":
        def memory_efficient_attention(q, k, v, attn_bias=None, op=None, scale=None):
            if attn_bias is not None:
                raise NotImplementedError("attn_bias")
            return F.scaled_dot_product_attention(q, k, v, scale=scale)

        module.memory_efficient_attention = memory_efficient_attention
    elif name == "pytorch_lightning":
        class LightningModule(nn.Module):
            pass

        def seed_everything(seed: int) -> int:
            torch.manual_seed(seed)
            return seed

        module.LightningModule = LightningModule
        module.seed_everything = seed_everything
    elif name in ("pytorch_lightning.utilities", "pytorch_lightning.utilities.distributed",
                  "pytorch_lightning.utilities.rank_zero"):
        module.rank_zero_only = lambda fn: fn


def _shell(name: str, folder: Path) -> None:
    module = _StubModule(name)
    module.__path__ = [str(folder)]
    module.__file__ = str(folder / "__init__.py")
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


def setup(repo: str | os.PathLike[str] | None = None, site: str | os.PathLike[str] | None = None) -> Path:
    """Prepare imports of the official code; returns the repository path."""
    repo_path = Path(repo or os.environ.get("MGLD_OFFICIAL_REPO", ""))
    site_path = Path(site or os.environ.get("MGLD_REF_SITE", ""))
    if not (repo_path / "ldm" / "models" / "diffusion" / "ddpm.py").is_file():
        raise SystemExit(f"not an MGLD-VSR checkout: {repo_path!s} (set MGLD_OFFICIAL_REPO)")
    if not (site_path / "einops").is_dir() or not (site_path / "open_clip").is_dir():
        raise SystemExit(f"{site_path!s} lacks einops 0.3.0 / open_clip_torch 2.0.2 (set MGLD_REF_SITE)")
    if "einops" in sys.modules and not str(sys.modules["einops"].__file__).startswith(str(site_path)):
        raise SystemExit("einops was imported before official_env.setup(); call setup() first")
    for p in (str(repo_path / "scripts"), str(repo_path), str(site_path)):
        if p not in sys.path:
            sys.path.insert(0, p)
    if not any(isinstance(f, _StubFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _StubFinder())
    for name, rel in SHELLS:
        if name not in sys.modules:
            _shell(name, repo_path / rel)
    import torchvision.transforms.functional as tvf

    sys.modules.setdefault("torchvision.transforms.functional_tensor", tvf)
    import einops

    assert einops.__version__ == "0.3.0", einops.__version__
    return repo_path
