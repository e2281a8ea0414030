"""RealBasicVSRNet: image cleaning module + BasicVSR, with mmediting's state_dict layout.

The module tree mirrors mmediting 0.x (``real_basicvsr_net.py`` / ``basicvsr_net.py``) so that
the 320 ``state_dict`` entries of the official checkpoint load strictly:

* ``image_cleaning.0`` -- ResidualBlocksWithInputConv(3, 64, 20); ``image_cleaning.1`` -- conv 64->3;
* ``basicvsr.spynet`` -- SPyNet (60 conv tensors + ``mean``/``std`` buffers);
* ``basicvsr.{backward,forward}_resblocks`` -- ResidualBlocksWithInputConv(67, 64, 20);
* ``basicvsr.fusion``, ``basicvsr.upsample{1,2}.upsample_conv``, ``basicvsr.conv_hr``,
  ``basicvsr.conv_last``.

Only x4 upsampling.  Inputs are (n, t, 3, h, w) RGB in [0, 1] with h, w >= 64.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from baselines.realbasicvsr.spynet import SPyNet
from mgld_bench.flow.torch_warp import flow_warp

#: The smallest LR side the network accepts (SPyNet's 6-level pyramid; mmediting asserts it).
MIN_SIDE = 64
#: The official loop runs at most this many cleaning passes ("determined empirically").
MAX_CLEANING_PASSES = 3


class ResidualBlockNoBN(nn.Module):
    """x + conv2(relu(conv1(x))) * res_scale."""

    def __init__(self, mid_channels: int = 64, res_scale: float = 1.0) -> None:
        super().__init__()
        self.res_scale = res_scale
        self.conv1 = nn.Conv2d(mid_channels, mid_channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(mid_channels, mid_channels, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x))) * self.res_scale


class ResidualBlocksWithInputConv(nn.Module):
    """``main`` = [conv in->out 3x3, LeakyReLU(0.1), ``num_blocks`` residual blocks]."""

    def __init__(self, in_channels: int, out_channels: int = 64, num_blocks: int = 30) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, 1, 1),
            nn.LeakyReLU(negative_slope=0.1, inplace=True),
            nn.Sequential(*(ResidualBlockNoBN(out_channels) for _ in range(num_blocks))),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class PixelShufflePack(nn.Module):
    """Conv to ``out * scale**2`` channels (kept at ``upsample_conv``), then pixel shuffle."""

    def __init__(self, in_channels: int, out_channels: int, scale_factor: int, upsample_kernel: int) -> None:
        super().__init__()
        self.scale_factor = scale_factor
        self.upsample_conv = nn.Conv2d(
            in_channels,
            out_channels * scale_factor * scale_factor,
            upsample_kernel,
            padding=(upsample_kernel - 1) // 2,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.upsample_conv(x), self.scale_factor)


class BasicVSRNet(nn.Module):
    """Bidirectional recurrent propagation with SPyNet alignment and x4 pixel-shuffle upsampling."""

    def __init__(self, mid_channels: int = 64, num_blocks: int = 30) -> None:
        super().__init__()
        self.mid_channels = mid_channels
        self.spynet = SPyNet()
        self.backward_resblocks = ResidualBlocksWithInputConv(mid_channels + 3, mid_channels, num_blocks)
        self.forward_resblocks = ResidualBlocksWithInputConv(mid_channels + 3, mid_channels, num_blocks)
        self.fusion = nn.Conv2d(mid_channels * 2, mid_channels, 1, 1, 0)
        self.upsample1 = PixelShufflePack(mid_channels, mid_channels, 2, upsample_kernel=3)
        self.upsample2 = PixelShufflePack(mid_channels, 64, 2, upsample_kernel=3)
        self.conv_hr = nn.Conv2d(64, 64, 3, 1, 1)
        self.conv_last = nn.Conv2d(64, 3, 3, 1, 1)
        self.img_upsample = nn.Upsample(scale_factor=4, mode="bilinear", align_corners=False)
        self.lrelu = nn.LeakyReLU(negative_slope=0.1, inplace=True)

    @staticmethod
    def is_mirror_extended(lrs: torch.Tensor) -> bool:
        """True when the clip is an even-length palindrome (then forward flows reuse backward ones)."""
        t = lrs.size(1)
        if t % 2 != 0:
            return False
        first, second = torch.chunk(lrs, 2, dim=1)
        return bool(torch.norm(first - second.flip(1)) == 0)

    def compute_flow(self, lrs: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor]:
        """(forward flows or None when mirror-extended, backward flows), each (n, t-1, 2, h, w).

        ``flows_backward[:, i]`` is the flow from frame i to frame i+1; ``flows_forward[:, i]``
        the flow from frame i+1 to frame i.
        """
        n, t, c, h, w = lrs.shape
        a = lrs[:, :-1].reshape(-1, c, h, w)
        b = lrs[:, 1:].reshape(-1, c, h, w)
        flows_backward = self.spynet(a, b).view(n, t - 1, 2, h, w)
        flows_forward = None if self.is_mirror_extended(lrs) else self.spynet(b, a).view(n, t - 1, 2, h, w)
        return flows_forward, flows_backward

    def iter_forward(self, lrs: torch.Tensor) -> Iterator[torch.Tensor]:
        """Yield the SR frames (n, 3, 4h, 4w) in order; the backward pass runs before the first."""
        n, t, _, h, w = lrs.shape
        if h < MIN_SIDE or w < MIN_SIDE:
            raise ValueError(f"BasicVSR needs LR frames of at least {MIN_SIDE}x{MIN_SIDE}, got {w}x{h}")
        if t > 1:
            flows_forward, flows_backward = self.compute_flow(lrs)
        backward: list[torch.Tensor] = []
        feat = lrs.new_zeros(n, self.mid_channels, h, w)
        for i in range(t - 1, -1, -1):
            if i < t - 1:
                feat = flow_warp(feat, flows_backward[:, i])
            feat = self.backward_resblocks(torch.cat([lrs[:, i], feat], dim=1))
            backward.append(feat)
        backward.reverse()

        feat = torch.zeros_like(feat)
        for i in range(t):
            lr = lrs[:, i]
            if i > 0:
                flow = flows_forward[:, i - 1] if flows_forward is not None else flows_backward[:, -i]
                feat = flow_warp(feat, flow)
            feat = self.forward_resblocks(torch.cat([lr, feat], dim=1))
            out = self.lrelu(self.fusion(torch.cat([backward[i], feat], dim=1)))
            backward[i] = None  # type: ignore[call-overload]  # free the LR feature early
            out = self.lrelu(self.upsample1(out))
            out = self.lrelu(self.upsample2(out))
            out = self.lrelu(self.conv_hr(out))
            out = self.conv_last(out)
            yield out + self.img_upsample(lr)

    def forward(self, lrs: torch.Tensor) -> torch.Tensor:
        return torch.stack(list(self.iter_forward(lrs)), dim=1)


class RealBasicVSRNet(nn.Module):
    """RealBasicVSR: a dynamic image-cleaning loop followed by BasicVSR.

    ``dynamic_refine_thres`` is on the 0-255 scale: cleaning repeats (at most 3 passes) while
    the mean absolute residue is at least ``thres / 255``.  The default 255 (the official
    inference setting) therefore always stops after one pass.
    """

    def __init__(
        self,
        mid_channels: int = 64,
        num_propagation_blocks: int = 20,
        num_cleaning_blocks: int = 20,
        dynamic_refine_thres: float = 255.0,
        is_sequential_cleaning: bool = False,
    ) -> None:
        super().__init__()
        self.dynamic_refine_thres = dynamic_refine_thres / 255.0
        self.is_sequential_cleaning = is_sequential_cleaning
        self.image_cleaning = nn.Sequential(
            ResidualBlocksWithInputConv(3, mid_channels, num_cleaning_blocks),
            nn.Conv2d(mid_channels, 3, 3, 1, 1, bias=True),
        )
        self.basicvsr = BasicVSRNet(mid_channels, num_propagation_blocks)
        self.basicvsr.spynet.requires_grad_(False)

    def clean(self, lqs: torch.Tensor) -> tuple[torch.Tensor, int]:
        """The cleaned clip and the number of cleaning passes run.

        Sequential cleaning runs the cleaning module one frame at a time (less memory, same
        result); unlike mmediting it does not modify the caller's tensor in place.
        """
        n, t, c, h, w = lqs.shape
        passes = 0
        for _ in range(MAX_CLEANING_PASSES):
            passes += 1
            if self.is_sequential_cleaning:
                residues = torch.stack([self.image_cleaning(lqs[:, i]) for i in range(t)], dim=1)
            else:
                residues = self.image_cleaning(lqs.reshape(-1, c, h, w)).view(n, t, c, h, w)
            lqs = lqs + residues
            if torch.mean(torch.abs(residues)) < self.dynamic_refine_thres:
                break
        return lqs, passes

    def iter_forward(self, lqs: torch.Tensor) -> Iterator[torch.Tensor]:
        """Yield the SR frames (n, 3, 4h, 4w) one at a time."""
        cleaned, _ = self.clean(lqs)
        yield from self.basicvsr.iter_forward(cleaned)

    def forward(self, lqs: torch.Tensor, return_lqs: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        cleaned, _ = self.clean(lqs)
        out = self.basicvsr(cleaned)
        return (out, cleaned) if return_lqs else out
