"""DOVER's two networks, written for mgld-bench (imported only when DOVER scores a clip).

DOVER (Wu et al., ICCV 2023, https://github.com/VQAssessment/DOVER) scores a video with two
branches: a *technical* branch (a 3-D Swin-T with fragment-aware relative position biases, fed
fragments of the frames) and an *aesthetic* branch (ConvNeXt-T inflated to 3-D, fed a resized
view).  Each branch ends in a 1x1x1-convolution head that maps every feature position to a score;
the branch score is the mean of that map.

The module and parameter names mirror the official model so that its published ``DOVER.pth``
loads with ``strict=True``.  Behaviours of the official forward pass that change numbers are
kept on purpose and noted where they happen (window sizes clipped to the feature size, the
truncated relative-position index of a clipped window, the unclamped fragment gate).
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

Size3 = tuple[int, int, int]


# ----------------------------------------------------------------------------------------------
# technical branch: 3-D Swin-T with fragment biases
# ----------------------------------------------------------------------------------------------
def _clip_window(size: Size3, window: Size3, shift: Size3) -> tuple[Size3, Size3]:
    """A window never exceeds the feature size; a dimension that fits in one window is not shifted."""
    win = tuple(s if s <= w else w for s, w in zip(size, window, strict=True))
    sh = tuple(0 if s <= w else h for s, w, h in zip(size, window, shift, strict=True))
    return win, sh  # type: ignore[return-value]


def _to_windows(x: torch.Tensor, win: Size3) -> torch.Tensor:
    """(B, D, H, W, C) -> (B * windows, Wd*Wh*Ww, C), windows in (d, h, w) raster order."""
    b, d, h, w, c = x.shape
    x = x.reshape(b, d // win[0], win[0], h // win[1], win[1], w // win[2], win[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(-1, win[0] * win[1] * win[2], c)


def _from_windows(x: torch.Tensor, win: Size3, b: int, d: int, h: int, w: int) -> torch.Tensor:
    x = x.reshape(b, d // win[0], h // win[1], w // win[2], win[0], win[1], win[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).reshape(b, d, h, w, -1)


@lru_cache(maxsize=64)
def _shift_mask(padded: Size3, win: Size3, shift: Size3, device: str) -> torch.Tensor:
    """-100 between tokens of one shifted window that came from different regions, else 0."""
    labels = []
    for size, w, s in zip(padded, win, shift, strict=True):
        lab = torch.zeros(size, dtype=torch.long)
        if s > 0:
            lab[size - w: size - s] = 1
            lab[size - s:] = 2
        labels.append(lab)
    region = (labels[0][:, None, None] * 9 + labels[1][None, :, None] * 3 + labels[2][None, None, :]).float()
    win_regions = _to_windows(region[None, ..., None], win).squeeze(-1)  # (nW, N)
    diff = win_regions[:, None, :] - win_regions[:, :, None]
    return torch.where(diff != 0, -100.0, 0.0).to(device)


@lru_cache(maxsize=64)
def _fragment_gate(padded: Size3, win: Size3, shift: Size3, device: str) -> torch.Tensor:
    """Per window, sum over axes of |fragment index difference| between token pairs (nW, N, N).

    The padded feature volume is split into 1 x Wh x Ww fragments (nearest-neighbour spread of the
    fragment grid, shifted with the window).  The gate is *not* clamped to {0, 1}: a pair two
    fragments apart weights the relative bias by 2 and the fragment bias by -1, as in the original.
    """
    grid = torch.stack(torch.meshgrid(torch.arange(1), torch.arange(win[1]), torch.arange(win[2]),
                                      indexing="ij")).float()
    idx = F.interpolate(grid[None], size=padded).long().permute(0, 2, 3, 4, 1)  # (1, D, H, W, 3)
    idx = torch.roll(idx, shifts=(-shift[0], -shift[1], -shift[2]), dims=(1, 2, 3))
    w = _to_windows(idx, win)  # (nW, N, 3)
    return (w[:, None, :, :] - w[:, :, None, :]).abs().sum(-1).to(device)


def _relative_index(win: Size3) -> torch.Tensor:
    coords = torch.stack(torch.meshgrid(*(torch.arange(n) for n in win), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
    rel = rel + torch.tensor([win[0] - 1, win[1] - 1, win[2] - 1])
    return rel[..., 0] * (2 * win[1] - 1) * (2 * win[2] - 1) + rel[..., 1] * (2 * win[2] - 1) + rel[..., 2]


class WindowAttention3D(nn.Module):
    """Multi-head self-attention inside a window, with a relative (and optional fragment) bias table."""

    def __init__(self, dim: int, window: Size3, heads: int, fragment_bias: bool) -> None:
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        n_rel = (2 * window[0] - 1) * (2 * window[1] - 1) * (2 * window[2] - 1)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(n_rel, heads))
        if fragment_bias:
            self.fragment_position_bias_table = nn.Parameter(torch.zeros(n_rel, heads))
        self.register_buffer("relative_position_index", _relative_index(window))
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def _bias(self, table: torch.Tensor, n: int) -> torch.Tensor:
        # a clipped window reads the top-left n x n block of the full window's index (original behaviour)
        rpi = self.relative_position_index[:n, :n].reshape(-1)
        return table[rpi].reshape(n, n, -1).permute(2, 0, 1)  # (heads, N, N)

    def forward(self, x: torch.Tensor, gate: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        bw, n, c = x.shape
        q, k, v = self.qkv(x).reshape(bw, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        nw = gate.shape[0]
        bias = self._bias(self.relative_position_bias_table, n)[None]
        if hasattr(self, "fragment_position_bias_table"):
            g = gate[:, None].to(attn.dtype)
            bias = bias * g + self._bias(self.fragment_position_bias_table, n)[None] * (1 - g)
        attn = (attn.reshape(bw // nw, nw, self.heads, n, n) + bias[None]).reshape(-1, self.heads, n, n)
        if mask is not None:
            attn = (attn.reshape(bw // nw, nw, self.heads, n, n) + mask[None, :, None]).reshape(-1, self.heads, n, n)
        out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(bw, n, c)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class SwinBlock3D(nn.Module):
    def __init__(self, dim: int, heads: int, window: Size3, shift: Size3, fragment_bias: bool) -> None:
        super().__init__()
        self.window = window
        self.shift = shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention3D(dim, window, heads, fragment_bias)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, 4 * dim)

    def _attend(self, x: torch.Tensor) -> torch.Tensor:
        b, d, h, w, _ = x.shape
        win, shift = _clip_window((d, h, w), self.window, self.shift)
        x = self.norm1(x)
        pads = [(-s) % n for s, n in zip((d, h, w), win, strict=True)]
        x = F.pad(x, (0, 0, 0, pads[2], 0, pads[1], 0, pads[0]))
        padded = (d + pads[0], h + pads[1], w + pads[2])
        shifted = any(s > 0 for s in shift)
        if shifted:
            x = torch.roll(x, shifts=(-shift[0], -shift[1], -shift[2]), dims=(1, 2, 3))
        dev = str(x.device)
        mask = _shift_mask(padded, win, shift, dev) if shifted else None
        gate = _fragment_gate(padded, win, shift, dev)
        out = self.attn(_to_windows(x, win), gate, mask)
        x = _from_windows(out, win, b, *padded)
        if shifted:
            x = torch.roll(x, shifts=shift, dims=(1, 2, 3))
        return x[:, :d, :h, :w].contiguous()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self._attend(x)
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2], x.shape[3]
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        parts = [x[:, :, i::2, j::2] for j, i in ((0, 0), (0, 1), (1, 0), (1, 1))]
        return self.reduction(self.norm(torch.cat(parts, -1)))


class SwinStage(nn.Module):
    def __init__(self, dim: int, depth: int, heads: int, window: Size3, fragment_bias: bool,
                 merge: bool) -> None:
        super().__init__()
        half = (window[0] // 2, window[1] // 2, window[2] // 2)
        self.blocks = nn.ModuleList(
            SwinBlock3D(dim, heads, window, (0, 0, 0) if i % 2 == 0 else half, fragment_bias) for i in range(depth)
        )
        self.downsample = PatchMerging(dim) if merge else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, D, H, W)
        x = x.permute(0, 2, 3, 4, 1)
        for blk in self.blocks:
            x = blk(x)
        if self.downsample is not None:
            x = self.downsample(x)
        return x.permute(0, 4, 1, 2, 3)


class PatchEmbed3D(nn.Module):
    def __init__(self, patch: Size3 = (2, 4, 4), dim: int = 96) -> None:
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv3d(3, dim, kernel_size=patch, stride=patch)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d, h, w = x.shape[2:]
        pd, ph, pw = ((-d) % self.patch[0], (-h) % self.patch[1], (-w) % self.patch[2])
        x = F.pad(x, (0, pw, 0, ph, 0, pd))
        x = self.proj(x)
        return self.norm(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)


class TechnicalSwin3D(nn.Module):
    """Swin-T 3-D (patch 2x4x4, window 8x7x7, depths 2-2-6-2) with fragment biases in stages 1-3."""

    def __init__(self, dim: int = 96, depths: tuple[int, ...] = (2, 2, 6, 2), heads: tuple[int, ...] = (3, 6, 12, 24),
                 window: Size3 = (8, 7, 7), fragment_biases: tuple[bool, ...] = (True, True, True, False)) -> None:
        super().__init__()
        self.patch_embed = PatchEmbed3D((2, 4, 4), dim)
        self.layers = nn.ModuleList(
            SwinStage(dim * 2**i, depths[i], heads[i], window, fragment_biases[i], i < len(depths) - 1)
            for i in range(len(depths))
        )
        self.norm = nn.LayerNorm(dim * 2 ** (len(depths) - 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x)
        for layer in self.layers:
            x = layer(x.contiguous())
        return self.norm(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)


# ----------------------------------------------------------------------------------------------
# aesthetic branch: ConvNeXt-T inflated to 3-D
# ----------------------------------------------------------------------------------------------
class ChannelsFirstNorm(nn.Module):
    """Layer norm over the channel axis of (N, C, ...), written out as the original computes it."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mu = x.mean(1, keepdim=True)
        var = (x - mu).pow(2).mean(1, keepdim=True)
        x = (x - mu) / torch.sqrt(var + self.eps)
        shape = (-1,) + (1,) * (x.dim() - 2)
        return self.weight.reshape(shape) * x + self.bias.reshape(shape)


