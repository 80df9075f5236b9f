"""ShuffleNetV2 (Ma et al., ECCV 2018), features only."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from synthmarks.models.backbones.mobilenetv3 import init_weights
from synthmarks.models.layers import ConvBNAct

#: Output channels of stages 2-4 per width multiplier (Table 5 of the paper).
STAGE_CHANNELS: dict[float, tuple[int, int, int]] = {
    0.5: (48, 96, 192),
    1.0: (116, 232, 464),
    1.5: (176, 352, 704),
    2.0: (244, 488, 976),
}
STAGE_REPEATS = (4, 8, 4)


def channel_shuffle(x: Tensor, groups: int = 2) -> Tensor:
    """Interleave the channels of ``groups`` groups so information crosses the split branches."""
    b, c, h, w = x.shape
    return x.reshape(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


class ShuffleBlock(nn.Module):
    """Basic unit (split half the channels through a branch) or, when the shape changes, the
    down-sampling unit (both branches see all channels)."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.split = stride == 1 and in_ch == out_ch
        branch_ch = out_ch // 2
        branch_in = in_ch // 2 if self.split else in_ch
        self.shortcut: nn.Module = nn.Identity()
        if not self.split:
            self.shortcut = nn.Sequential(
                ConvBNAct(in_ch, in_ch, 3, stride, groups=in_ch, act=None),
                ConvBNAct(in_ch, branch_ch, 1),
            )
        self.branch = nn.Sequential(
            ConvBNAct(branch_in, branch_ch, 1),
            ConvBNAct(branch_ch, branch_ch, 3, stride, groups=branch_ch, act=None),
            ConvBNAct(branch_ch, branch_ch, 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        if self.split:
            a, b = x.chunk(2, dim=1)
            out = torch.cat([a, self.branch(b)], dim=1)
        else:
            out = torch.cat([self.shortcut(x), self.branch(x)], dim=1)
        return channel_shuffle(out)


class ShuffleNetV2(nn.Module):
    """ShuffleNetV2 features after stage 4 (the 1x1 conv5 is left to the heads)."""

    def __init__(self, width_mult: float = 1.0, output_stride: int = 32) -> None:
        super().__init__()
        channels = STAGE_CHANNELS[width_mult]
        layers: list[nn.Module] = [ConvBNAct(3, 24, 3, 2), nn.MaxPool2d(3, 2, 1)]
        in_ch, stride = 24, 4
        for out_ch, repeats in zip(channels, STAGE_REPEATS, strict=True):
            first_stride = 2 if stride * 2 <= output_stride else 1
            stride *= first_stride
            layers.append(ShuffleBlock(in_ch, out_ch, first_stride))
            layers += [ShuffleBlock(out_ch, out_ch, 1) for _ in range(repeats - 1)]
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.out_channels = in_ch
        self.stride = stride
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)
