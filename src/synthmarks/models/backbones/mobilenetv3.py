"""MobileNetV3 small/large (Howard et al., 2019), features only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from torch import Tensor, nn

from synthmarks.models.layers import ConvBNAct, SqueezeExcite, make_divisible


class BlockSpec(NamedTuple):
    kernel: int
    expand: int
    out: int
    se: bool
    act: str
    stride: int


# Tables 1 and 2 of the paper.
SMALL: list[BlockSpec] = [
    BlockSpec(3, 16, 16, True, "relu", 2),
    BlockSpec(3, 72, 24, False, "relu", 2),
    BlockSpec(3, 88, 24, False, "relu", 1),
    BlockSpec(5, 96, 40, True, "hswish", 2),
    BlockSpec(5, 240, 40, True, "hswish", 1),
    BlockSpec(5, 240, 40, True, "hswish", 1),
    BlockSpec(5, 120, 48, True, "hswish", 1),
    BlockSpec(5, 144, 48, True, "hswish", 1),
    BlockSpec(5, 288, 96, True, "hswish", 2),
    BlockSpec(5, 576, 96, True, "hswish", 1),
    BlockSpec(5, 576, 96, True, "hswish", 1),
]
LARGE: list[BlockSpec] = [
    BlockSpec(3, 16, 16, False, "relu", 1),
    BlockSpec(3, 64, 24, False, "relu", 2),
    BlockSpec(3, 72, 24, False, "relu", 1),
    BlockSpec(5, 72, 40, True, "relu", 2),
    BlockSpec(5, 120, 40, True, "relu", 1),
    BlockSpec(5, 120, 40, True, "relu", 1),
    BlockSpec(3, 240, 80, False, "hswish", 2),
    BlockSpec(3, 200, 80, False, "hswish", 1),
    BlockSpec(3, 184, 80, False, "hswish", 1),
    BlockSpec(3, 184, 80, False, "hswish", 1),
    BlockSpec(3, 480, 112, True, "hswish", 1),
    BlockSpec(3, 672, 112, True, "hswish", 1),
    BlockSpec(5, 672, 160, True, "hswish", 2),
    BlockSpec(5, 960, 160, True, "hswish", 1),
    BlockSpec(5, 960, 160, True, "hswish", 1),
]


class InvertedResidual(nn.Module):
    """1x1 expand -> depthwise kxk -> (squeeze-excite) -> 1x1 project; residual if shapes match.

    ``expand_conv`` and ``se_channels`` default to what ``expand`` implies; a pruned block (see
    :mod:`synthmarks.models.prune`) passes them explicitly, because its hidden width no longer
    says whether the unpruned block had an expand conv or how wide its squeeze was.
    """

    def __init__(
        self,
        in_ch: int,
        expand: int,
        out_ch: int,
        kernel: int,
        stride: int,
        se: bool,
        act: str,
        expand_conv: bool | None = None,
        se_channels: int | None = None,
    ) -> None:
        super().__init__()
        if expand_conv is None:
            expand_conv = expand != in_ch
        if not expand_conv and expand != in_ch:
            raise ValueError(
                f"a block without expand conv has {in_ch} hidden channels, not {expand}"
            )
        layers: list[nn.Module] = []
        if expand_conv:
            layers.append(ConvBNAct(in_ch, expand, 1, act=act))
        layers.append(ConvBNAct(expand, expand, kernel, stride, groups=expand, act=act))
        if se:
            layers.append(SqueezeExcite(expand, se_channels or make_divisible(expand / 4)))
        layers.append(ConvBNAct(expand, out_ch, 1, act=None))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: Tensor) -> Tensor:
        y = self.block(x)
        return x + y if self.residual else y


class MobileNetV3(nn.Module):
    """MobileNetV3 features up to the last bottleneck (the 1x1 576/960 expansion and the
    classifier are left to the heads, which size them for their own needs).

    ``expand_channels`` (one per block) overrides the blocks' hidden widths: the shape of a
    channel-pruned network, stored in its model config so that checkpoints rebuild it. Only the
    hidden widths change; squeeze widths and block outputs stay those of the unpruned table.

    ``squeeze_excite=False`` drops every block's squeeze-excite: in ONNX Runtime its broadcast
    channel scale is not a blocked-layout op, so each of the small variant's nine gates reorders
    its feature map out of that layout and back (16 % of the released student's time). A trained
    network loses them through :func:`synthmarks.models.prune.fold_squeeze_excite`.
    """

    def __init__(
        self,
        variant: str = "small",
        width_mult: float = 1.0,
        output_stride: int = 32,
        expand_channels: Sequence[int] | None = None,
        squeeze_excite: bool = True,
    ) -> None:
        super().__init__()
        specs = {"small": SMALL, "large": LARGE}[variant]
        if expand_channels is not None and len(expand_channels) != len(specs):
            raise ValueError(
                f"expand_channels needs {len(specs)} values (one per block), "
                f"got {len(expand_channels)}"
            )
        stem_ch = make_divisible(16 * width_mult)
        layers: list[nn.Module] = [ConvBNAct(3, stem_ch, 3, 2, act="hswish")]
        in_ch, stride = stem_ch, 2
        for i, s in enumerate(specs):
            block_stride = s.stride if stride * s.stride <= output_stride else 1
            stride *= block_stride
            out_ch = make_divisible(s.out * width_mult)
            full = make_divisible(s.expand * width_mult)
            layers.append(
                InvertedResidual(
                    in_ch,
                    full if expand_channels is None else int(expand_channels[i]),
                    out_ch,
                    s.kernel,
                    block_stride,
                    s.se and squeeze_excite,
                    s.act,
                    expand_conv=full != in_ch,
                    se_channels=make_divisible(full / 4),
                )
            )
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.out_channels = in_ch
        self.stride = stride
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.features(x)


def init_weights(module: nn.Module) -> None:
    """He-normal convolutions, unit BatchNorm, small linear layers: the usual from-scratch init."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.01)
            nn.init.zeros_(m.bias)
