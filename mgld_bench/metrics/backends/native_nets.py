"""mgld-bench's own LPIPS (v0.1, AlexNet or VGG16 trunk) and DISTS networks: the ``native`` backend.

Plain ``torch.nn`` modules built from the layer tables below and filled from the same weight
files pyiqa reads (the torchvision ImageNet trunk, then the LPIPS linear heads or DISTS's
alpha/beta), so neither pyiqa nor torchvision is imported: a cold LPIPS run starts about 2 s
sooner on a CPU (pyiqa's import pulls in torchvision and torch's compiler stack) and the
metrics need no optional package (pyiqa is PolyForm Noncommercial).

What they compute is the published definition, run through the shared reference/compare split
(:mod:`mgld_bench.metrics.backends.split`), so this backend and ``pyiqa`` differ only by float32
rounding; ``tests/metrics/test_native_nets.py`` compares both with pyiqa and LPIPS also with the
``lpips`` package, on random weights written under the real file names.

Weights are read with :func:`mgld_bench.safeload.load_weights` (no pickle).  As in pyiqa, a key
of the head file that names a trunk parameter replaces it; unlike pyiqa, a head file that lacks
the heads (``linK.model.1.weight`` / ``alpha``, ``beta``) is refused instead of leaving them random.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from mgld_bench.errors import BenchError
from mgld_bench.metrics.backends.base import IQAModel, ModelSpec, ReferenceSplit

# Trunk layer tables: torchvision's ``features`` indices, so the ImageNet files load by name.
# ("conv", in, out, kernel, stride, padding) | ("relu",) | ("max", kernel, stride)
_ALEXNET = {
    0: ("conv", 3, 64, 11, 4, 2), 1: ("relu",), 2: ("max", 3, 2),
    3: ("conv", 64, 192, 5, 1, 2), 4: ("relu",), 5: ("max", 3, 2),
    6: ("conv", 192, 384, 3, 1, 1), 7: ("relu",),
    8: ("conv", 384, 256, 3, 1, 1), 9: ("relu",),
    10: ("conv", 256, 256, 3, 1, 1), 11: ("relu",),
}


def _vgg16_table() -> dict[int, tuple[Any, ...]]:
    table: dict[int, tuple[Any, ...]] = {}
    i, c_in = 0, 3
    for block, (width, convs) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))):
        if block:
            table[i] = ("max", 2, 2)
            i += 1
        for _ in range(convs):
            table[i], table[i + 1] = ("conv", c_in, width, 3, 1, 1), ("relu",)
            i, c_in = i + 2, width
    return table


_VGG16 = _vgg16_table()
#: Where each network cuts its trunk (torchvision indices per stage; the output of each stage
#: is one feature map of the metric).
_LPIPS_STAGES = {
    "alex": (_ALEXNET, ((0, 1), (2, 3, 4), (5, 6, 7), (8, 9), (10, 11)), (64, 192, 384, 256, 256)),
    "vgg": (_VGG16, (range(0, 4), range(4, 9), range(9, 16), range(16, 23), range(23, 30)),
            (64, 128, 256, 512, 512)),
}
#: DISTS: VGG16 with each max pool (4, 9, 16, 23) replaced by an L2 pooling of the same index.
_DISTS_STAGES = (range(0, 4), range(4, 9), range(9, 16), range(16, 23), range(23, 30))
_DISTS_CHANNELS = (3, 64, 128, 256, 512, 512)
#: The trunk each model reads (the file name of its torchvision weights is declared in weights.py).
_NETS = {"lpips": "alex", "lpips-vgg": "vgg"}


def _conv_keys(table: dict[int, tuple[Any, ...]], stages: Any, prefix: str) -> dict[str, str]:
    """torchvision ``features.I.weight/bias`` -> ``{prefix}{stage}.I.weight/bias`` for each convolution."""
    return {f"features.{i}.{p}": f"{prefix}{s}.{i}.{p}" for s, idx in enumerate(stages, 1)
            for i in idx if table[i][0] == "conv" for p in ("weight", "bias")}


def _layer(entry: tuple[Any, ...], device: Any = None) -> Any:

    kind = entry[0]
    if kind == "conv":
        _, c_in, c_out, k, s, p = entry
        return nn.Conv2d(c_in, c_out, k, stride=s, padding=p, device=device)
    if kind == "relu":
        return nn.ReLU(inplace=True)
    return nn.MaxPool2d(entry[1], entry[2])


class L2Pool(nn.Module):
    """DISTS's L2 pooling: sqrt(depthwise conv(h², normalised 3x3 Hann window) + 1e-12), stride 2,
    padding 1 (Hénaff & Simoncelli's anti-aliased pooling, as the DISTS paper)."""

    def __init__(self, channels: int) -> None:

        super().__init__()
        window = np.hanning(5)[1:-1]  # [0.5, 1, 0.5]
        g = torch.tensor(np.outer(window, window), dtype=torch.float32)
        self.register_buffer("filter", (g / g.sum())[None, None].repeat(channels, 1, 1, 1))
        self.stride, self.padding = 2, 1

    def forward(self, h: Any) -> Any:
        from mgld_bench.metrics.backends.split import l2pool

        return l2pool(self, h, inplace=False)


class _Trunk(nn.Module):
    """A trunk cut into stages ``slice1..sliceN``; ``forward`` returns every stage's output."""

    def __init__(self, table: dict[int, tuple[Any, ...]], stages: Any, device: Any = None) -> None:

        super().__init__()
        self.names = []
        for s, idx in enumerate(stages, 1):
            seq = nn.Sequential()
            for i in idx:
                seq.add_module(str(i), _layer(table[i], device))
            setattr(self, f"slice{s}", seq)
            self.names.append(f"slice{s}")

    def forward(self, x: Any) -> list[Any]:
        outs = []
        for name in self.names:
            x = getattr(self, name)(x)
            outs.append(x)
        return outs


class _Head(nn.Module):
    """One LPIPS linear head: a 1x1 convolution to one channel without bias (state-dict key
    ``model.1.weight``: the published heads were trained behind a dropout, identity at test time)."""

    def __init__(self, channels: int, device: Any = None) -> None:

        super().__init__()
        self.model = nn.Sequential(nn.Identity(), nn.Conv2d(channels, 1, 1, bias=False, device=device))

    def forward(self, x: Any) -> Any:
        return self.model(x)


class _Scaling(nn.Module):
    """LPIPS v0.1's input scaling of [-1, 1] images: (x - shift) / scale per channel."""

    def __init__(self) -> None:

        super().__init__()
        self.register_buffer("shift", torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1))

    def forward(self, x: Any) -> Any:
        return (x - self.shift) / self.scale


