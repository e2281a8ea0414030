"""SPyNet (Ranjan and Black, 2017) with mmediting's module names, as used inside BasicVSR.

Module attributes are named so that ``state_dict`` keys are exactly those of mmediting's
``SPyNet``: ``basic_module.{0..5}.basic_module.{0..4}.conv.{weight,bias}`` plus the ``mean`` and
``std`` buffers (mmcv's ``ConvModule`` keeps its convolution at ``.conv``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mgld_bench.flow.torch_warp import flow_warp

#: (in, out) channels of the five 7x7 convolutions of one pyramid level.
LEVEL_CHANNELS = ((8, 32), (32, 64), (64, 32), (32, 16), (16, 2))
LEVELS = 6


class ConvAct(nn.Module):
    """A 7x7 convolution kept at ``.conv``, optionally followed by ReLU (mmcv ``ConvModule`` layout)."""

    def __init__(self, cin: int, cout: int, relu: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size=7, stride=1, padding=3)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        return F.relu(x) if self.relu else x


class SPyNetBasicModule(nn.Module):
    """One pyramid level: (reference, warped support, upsampled flow) -> flow residue."""

    def __init__(self) -> None:
        super().__init__()
        last = len(LEVEL_CHANNELS) - 1
        self.basic_module = nn.Sequential(
            *(ConvAct(cin, cout, relu=i < last) for i, (cin, cout) in enumerate(LEVEL_CHANNELS))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.basic_module(x)


class SPyNet(nn.Module):
    """Coarse-to-fine flow estimation over a 6-level image pyramid.

    ``forward(ref, supp)`` returns the flow (n, 2, h, w) from ``ref`` to ``supp``: warping
    ``supp`` with it aligns ``supp`` to ``ref``.  Inputs are RGB in [0, 1].
    """

    def __init__(self) -> None:
        super().__init__()
        self.basic_module = nn.ModuleList(SPyNetBasicModule() for _ in range(LEVELS))
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def compute_flow(self, ref: torch.Tensor, supp: torch.Tensor) -> torch.Tensor:
        """Flow for inputs whose sides are multiples of 32."""
        n, _, h, w = ref.shape
        refs = [(ref - self.mean) / self.std]
        supps = [(supp - self.mean) / self.std]
        for _ in range(LEVELS - 1):
            refs.append(F.avg_pool2d(refs[-1], kernel_size=2, stride=2, count_include_pad=False))
            supps.append(F.avg_pool2d(supps[-1], kernel_size=2, stride=2, count_include_pad=False))
        refs.reverse()
        supps.reverse()
        flow = ref.new_zeros(n, 2, h // 2 ** (LEVELS - 1), w // 2 ** (LEVELS - 1))
        for level, module in enumerate(self.basic_module):
            if level == 0:
                flow_up = flow
            else:
                flow_up = F.interpolate(flow, scale_factor=2, mode="bilinear", align_corners=True) * 2.0
            warped = flow_warp(supps[level], flow_up, padding_mode="border")
            flow = flow_up + module(torch.cat([refs[level], warped, flow_up], dim=1))
        return flow

    def forward(self, ref: torch.Tensor, supp: torch.Tensor) -> torch.Tensor:
        h, w = ref.shape[-2:]
        h_up = -(-h // 32) * 32
        w_up = -(-w // 32) * 32
        ref = F.interpolate(ref, size=(h_up, w_up), mode="bilinear", align_corners=False)
        supp = F.interpolate(supp, size=(h_up, w_up), mode="bilinear", align_corners=False)
        flow = F.interpolate(self.compute_flow(ref, supp), size=(h, w), mode="bilinear", align_corners=False)
        scale = torch.tensor([w / w_up, h / h_up], dtype=flow.dtype, device=flow.device).view(1, 2, 1, 1)
        return flow * scale
