"""A small stacked hourglass (Newell et al., 2016) for heatmap regression.

Additions from the AWing paper (Wang et al., 2019) and later work:
* the first convolution is a CoordConv, so the network knows absolute position from the start
  (faces are centred in the crop, so position is a strong prior);
* each stack's output features pass through coordinate attention before the heatmap layer.
Every stack predicts heatmaps at stride 4; all are supervised (intermediate supervision) and the
last one is used for decoding.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from synthmarks.models.backbones.mobilenetv3 import init_weights
from synthmarks.models.layers import ConvBNAct, CoordConv2d, CoordinateAttention


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 -> 1x1 expand residual block (half-width inside)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        mid = out_ch // 2
        self.body = nn.Sequential(
            ConvBNAct(in_ch, mid, 1), ConvBNAct(mid, mid, 3), ConvBNAct(mid, out_ch, 1, act=None)
        )
        self.shortcut: nn.Module = (
            nn.Identity() if in_ch == out_ch else ConvBNAct(in_ch, out_ch, 1, act=None)
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class Hourglass(nn.Module):
    """Recursive encoder-decoder: a skip branch at this resolution plus a half-resolution
    hourglass of ``depth - 1``, merged by nearest upsampling and addition."""

    def __init__(self, depth: int, channels: int) -> None:
        super().__init__()
        self.skip = Bottleneck(channels, channels)
        self.down = Bottleneck(channels, channels)
        self.inner: nn.Module = (
            Hourglass(depth - 1, channels) if depth > 1 else Bottleneck(channels, channels)
        )
        self.up = Bottleneck(channels, channels)

    def forward(self, x: Tensor) -> Tensor:
        low = self.up(self.inner(self.down(F.max_pool2d(x, 2, 2))))
        return self.skip(x) + F.interpolate(low, scale_factor=2.0, mode="nearest")


class StackedHourglass(nn.Module):
    """Stem (CoordConv, stride 4) followed by ``stacks`` hourglasses; returns one heatmap tensor
    [B, N, S/4, S/4] per stack."""

    def __init__(
        self, num_points: int, channels: int = 128, stacks: int = 2, depth: int = 3
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            CoordConv2d(3, 64, 7, stride=2),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            Bottleneck(64, channels),
            nn.MaxPool2d(2, 2),
            Bottleneck(channels, channels),
        )
        self.hourglasses = nn.ModuleList(Hourglass(depth, channels) for _ in range(stacks))
        self.features = nn.ModuleList(
            nn.Sequential(
                Bottleneck(channels, channels),
                ConvBNAct(channels, channels, 1),
                CoordinateAttention(channels),
            )
            for _ in range(stacks)
        )
        self.heads = nn.ModuleList(nn.Conv2d(channels, num_points, 1) for _ in range(stacks))
        self.merge_features = nn.ModuleList(
            nn.Conv2d(channels, channels, 1) for _ in range(stacks - 1)
        )
        self.merge_heatmaps = nn.ModuleList(
            nn.Conv2d(num_points, channels, 1) for _ in range(stacks - 1)
        )
        self.stride = 4
        init_weights(self)
        for head in self.heads:
            nn.init.normal_(head.weight, 0.0, 0.001)

    def forward(self, x: Tensor) -> list[Tensor]:
        x = self.stem(x)
        heatmaps = []
        for i, (hourglass, features, head) in enumerate(
            zip(self.hourglasses, self.features, self.heads, strict=True)
        ):
            f = features(hourglass(x))
            h = head(f)
            heatmaps.append(h)
            if i < len(self.merge_features):
                x = x + self.merge_features[i](f) + self.merge_heatmaps[i](h)
        return heatmaps