class LPIPSNet(nn.Module):
    """LPIPS v0.1 (linear heads, spatially averaged), inputs in [0, 1]; the attributes the split
    uses: ``scaling_layer``, ``version``, ``net`` (the trunk), ``L``, ``lins``."""

    version = "0.1"

    def __init__(self, trunk: str, device: Any = None) -> None:

        super().__init__()
        table, stages, channels = _LPIPS_STAGES[trunk]
        self._table, self._stages = table, stages
        self.scaling_layer = _Scaling()
        self.net = _Trunk(table, stages, device)
        self.L = len(channels)
        for k, c in enumerate(channels):
            setattr(self, f"lin{k}", _Head(c, device))

    @property
    def lins(self) -> list[Any]:
        """The heads in stage order (a plain list: the heads are registered once, as ``linK``)."""
        return [getattr(self, f"lin{k}") for k in range(self.L)]

    def trunk_keys(self) -> dict[str, str]:
        """torchvision ``features.I.*`` name -> this module's parameter name."""
        return _conv_keys(self._table, self._stages, "net.slice")

    def head_keys(self) -> list[str]:
        return [f"lin{k}.model.1.weight" for k in range(self.L)]


class DISTSNet(nn.Module):
    """DISTS (VGG16 with L2 pooling; structure and texture terms weighted by alpha/beta), inputs
    in [0, 1]; the attributes the split uses: ``stage1..5``, ``mean``, ``std``, ``alpha``,
    ``beta``, ``chns``."""

    def __init__(self, device: Any = None) -> None:

        super().__init__()
        for s, idx in enumerate(_DISTS_STAGES, 1):
            seq = nn.Sequential()
            for i in idx:
                entry = _VGG16[i]
                seq.add_module(str(i), L2Pool(_DISTS_CHANNELS[s - 1]) if entry[0] == "max" else _layer(entry, device))
            setattr(self, f"stage{s}", seq)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.chns = list(_DISTS_CHANNELS)
        self.alpha = nn.Parameter(torch.zeros(1, sum(self.chns), 1, 1), requires_grad=False)
        self.beta = nn.Parameter(torch.zeros(1, sum(self.chns), 1, 1), requires_grad=False)

    def trunk_keys(self) -> dict[str, str]:
        return _conv_keys(_VGG16, _DISTS_STAGES, "stage")

    def head_keys(self) -> list[str]:
        return ["alpha", "beta"]


