"""Small building blocks shared by the backbones and heads.

Everything here exports to ONNX opset 17 and runs well in channels_last: plain convolutions,
BatchNorm, ReLU/hardswish, means over spatial axes, elementwise products.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round a (width-multiplied) channel count to a multiple of ``divisor``.

    Channel counts that are multiples of 8 vectorise better on CPU; never round down by more than
    10 % so that a width multiplier keeps its meaning.
    """
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def activation(name: str | None) -> nn.Module:
    """``"relu"``, ``"hswish"`` or ``None`` (identity)."""
    if name is None:
        return nn.Identity()
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "hswish":
        return nn.Hardswish(inplace=True)
    raise ValueError(f"unknown activation {name!r}")


class ConvBNAct(nn.Sequential):
    """Conv2d (no bias) -> BatchNorm -> activation, with 'same' padding for odd kernels."""

    def __init__(
        self,
        in_ch: int,
        out_ch: int,
        kernel: int = 3,
        stride: int = 1,
        groups: int = 1,
        act: str | None = "relu",
    ) -> None:
        super().__init__(
            nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out_ch),
            activation(act),
        )


class SqueezeExcite(nn.Module):
    """Channel gating of MobileNetV3: global mean -> 1x1 -> ReLU -> 1x1 -> hard sigmoid."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, squeeze, 1)
        self.expand = nn.Conv2d(squeeze, channels, 1)

    def gate(self, x: Tensor) -> Tensor:
        """The per-channel scale (B, C, 1, 1) this block applies to ``x``."""
        g = nn.functional.adaptive_avg_pool2d(x, 1)  # = mean; exports as GlobalAveragePool,
        # which ONNX Runtime keeps in its blocked layout (ReduceMean forces two reorders)
        return nn.functional.hardsigmoid(self.expand(torch.relu(self.reduce(g))))

    def forward(self, x: Tensor) -> Tensor:
        return x * self.gate(x)


class CoordinateAttention(nn.Module):
    """Coordinate attention (Hou et al., CVPR 2021).

    Unlike squeeze-excite it keeps position along one axis while pooling the other, so the gate
    can say *where* (which rows, which columns) a landmark's evidence lies - useful for heatmaps.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        mid = max(8, channels // reduction)
        self.shared = ConvBNAct(channels, mid, 1, act="hswish")
        self.gate_h = nn.Conv2d(mid, channels, 1)
        self.gate_w = nn.Conv2d(mid, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[2], x.shape[3]
        pooled_h = x.mean(3, keepdim=True)  # [B, C, H, 1]
        pooled_w = x.mean(2, keepdim=True).transpose(2, 3)  # [B, C, W, 1]
        y = self.shared(torch.cat([pooled_h, pooled_w], dim=2))
        y_h, y_w = torch.split(y, [h, w], dim=2)
        a_h = torch.sigmoid(self.gate_h(y_h))  # [B, C, H, 1]
        a_w = torch.sigmoid(self.gate_w(y_w.transpose(2, 3)))  # [B, C, 1, W]
        return x * a_h * a_w


class CoordConv2d(nn.Module):
    """Conv2d over the input plus two channels holding x and y in [-1, 1] (Liu et al., 2018).

    Convolution is linear, so conv(cat[x, coords]) == conv_x(x) + conv_c(coords); computing the
    coordinate term on a [1, 2, H, W] map and broadcasting it over the batch avoids building a
    batch-sized coordinate tensor (cheaper, and exports to ONNX without shape arithmetic).
    """

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel, stride, kernel // 2, bias=False)
        self.coord_conv = nn.Conv2d(2, out_ch, kernel, stride, kernel // 2, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[2], x.shape[3]
        ys = torch.linspace(-1.0, 1.0, h, dtype=x.dtype, device=x.device)
        xs = torch.linspace(-1.0, 1.0, w, dtype=x.dtype, device=x.device)
        coords = torch.stack(
            [xs.view(1, w).expand(h, w), ys.view(h, 1).expand(h, w)], dim=0
        ).unsqueeze(0)
        return self.conv(x) + self.coord_conv(coords)
