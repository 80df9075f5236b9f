"""ResNet-18 and ResNet-50 (He et al., 2016), features only.

At full width ResNet-18 is 11 M parameters (45 MB); ``width_mult=0.5`` (the zoo default) keeps
the depth and receptive field at a quarter of the weights so a PIPNet head fits in 15 MB.

ResNet-50 is here as the literature's reference trunk for direct coordinate regression (e.g. the
Wing-loss paper's), so it is kept at its standard layout: 3-4-6-3 bottleneck blocks, outputs of
256-512-1024-2048 channels, 23.5 M parameters (about 90 MB in float32, six times the mission's
15 MB limit). It has no width multiplier on purpose: a thinner one would no longer be the model
the published comparisons mean.
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


class Bottleneck(nn.Module):
    """1x1 reduce -> 3x3 (carries the stride) -> 1x1 expand to 4x, with an identity or 1x1
    projection shortcut.

    The stride sits on the 3x3 convolution rather than the first 1x1 (the "v1.5" placement that
    common ResNet-50 implementations use): a strided 1x1 would skip three of every four pixels.
    """

    expansion = 4

    def __init__(self, in_ch: int, mid_ch: int, stride: int) -> None:
        super().__init__()
        out_ch = mid_ch * self.expansion
        self.body = nn.Sequential(
            ConvBNAct(in_ch, mid_ch, 1),
            ConvBNAct(mid_ch, mid_ch, 3, stride),
            ConvBNAct(mid_ch, out_ch, 1, act=None),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = ConvBNAct(in_ch, out_ch, 1, stride, act=None)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.body(x) + self.shortcut(x))


#: blocks per stage and each stage's bottleneck width (its output is 4x that)
RESNET50_STAGES: tuple[tuple[int, int], ...] = ((3, 64), (4, 128), (6, 256), (3, 512))


class ResNet50(nn.Module):
    """Standard ResNet-50 features after the last stage: 2048 channels at stride 32 (or 16)."""

    def __init__(self, output_stride: int = 32) -> None:
        super().__init__()
        if output_stride not in (16, 32):
            raise ValueError(f"output_stride must be 16 or 32, got {output_stride}")
        layers: list[nn.Module] = [ConvBNAct(3, 64, 7, 2), nn.MaxPool2d(3, 2, 1)]
        in_ch, stride = 64, 4
        for i, (blocks, mid_ch) in enumerate(RESNET50_STAGES):
            first_stride = 1 if i == 0 or stride * 2 > output_stride else 2
            stride *= first_stride
            for b in range(blocks):
                layers.append(Bottleneck(in_ch, mid_ch, first_stride if b == 0 else 1))
                in_ch = mid_ch * Bottleneck.expansion
        self.features = nn.Sequential(*layers)
        self.out_channels = in_ch
        self.stride = stride
        init_weights(self)
        for m in self.modules():  # zero-init each block's last BN: every block starts as identity
            if isinstance(m, Bottleneck):
                nn.init.zeros_(m.body[2][1].weight)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)
