"""Weight files: what every method and metric loads, where it must lie, and how to get it.

The weights folder has the layout torch uses for ``$TORCH_HOME`` so that torchvision and pyiqa
find their files without a download: ``hub/checkpoints/`` for torchvision backbones,
``hub/pyiqa/`` for pyiqa's files and ``mgld_bench/`` for the suite's own adapters.  It is
``--weights-dir``, else ``$MGLD_BENCH_WEIGHTS``, else ``$TORCH_HOME``, else ``~/.cache/torch``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Sub-folders of the weights folder, by the consumer that reads them.
LOCATIONS = {
    "torchvision": Path("hub") / "checkpoints",
    "pyiqa": Path("hub") / "pyiqa",
    "mgld_bench": Path("mgld_bench"),
    #: OpenAI CLIP checkpoints, where pyiqa's CLIP loader looks (``<torch hub dir>/clip``).
    "clip": Path("hub") / "clip",
}


@dataclass(frozen=True)
class WeightFile:
    """One weight file, known by name, origin and expected content."""

    name: str
    url: str | None
    location: str = "mgld_bench"
    sha256: str | None = None
    size: int | None = None
    used_by: tuple[str, ...] = ()
    note: str = ""
    #: Where to get the file by hand when there is no direct ``url`` (download pages).
    source: str = ""

    def path(self, root: Path | None = None) -> Path:
        return (root or weights_dir()) / LOCATIONS[self.location] / self.name


_REGISTRY: dict[str, WeightFile] = {}


def register_weight(wf: WeightFile) -> WeightFile:
    """Declare a weight file; the same name declared twice merges ``used_by``."""
    old = _REGISTRY.get(wf.name)
    if old is not None:
        used = tuple(dict.fromkeys(old.used_by + wf.used_by))
        wf = WeightFile(
            wf.name, wf.url or old.url, wf.location, wf.sha256 or old.sha256, wf.size or old.size,
            used, wf.note or old.note, wf.source or old.source,
        )
    _REGISTRY[wf.name] = wf
    return wf


def known_weights() -> dict[str, WeightFile]:
    """Every declared weight file, by name."""
    return dict(sorted(_REGISTRY.items()))


def weights_dir() -> Path:
    """The folder weights are read from (see the module docstring for the search order)."""
    for var in ("MGLD_BENCH_WEIGHTS", "TORCH_HOME"):
        value = os.environ.get(var)
        if value:
            return Path(value).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "torch"


def set_weights_dir(path: Path) -> None:
    """Point every consumer (torch hub, torchvision, pyiqa) at ``path``.

    Must run before torch or pyiqa is imported, since pyiqa fixes its folder at import time.
    """
    path = Path(path).expanduser().resolve()
    os.environ["MGLD_BENCH_WEIGHTS"] = str(path)
    os.environ["TORCH_HOME"] = str(path)


def missing_weights(files: list[WeightFile]) -> list[str]:
    """One message per file in ``files`` that is not on disk."""
    out = []
    for wf in files:
        p = wf.path()
        if not p.is_file():
            if wf.url:
                out.append(
                    f"weight file {wf.name} missing at {p}: run `mgld-bench weights fetch {wf.name}` from {wf.url}"
                )
            else:
                where = f" from {wf.source}" if wf.source else ""
                out.append(f"weight file {wf.name} missing at {p}: download it by hand{where} and put it there")
    return out


# -- declarations: every file the built-in metrics and flow backends read --------------------
#: pyiqa's weights repository (pyiqa >= 0.1.13 downloads from here; ``HF_ENDPOINT`` changes the host).
PYIQA_URL = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/"
#: torchvision's model store (``torch.hub.load_state_dict_from_url``).
TORCHVISION_URL = "https://download.pytorch.org/models/"


def _pyiqa(name: str, used_by: tuple[str, ...], sha256: str | None = None, size: int | None = None,
           note: str = "") -> WeightFile:
    return register_weight(WeightFile(name, PYIQA_URL + name, "pyiqa", sha256, size, used_by, note))


def _torchvision(name: str, used_by: tuple[str, ...], note: str = "") -> WeightFile:
    return register_weight(WeightFile(name, TORCHVISION_URL + name, "torchvision", None, None, used_by, note))


LPIPS_ALEX_HEAD = _pyiqa(
    "LPIPS_v0.1_alex-df73285e.pth", ("lpips", "tlp"),
    sha256="df73285e35b22355a2df87cdb6b70b343713b667eddbda73e1977e0c860835c0", size=6009,
    note="LPIPS v0.1 linear layers (AlexNet); same bytes as lpips/weights/v0.1/alex.pth in the lpips wheel",
)
LPIPS_VGG_HEAD = _pyiqa(
    "LPIPS_v0.1_vgg-a78928a0.pth", ("lpips-vgg",),
    sha256="a78928a0af1e5f0fcb1f3b9e8f8c3a2a5a3de244d830ad5c1feddc79b8432868", size=7289,
    note="LPIPS v0.1 linear layers (VGG16); same bytes as lpips/weights/v0.1/vgg.pth in the lpips wheel",
)
ALEXNET = _torchvision("alexnet-owt-7be5be79.pth", ("lpips", "tlp"), note="torchvision AlexNet IMAGENET1K_V1, ~233 MB")
VGG16 = _torchvision("vgg16-397923af.pth", ("lpips-vgg", "dists"), note="torchvision VGG16 IMAGENET1K_V1, ~528 MB")
DISTS_HEAD = _pyiqa("DISTS_weights-f5e65c96.pth", ("dists",), note="DISTS alpha/beta (1x1475x1x1 each)")
NIQE_PARAMS = _pyiqa(
    "niqe_modelparameters.mat", ("niqe",),
    note="official LIVE NIQE pristine model (mu_prisparam 1x36, cov_prisparam 36x36)",
)
BRISQUE_SVM = _pyiqa("brisque_svm_weights.pth", ("brisque",), note="BRISQUE RBF-SVR (sv_coef, sv) tuple")
MUSIQ_KONIQ = _pyiqa("musiq_koniq_ckpt-e95806b9.pth", ("musiq", "musiq-koniq", "pyiqa:musiq", "pyiqa:musiq-koniq"),
                     note="MUSIQ trained on KonIQ-10k")
MUSIQ_SPAQ = _pyiqa("musiq_spaq_ckpt-358bb6af.pth", ("musiq-spaq", "pyiqa:musiq-spaq"), note="MUSIQ trained on SPAQ")
MUSIQ_AVA = _pyiqa("musiq_ava_ckpt-e8d3f067.pth", ("musiq-ava", "pyiqa:musiq-ava"), note="MUSIQ trained on AVA (1-10)")
MUSIQ_PAQ2PIQ = _pyiqa("musiq_paq2piq_ckpt-364c0c84.pth", ("musiq-paq2piq", "pyiqa:musiq-paq2piq"),
                       note="MUSIQ trained on PaQ-2-PiQ")
MANIQA_KONIQ = _pyiqa("ckpt_koniq10k.pt", ("maniqa", "pyiqa:maniqa"),
                      note="MANIQA trained on KonIQ-10k (full model, ViT-B/8 included)")
MANIQA_KADID = _pyiqa("ckpt_kadid10k.pt", ("maniqa-kadid", "pyiqa:maniqa-kadid"), note="MANIQA trained on KADID-10k")
MANIQA_PIPAL = _pyiqa("MANIQA_PIPAL-ae6d356b.pth", ("maniqa-pipal", "pyiqa:maniqa-pipal"),
                      note="MANIQA trained on PIPAL")
CLIP_RN50 = register_weight(WeightFile(
    "RN50.pt",
    "https://openaipublic.azureedge.net/clip/models/afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt",
    "clip", "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762", None,
    ("clipiqa", "clipiqa+", "clipiqa+_rn50_512", "pyiqa:clipiqa", "pyiqa:clipiqa+", "pyiqa:clipiqa+_rn50_512"),
    "OpenAI CLIP ResNet-50 (TorchScript archive), ~244 MB",
))
CLIPIQA_PLUS_PROMPTS = _pyiqa("CLIP-IQA+_learned_prompts-603f3273.pth", ("clipiqa+", "pyiqa:clipiqa+"),
                              note="CLIP-IQA+ learned prompt context (RN50)")
CLIPIQA_PLUS_RN50_512 = _pyiqa("CLIPIQA+_RN50_512-89f5d940.pth", ("clipiqa+_rn50_512", "pyiqa:clipiqa+_rn50_512"),
                               note="CLIP-IQA+ RN50 at 512 px, with position embedding")
DOVER_WEIGHTS = register_weight(WeightFile(
    "DOVER.pth", "https://huggingface.co/teowu/DOVER/resolve/main/DOVER.pth", "mgld_bench", None, None,
    ("dover", "dover-technical", "dover-aesthetic"),
    "DOVER (technical Swin-T 3-D + aesthetic ConvNeXt-T 3-D + heads), ~220 MB; also at "
    "https://github.com/QualityAssessment/DOVER/releases/download/v0.1.0/DOVER.pth",
))
RAFT_LARGE = _torchvision(
    "raft_large_C_T_SKHT_V2-ff5fadd5.pth", ("flow:raft-large",), note="torchvision RAFT large C_T_SKHT_V2, ~20 MB"
)
RAFT_SMALL = _torchvision(
    "raft_small_C_T_V2-01064c6d.pth", ("flow:raft-small",), note="torchvision RAFT small C_T_V2, ~4 MB"
)


def require_weights(files: list[WeightFile], user: str = "") -> list[Path]:
    """Paths of ``files``; raise :class:`WeightsMissingError` for the first one not on disk, and
    :class:`~mgld_bench.weight_trust.WeightsMismatchError` for one whose sha256 differs from its
    published or recorded digest (a file met for the first time is recorded)."""
    from mgld_bench.errors import WeightsMissingError
    from mgld_bench.weight_trust import check

    paths = []
    for wf in files:
        p = wf.path()
        if not p.is_file():
            raise WeightsMissingError(wf.name, wf.url, str(p), user or ", ".join(wf.used_by))
        check(wf, p)
        paths.append(p)
    return paths