def state_dict_of(path: Path, what: str) -> dict[str, Any]:
    from mgld_bench.safeload import load_weights

    obj = load_weights(path, map_location="cpu")
    if not isinstance(obj, dict) or not all(hasattr(v, "shape") for v in obj.values()):
        raise BenchError(f"{path}: expected a state dict of tensors ({what}); download the file again")
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in obj.items()}


def build(model: str, trunk_file: Path, head_file: Path) -> Any:
    """The network of ``model`` (``lpips``, ``lpips-vgg`` or ``dists``) with its weights, in eval mode."""

    # convolutions on the meta device (shapes only: no random initialisation to throw away),
    # then the file's tensors are put in place; the constant buffers are made as usual
    net = DISTSNet("meta") if model == "dists" else LPIPSNet(_NETS[model], "meta")
    own = net.state_dict()
    state: dict[str, Any] = {}
    trunk = state_dict_of(trunk_file, "torchvision ImageNet weights")
    for src, dst in net.trunk_keys().items():
        if src not in trunk:
            raise BenchError(f"{trunk_file}: no {src!r}; this is not torchvision's ImageNet trunk for {model}")
        state[dst] = trunk[src]
    head = state_dict_of(head_file, f"{model} head weights")
    missing = [k for k in net.head_keys() if k not in head]
    if missing:
        raise BenchError(f"{head_file}: no {', '.join(missing)}; this is not the {model} weight file")
    state.update({k: v for k, v in head.items() if k in own})  # as pyiqa: the head file wins
    for k, v in state.items():
        if tuple(v.shape) != tuple(own[k].shape):
            raise BenchError(f"{head_file if k in head else trunk_file}: {k} has shape {tuple(v.shape)}, "
                             f"{model} needs {tuple(own[k].shape)}; download the file again")
    return fill(net, {**own, **state}, head_file, model)


def fill(net: Any, tensors: dict[str, Any], path: Path, what: str) -> Any:
    """Put ``tensors`` (float32) in place of ``net``'s parameters and buffers, built on the meta
    device; frozen, in eval mode.  A tensor still on the meta device afterwards is an error naming
    ``path`` (a parameter no file gave a value)."""
    with torch.no_grad():
        net.load_state_dict({k: v.float() for k, v in tensors.items()}, strict=True, assign=True)
    unfilled = [k for k, v in net.state_dict().items() if v.is_meta]
    if unfilled:
        raise BenchError(f"{path}: {what} weights without a value for {unfilled[0]}; download the file again")
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


def load_native(spec: ModelSpec, device: str) -> IQAModel:
    """The ``native`` backend's loader (``LOADER_TARGETS``): LPIPS-alex/-vgg, DISTS and MUSIQ
    (``native_musiq.py``)."""
    from mgld_bench.metrics.backends.split import dists_split, lpips_split

    if spec.pyiqa_name not in (*_NETS, "dists", "musiq") or spec.model_file is None:
        raise BenchError(f"{spec.metric}: the native backend computes lpips, lpips-vgg, dists and musiq; "
                         "use backend=pyiqa for this model")
    if spec.pyiqa_name == "musiq":
        from mgld_bench.metrics.backends.native_musiq import build_musiq

        musiq = build_musiq(spec.model_file.path()).to(device)
        return IQAModel(spec, device, lambda x, _y: musiq(x))
    trunk_file = next(f for f in spec.files if f is not spec.model_file)
    net = build(spec.pyiqa_name, trunk_file.path(), spec.model_file.path()).to(device)
    split: ReferenceSplit = dists_split(net) if spec.pyiqa_name == "dists" else lpips_split(net)

    def call(x: Any, y: Any) -> Any:  # the whole model: the same operations as the split
        return split.compare(x, split.reference(y))

    return IQAModel(spec, device, call, split)
