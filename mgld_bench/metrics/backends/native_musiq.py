"""mgld-bench's own MUSIQ network (Ke et al., ICCV 2021): the ``native`` backend of ``musiq``.

A plain ``torch.nn`` module filled from the checkpoint pyiqa reads (``musiq_koniq_ckpt-*.pth``;
the parameter names are the checkpoint's), so a MUSIQ run imports neither pyiqa nor torchvision
(about 2 s of a cold run on a CPU) and needs no optional package.

What it computes is pyiqa's MUSIQ evaluation, the multi-scale image representation of the paper:

* the frame is mapped to [-1, 1] and represented at three scales: resized (bicubic, aspect ratio
  kept) to a longer side of 224 and of 384 pixels, and at its own resolution;
* each scale is cut into 32x32 patches after TensorFlow's SAME padding (zeros, i.e. mid grey),
  in row-major order; each patch gets a hashed spatial position (its row and column mapped to a
  10x10 grid by nearest-neighbour resizing) and its scale's index;
* every patch goes through a weight-standardised ResNet stem (7x7/2 convolution, group norm,
  3x3/2 max pool, one bottleneck to 256 channels) whose 8x8x256 output, channels last, is
  embedded to 384 dimensions; a class token is prepended; 14 pre-norm transformer blocks
  (6 heads, GELU MLP of 1152) and a final layer norm follow; the head reads the class token
  (one output: the score; several: softmax, then the mean of the distribution over 1..K).

Two things are done differently, with the same values up to float32 rounding
(``tests/metrics/test_native_musiq.py`` compares with pyiqa's network on random weights):

* pyiqa pads the 224 and 384 scales to a fixed number of tokens (49, 144) and masks the padding
  out of the attention with logits of -1000, which gives them a weight of exactly 0 in float32;
  here the padding tokens are not made at all (fewer tokens, no mask);
* the standardised convolution weights and the fused query/key/value projection are computed
  once when the weights are loaded, not on every call, and attention uses
  ``scaled_dot_product_attention``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from mgld_bench.errors import BenchError

PATCH = 32
#: Longer side of each resized scale, in the order of their scale index; the frame's own
#: resolution comes last (index len(LONGER_SIDES)).
LONGER_SIDES = (224, 384)
HASH_GRID = 10
WIDTH, MLP, HEADS, LAYERS, STEM = 384, 1152, 6, 14, 64


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow SAME padding of one axis: (before, after), the odd pixel after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class _StdConv(nn.Conv2d):
    """A convolution whose kernel is standardised per output channel (weight standardisation:
    zero mean, unit unbiased std + 1e-5) and that pads as TensorFlow's SAME.  :meth:`freeze`
    standardises the loaded kernel once."""

    def freeze(self) -> None:
        w = self.weight
        w = w - w.mean((1, 2, 3), keepdim=True)
        self.weight.data = w / (w.std((1, 2, 3), keepdim=True) + 1e-5)

    def forward(self, x: Any) -> Any:
        (k, _), (s, _) = self.kernel_size, self.stride
        top, bottom = _same_padding(x.shape[-2], k, s)
        left, right = _same_padding(x.shape[-1], k, s)
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return F.conv2d(x, self.weight, None, self.stride)


class _Bottleneck(nn.Module):
    """The stem's one residual bottleneck (1x1, 3x3, 1x1; group norms, eps 1e-4; projection)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv1, self.gn1 = _StdConv(c_in, c_in, 1, bias=False), nn.GroupNorm(32, c_in, eps=1e-4)
        self.conv2, self.gn2 = _StdConv(c_in, c_in, 3, bias=False), nn.GroupNorm(32, c_in, eps=1e-4)
        self.conv3, self.gn3 = _StdConv(c_in, c_out, 1, bias=False), nn.GroupNorm(32, c_out, eps=1e-4)
        self.conv_proj, self.gn_proj = _StdConv(c_in, c_out, 1, bias=False), nn.GroupNorm(32, c_out, eps=1e-4)

    def forward(self, x: Any) -> Any:
        skip = self.gn_proj(self.conv_proj(x))
        x = F.relu(self.gn1(self.conv1(x)))
        x = F.relu(self.gn2(self.conv2(x)))
        return F.relu(self.gn3(self.conv3(x)) + skip)


