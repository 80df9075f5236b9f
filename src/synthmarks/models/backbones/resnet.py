"""ResNet-18 (He et al., 2016) with a width multiplier, features only.

At full width ResNet-18 is 11 M parameters (45 MB); ``width_mult=0.5`` (the zoo default) keeps
the depth and receptive field at a quarter of the weights so a PIPNet head fits in 15 MB.
"""

from __future__ import annotations

from torch import Tensor, nn

from synthmarks.models.backbones.mobilenetv3 import init_weights
from synthmarks.models.layers import ConvBNAct


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with an identity (or 1x1 projection) shortcut."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            ConvBNAct(in_ch, out_ch, 3, stride), ConvBNAct(out_ch, out_ch, 3, act=None)
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = ConvBNAct(in_ch, out_ch, 1, stride, act=None)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 features after layer4."""

    def __init__(self, width_mult: float = 1.0, output_stride: int = 32) -> None:
        super().__init__()
        widths = [max(8, int(round(c * width_mult))) for c in (64, 128, 256, 512)]
        layers: list[nn.Module] = [ConvBNAct(3, widths[0], 7, 2), nn.MaxPool2d(3, 2, 1)]
        in_ch, stride = widths[0], 4
        for i, out_ch in enumerate(widths):
            first_stride = 1 if i == 0 or stride * 2 > output_stride else 2
            stride *= first_stride
            layers += [BasicBlock(in_ch, out_ch, first_stride), BasicBlock(out_ch, out_ch, 1)]
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.out_channels = in_ch
        self.stride = stride
        init_weights(self)
        for m in self.modules():  # zero-init the last BN of each block: starts as identity
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.body[1][1].weight)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)
