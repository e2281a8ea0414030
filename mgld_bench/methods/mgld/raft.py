"""MGLD's flow network: ``RAFT_SR`` (Princeton RAFT, 'normal' size) with the official names.

Keys are those under ``flownet_model.`` in ``mgldvsr_unet.ckpt`` (179 tensors incl. the
BatchNorm buffers of the context encoder, 5.26 M parameters; the raft-things weights).  As in
the official ``RAFT_SR``: the images go in **as given, in [0, 1], without RAFT's usual
``2x - 1`` normalisation**; both are replicate-padded to a multiple of 8 (split evenly, the
'sintel' mode); 10 GRU iterations from zero flow; convex 8x upsampling; the padding is cropped.

``MGLDRaft(cfg)(img1, img2)`` -> flow (B, 2, H, W) in pixels, (dx, dy), mapping img1's pixels
to img2 (``img1(x) ~ img2(x + flow(x))``).  In the official pipeline ``compute_flow`` calls it
as RAFT(frame i, frame i+1) and RAFT(frame i+1, frame i) on the LR as the script prepares it.
The padded size must be at least 128 x 128: below that the coarsest correlation level is
1 pixel wide and the official code divides by zero (NaN); this port raises ``ValueError``.

The module is inference-only: its BatchNorm layers always use their running statistics.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mgld_bench.methods.mgld.config import RAFTConfig

MIN_SIZE = 128  # padded height and width below this give a 1-pixel coarsest correlation level


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels)
    raise ValueError(kind)


class ResidualUnit(nn.Module):
    def __init__(self, cin: int, cout: int, norm: str, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, stride=stride)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.norm1 = _norm(norm, cout)
        self.norm2 = _norm(norm, cout)
        if stride != 1:
            self.norm3 = _norm(norm, cout)
            # the official module registers norm3 twice (also as downsample.1)
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride), self.norm3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(x)))
        y = F.relu(self.norm2(self.conv2(y)))
        if hasattr(self, "downsample"):
            x = self.downsample(x)
        return F.relu(x + y)


class FeatureEncoder(nn.Module):
    """RAFT's BasicEncoder: 1/8-resolution features."""

    def __init__(self, out_dim: int, norm: str) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3)
        self.norm1 = _norm(norm, 64)
        dims = [(64, 64, 1), (64, 96, 2), (96, 128, 2)]
        for i, (cin, cout, stride) in enumerate(dims, start=1):
            setattr(self, f"layer{i}", nn.Sequential(ResidualUnit(cin, cout, norm, stride),
                                                     ResidualUnit(cout, cout, norm, 1)))
        self.conv2 = nn.Conv2d(128, out_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.norm1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.conv2(x)


class MotionEncoder(nn.Module):
    def __init__(self, corr_planes: int) -> None:
        super().__init__()
        self.convc1 = nn.Conv2d(corr_planes, 256, 1)
        self.convc2 = nn.Conv2d(256, 192, 3, padding=1)
        self.convf1 = nn.Conv2d(2, 128, 7, padding=3)
        self.convf2 = nn.Conv2d(128, 64, 3, padding=1)
        self.conv = nn.Conv2d(64 + 192, 128 - 2, 3, padding=1)

    def forward(self, flow: torch.Tensor, corr: torch.Tensor) -> torch.Tensor:
        c = F.relu(self.convc2(F.relu(self.convc1(corr))))
        f = F.relu(self.convf2(F.relu(self.convf1(flow))))
        return torch.cat([F.relu(self.conv(torch.cat([c, f], 1))), flow], 1)


class SepConvGRU(nn.Module):
    def __init__(self, hidden: int, inp: int) -> None:
        super().__init__()
        for axis, (k, p) in (("1", ((1, 5), (0, 2))), ("2", ((5, 1), (2, 0)))):
            for gate in "zrq":
                setattr(self, f"conv{gate}{axis}", nn.Conv2d(hidden + inp, hidden, k, padding=p))

    def _step(self, h: torch.Tensor, x: torch.Tensor, axis: str) -> torch.Tensor:
        hx = torch.cat([h, x], 1)
        z = torch.sigmoid(getattr(self, f"convz{axis}")(hx))
        r = torch.sigmoid(getattr(self, f"convr{axis}")(hx))
        q = torch.tanh(getattr(self, f"convq{axis}")(torch.cat([r * h, x], 1)))
        return (1 - z) * h + z * q

    def forward(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self._step(self._step(h, x, "1"), x, "2")


class FlowHead(nn.Module):
    def __init__(self, cin: int, hidden: int = 256) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, hidden, 3, padding=1)
        self.conv2 = nn.Conv2d(hidden, 2, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(F.relu(self.conv1(x)))


class UpdateBlock(nn.Module):
    def __init__(self, corr_planes: int, hidden: int) -> None:
        super().__init__()
        self.encoder = MotionEncoder(corr_planes)
        self.gru = SepConvGRU(hidden, 128 + hidden)
        self.flow_head = FlowHead(hidden)
        self.mask = nn.Sequential(nn.Conv2d(128, 256, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(256, 64 * 9, 1))

    def forward(self, net: torch.Tensor, inp: torch.Tensor, corr: torch.Tensor,
                flow: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        net = self.gru(net, torch.cat([inp, self.encoder(flow, corr)], 1))
        return net, 0.25 * self.mask(net), self.flow_head(net)


def _pixel_grid(b: int, h: int, w: int, device: torch.device) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
    return torch.stack([xs, ys]).float()[None].expand(b, -1, -1, -1)


def _sample(img: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """Bilinear lookup at pixel coordinates (..., 2) with zero padding (align_corners=True)."""
    h, w = img.shape[-2:]
    x, y = coords.split(1, dim=-1)
    grid = torch.cat([2 * x / (w - 1) - 1, 2 * y / (h - 1) - 1], dim=-1)
    return F.grid_sample(img, grid, align_corners=True)


class MGLDRaft(nn.Module):
    """``RAFT_SR`` (see the module docstring)."""

    def __init__(self, cfg: RAFTConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or RAFTConfig.full()
        self.cfg = cfg
        self.fnet = FeatureEncoder(256, "instance")
        self.cnet = FeatureEncoder(cfg.hidden_dim + cfg.context_dim, "batch")
        self.update_block = UpdateBlock(cfg.corr_levels * (2 * cfg.corr_radius + 1) ** 2, cfg.hidden_dim)
        self.eval()

    def train(self, mode: bool = True) -> MGLDRaft:
        """Inference only: stays in eval mode (BatchNorm running statistics)."""
        return super().train(False)

    def _pyramid(self, f1: torch.Tensor, f2: torch.Tensor) -> list[torch.Tensor]:
        b, d, h, w = f1.shape
        corr = torch.matmul(f1.reshape(b, d, h * w).transpose(1, 2), f2.reshape(b, d, h * w))
        corr = (corr / torch.sqrt(torch.tensor(float(d)))).reshape(b * h * w, 1, h, w)
        levels = [corr]
        for _ in range(self.cfg.corr_levels - 1):
            corr = F.avg_pool2d(corr, 2, stride=2)
            levels.append(corr)
        return levels

    def _lookup(self, levels: list[torch.Tensor], coords: torch.Tensor) -> torch.Tensor:
        r = self.cfg.corr_radius
        b, _, h, w = coords.shape
        d = torch.linspace(-r, r, 2 * r + 1, device=coords.device)
        dy, dx = torch.meshgrid(d, d, indexing="ij")
        delta = torch.stack([dy, dx], dim=-1).view(1, 2 * r + 1, 2 * r + 1, 2)  # official (dy, dx) order
        centre = coords.permute(0, 2, 3, 1).reshape(b * h * w, 1, 1, 2)
        out = [_sample(corr, centre / 2 ** i + delta).view(b, h, w, -1) for i, corr in enumerate(levels)]
        return torch.cat(out, dim=-1).permute(0, 3, 1, 2).contiguous().float()

    @staticmethod
    def _upsample(flow: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, _, h, w = flow.shape
        mask = torch.softmax(mask.view(b, 1, 9, 8, 8, h, w), dim=2)
        up = F.unfold(8 * flow, [3, 3], padding=1).view(b, 2, 9, 1, 1, h, w)
        up = torch.sum(mask * up, dim=2).permute(0, 1, 4, 2, 5, 3)
        return up.reshape(b, 2, 8 * h, 8 * w)

    def forward(self, img1: torch.Tensor, img2: torch.Tensor, iters: int | None = None) -> torch.Tensor:
        if img1.shape != img2.shape:
            raise ValueError(f"image shapes differ: {tuple(img1.shape)} vs {tuple(img2.shape)}")
        h, w = img1.shape[-2:]
        ph, pw = -h % 8, -w % 8
        if h + ph < MIN_SIZE or w + pw < MIN_SIZE:
            raise ValueError(f"RAFT_SR needs frames of at least {MIN_SIZE}x{MIN_SIZE} px (padded to /8); "
                             f"got {h}x{w}: the official network returns NaN there")
        pad = [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2]
        img1 = F.pad(img1, pad, mode="replicate").contiguous()
        img2 = F.pad(img2, pad, mode="replicate").contiguous()
        hd = self.cfg.hidden_dim
        fmaps = self.fnet(torch.cat([img1, img2], 0)).float()
        levels = self._pyramid(*fmaps.chunk(2, dim=0))
        net, inp = torch.split(self.cnet(img1), [hd, self.cfg.context_dim], dim=1)
        net, inp = torch.tanh(net), torch.relu(inp)
        b, _, fh, fw = net.shape
        coords0 = _pixel_grid(b, fh, fw, img1.device)
        coords1 = coords0.clone()
        flow_up = coords0.new_zeros(b, 2, 8 * fh, 8 * fw)
        for _ in range(iters or self.cfg.iters):
            corr = self._lookup(levels, coords1)
            net, mask, delta = self.update_block(net, inp, corr, coords1 - coords0)
            coords1 = coords1 + delta
            flow_up = self._upsample(coords1 - coords0, mask)
        return flow_up[..., pad[2]:pad[2] + h, pad[0]:pad[0] + w]