class _Attention(nn.Module):
    """Multi-head self-attention; ``query``/``key``/``value``/``out`` as in the checkpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.query, self.key, self.value = nn.Linear(WIDTH, WIDTH), nn.Linear(WIDTH, WIDTH), nn.Linear(WIDTH, WIDTH)
        self.out = nn.Linear(WIDTH, WIDTH)
        self.register_buffer("qkv_weight", torch.empty(0), persistent=False)
        self.register_buffer("qkv_bias", torch.empty(0), persistent=False)

    def freeze(self) -> None:
        self.qkv_weight = torch.cat([self.query.weight, self.key.weight, self.value.weight])
        self.qkv_bias = torch.cat([self.query.bias, self.key.bias, self.value.bias])

    def forward(self, x: Any) -> Any:
        n, t, _ = x.shape
        qkv = F.linear(x, self.qkv_weight, self.qkv_bias).view(n, t, 3, HEADS, WIDTH // HEADS)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        y = F.scaled_dot_product_attention(q, k, v)
        return self.out(y.transpose(1, 2).reshape(n, t, WIDTH))


class _MLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(WIDTH, MLP), nn.Linear(MLP, WIDTH)

    def forward(self, x: Any) -> Any:
        return self.fc2(F.gelu(self.fc1(x)))


class _Block(nn.Module):
    """Pre-norm transformer block (layer norms with eps 1e-6)."""

    def __init__(self) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(WIDTH, eps=1e-6), nn.LayerNorm(WIDTH, eps=1e-6)
        self.attention, self.mlp = _Attention(), _MLP()

    def forward(self, x: Any) -> Any:
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class _Table(nn.Module):
    """A holder of one learned table (the checkpoint's ``posembed_input.position_emb`` and
    ``scaleembed_input.scale_emb``)."""

    def __init__(self, name: str, *shape: int) -> None:
        super().__init__()
        self.register_parameter(name, nn.Parameter(torch.zeros(*shape)))


class _Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.posembed_input = _Table("position_emb", 1, HASH_GRID * HASH_GRID, WIDTH)
        self.scaleembed_input = _Table("scale_emb", len(LONGER_SIDES) + 1, WIDTH)
        self.cls = nn.Parameter(torch.zeros(1, 1, WIDTH))
        self.encoder_norm = nn.LayerNorm(WIDTH, eps=1e-6)
        self.transformer = nn.ModuleDict({f"encoderblock_{i}": _Block() for i in range(LAYERS)})


def _hashed_positions(rows: int, cols: int) -> Any:
    """Index in the 10x10 position table of each patch of a rows x cols grid, row-major: each
    axis's patch index mapped to the grid by nearest-neighbour resizing (torch's ``nearest``)."""
    grid = torch.arange(HASH_GRID, dtype=torch.float32).view(1, 1, HASH_GRID)
    r = F.interpolate(grid, size=rows, mode="nearest").view(rows, 1)
    c = F.interpolate(grid, size=cols, mode="nearest").view(1, cols)
    return (r * HASH_GRID + c).reshape(-1).long()


def _patches(img: Any) -> tuple[Any, Any]:
    """(N, 3, H, W) -> patches (N, T, 3, 32, 32) in row-major order after SAME padding, and each
    patch's hashed position (T,)."""
    n, c, h, w = img.shape
    rows, cols = math.ceil(h / PATCH), math.ceil(w / PATCH)
    top, bottom = _same_padding(h, PATCH, PATCH)
    left, right = _same_padding(w, PATCH, PATCH)
    img = F.pad(img, (left, right, top, bottom))
    tiles = img.reshape(n, c, rows, PATCH, cols, PATCH).permute(0, 2, 4, 1, 3, 5)
    return tiles.reshape(n, rows * cols, c, PATCH, PATCH), _hashed_positions(rows, cols)


def scales(x: Any) -> list[Any]:
    """The multi-scale representation of a batch (N, 3, H, W): each longer side of
    :data:`LONGER_SIDES` (sizes rounded as Python's ``round``), then the batch itself."""
    h, w = x.shape[-2:]
    out = []
    for side in LONGER_SIDES:
        ratio = side / max(h, w)
        out.append(F.interpolate(x, (round(h * ratio), round(w * ratio)), mode="bicubic", align_corners=False))
    return [*out, x]