class ConvNeXtBlock3D(nn.Module):
    def __init__(self, dim: int, t_kernel: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv3d(dim, dim, kernel_size=(t_kernel, 7, 7), padding=(t_kernel // 2, 3, 3), groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 4, 1)
        y = self.gamma * self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + y.permute(0, 4, 1, 2, 3)


class AestheticConvNeXt3D(nn.Module):
    """ConvNeXt-T (depths 3-3-9-3) with 3-D stem (2x4x4) and temporal kernels 1,3,1,1,3,1,..."""

    def __init__(self, depths: tuple[int, ...] = (3, 3, 9, 3), dims: tuple[int, ...] = (96, 192, 384, 768),
                 t_kernels: str = "131") -> None:
        super().__init__()
        self.downsample_layers = nn.ModuleList()
        self.downsample_layers.append(nn.Sequential(nn.Conv3d(3, dims[0], (2, 4, 4), (2, 4, 4)),
                                                    ChannelsFirstNorm(dims[0])))
        for i in range(3):
            self.downsample_layers.append(nn.Sequential(ChannelsFirstNorm(dims[i]),
                                                        nn.Conv3d(dims[i], dims[i + 1], (1, 2, 2), (1, 2, 2))))
        self.stages = nn.ModuleList(
            nn.Sequential(*(ConvNeXtBlock3D(dims[i], int(t_kernels[j % len(t_kernels)])) for j in range(depths[i])))
            for i in range(4)
        )
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for down, stage in zip(self.downsample_layers, self.stages, strict=True):
            x = stage(down(x))
        return self.norm(x.permute(0, 2, 3, 4, 1)).permute(0, 4, 1, 2, 3)


# ----------------------------------------------------------------------------------------------
class ScoreHead(nn.Module):
    """Per-position regression: 1x1x1 conv 768 -> 64, GELU, 1x1x1 conv 64 -> 1 (dropout is off at inference)."""

    def __init__(self, in_channels: int = 768, hidden: int = 64) -> None:
        super().__init__()
        self.fc_hid = nn.Conv3d(in_channels, hidden, 1)
        self.fc_last = nn.Conv3d(hidden, 1, 1)
        self.gelu = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc_last(self.gelu(self.fc_hid(x)))


class DOVERNet(nn.Module):
    """Both branches and heads; ``forward`` returns the raw (technical, aesthetic) branch scores."""

    def __init__(self) -> None:
        super().__init__()
        self.technical_backbone = TechnicalSwin3D()
        self.aesthetic_backbone = AestheticConvNeXt3D()
        self.technical_head = ScoreHead()
        self.aesthetic_head = ScoreHead()

    @torch.no_grad()
    def branch(self, name: str, clips: torch.Tensor) -> float:
        """Mean of the branch's score map over its clips (N, 3, T, H, W), normalised input."""
        feat = getattr(self, f"{name}_backbone")(clips)
        return float(getattr(self, f"{name}_head")(feat).double().mean())


#: DOVER's score-level fusion: raw branch scores are standardised with these (mean, std) and mixed.
FUSION = {"technical": (0.1107, 0.07355, 0.6104), "aesthetic": (-0.08285, 0.03774, 0.3896)}


def fuse(technical: float, aesthetic: float) -> dict[str, float]:
    """Raw branch scores -> the [0, 1] technical, aesthetic and overall scores (sigmoid of z-scores)."""
    t = (technical - FUSION["technical"][0]) / FUSION["technical"][1]
    a = (aesthetic - FUSION["aesthetic"][0]) / FUSION["aesthetic"][1]
    x = FUSION["technical"][2] * t + FUSION["aesthetic"][2] * a

    def sig(v: float) -> float:
        return 1.0 / (1.0 + math.exp(-v))

    return {"technical": sig(t), "aesthetic": sig(a), "overall": sig(x)}


def state_dict_keys() -> list[str]:
    """Names of every tensor the network expects (for messages about a wrong file)."""
    return list(DOVERNet().state_dict())


__all__ = ["FUSION", "DOVERNet", "fuse", "state_dict_keys"]