class MUSIQNet(nn.Module):
    """MUSIQ with ``classes`` outputs (1: a score; more: a distribution over 1..K), inputs in [0, 1]."""

    def __init__(self, classes: int = 1) -> None:
        super().__init__()
        self.conv_root = _StdConv(3, STEM, 7, 2, bias=False)
        self.gn_root = nn.GroupNorm(32, STEM, eps=1e-6)
        self.block1 = _Bottleneck(STEM, STEM * 4)
        self.embedding = nn.Linear(STEM * 4 * (PATCH // 4) ** 2, WIDTH)
        self.transformer_encoder = _Encoder()
        self.classes = classes
        self.head = nn.Linear(WIDTH, classes) if classes == 1 else nn.Sequential(nn.Linear(WIDTH, classes))

    def freeze(self) -> None:
        """Precompute what depends on the weights only (after they are loaded)."""
        for m in self.modules():
            if isinstance(m, _StdConv | _Attention):
                m.freeze()

    def stem(self, patches: Any) -> Any:
        """(P, 3, 32, 32) -> (P, 8 * 8 * 256) patch tokens, channels last."""
        x = F.relu(self.gn_root(self.conv_root(patches)))
        top, bottom = _same_padding(x.shape[-2], 3, 2)
        left, right = _same_padding(x.shape[-1], 3, 2)
        x = F.max_pool2d(F.pad(x, (left, right, top, bottom)), 3, 2)
        x = self.block1(x)
        return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)

    def forward(self, x: Any) -> Any:
        enc = self.transformer_encoder
        x = (x - 0.5) * 2
        tokens, positions, scale_ids = [], [], []
        for i, img in enumerate(scales(x)):
            p, pos = _patches(img)
            tokens.append(p)
            positions.append(pos)
            scale_ids.append(torch.full_like(pos, i))
        patches = torch.cat(tokens, 1)
        n, t = patches.shape[:2]
        pos_table = enc.posembed_input.position_emb[0]
        h = self.embedding(self.stem(patches.reshape(n * t, 3, PATCH, PATCH)).view(n, t, -1))
        h = h + pos_table[torch.cat(positions).to(h.device)]
        h = h + enc.scaleembed_input.scale_emb[torch.cat(scale_ids).to(h.device)]
        h = torch.cat([enc.cls.expand(n, 1, WIDTH), h], 1)
        for block in enc.transformer.values():
            h = block(h)
        q = self.head(enc.encoder_norm(h)[:, 0])
        if self.classes == 1:
            return q[:, 0]
        dist = q.softmax(-1)
        return (dist * torch.arange(1, self.classes + 1, device=dist.device, dtype=dist.dtype)).sum(-1)


def build_musiq(path: Path) -> MUSIQNet:
    """The MUSIQ network of a checkpoint (pyiqa's ``musiq_*_ckpt-*.pth``), in eval mode."""
    from mgld_bench.metrics.backends.native_nets import fill, state_dict_of

    state = state_dict_of(path, "MUSIQ weights")
    if "head.weight" in state:
        classes = int(state["head.weight"].shape[0])
    elif "head.0.weight" in state:
        classes = int(state["head.0.weight"].shape[0])
    else:
        raise BenchError(f"{path}: no 'head.weight'; this is not a MUSIQ checkpoint, download the file again")
    with torch.device("meta"):  # shapes only: no random initialisation of ~27 M parameters
        net = MUSIQNet(classes)
    own = net.state_dict()
    missing = [k for k in own if k not in state]
    if missing:
        raise BenchError(f"{path}: no {missing[0]!r} ({len(missing)} MUSIQ weights missing); "
                         "this is not a MUSIQ checkpoint, download the file again")
    for k, v in own.items():
        if tuple(state[k].shape) != tuple(v.shape):
            raise BenchError(f"{path}: {k} has shape {tuple(state[k].shape)}, MUSIQ needs {tuple(v.shape)}; "
                             "download the file again")
    fill(net, {k: state[k] for k in own}, path, "MUSIQ")
    with torch.no_grad():
        net.freeze()
    return net
