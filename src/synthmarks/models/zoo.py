"""Model constructors by name; :func:`synthmarks.models.build_model` is the public entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from synthmarks.models.backbones import MobileNetV3, ResNet18, ShuffleNetV2, StackedHourglass
from synthmarks.models.base import LandmarkModel
from synthmarks.models.heatmap import BackboneDeconv, HeatmapModel
from synthmarks.models.layers import make_divisible
from synthmarks.models.pipnet import PIPNetModel
from synthmarks.models.regression import RegressionModel


def regress_mbv3s(
    num_points: int,
    input_size: int,
    width_mult: float = 1.0,
    expand_channels: list[int] | None = None,
    **kw: Any,
) -> LandmarkModel:
    """MobileNetV3-small + 1x1 576 + pooled MLP regression (Wing loss by default).

    ``expand_channels`` (here and in the other MobileNetV3 models): per-block hidden widths of a
    channel-pruned backbone, see :mod:`synthmarks.models.prune`.
    """
    kw.setdefault("last_channels", make_divisible(576 * width_mult))
    backbone = MobileNetV3("small", width_mult, expand_channels=expand_channels)
    return RegressionModel(backbone, num_points, input_size, **kw)


def regress_mbv3l(
    num_points: int,
    input_size: int,
    width_mult: float = 0.75,
    expand_channels: list[int] | None = None,
    **kw: Any,
) -> LandmarkModel:
    """MobileNetV3-large (width 0.75 by default) + regression, like :func:`regress_mbv3s`."""
    kw.setdefault("last_channels", make_divisible(960 * width_mult))
    backbone = MobileNetV3("large", width_mult, expand_channels=expand_channels)
    return RegressionModel(backbone, num_points, input_size, **kw)


def heatmap_shufflenet(
    num_points: int, input_size: int, width_mult: float = 1.0, head_channels: int = 128, **kw: Any
) -> LandmarkModel:
    """ShuffleNetV2 + depthwise-deconvolution head, heatmaps at stride 4."""
    net = BackboneDeconv(ShuffleNetV2(width_mult), num_points, head_channels)
    return HeatmapModel(net, num_points, input_size, stride=4, **kw)


def hourglass2(
    num_points: int,
    input_size: int,
    channels: int = 128,
    stacks: int = 2,
    depth: int = 3,
    **kw: Any,
) -> LandmarkModel:
    """2-stack hourglass, CoordConv stem, coordinate attention, sub-pixel Gaussian targets,
    dilated-mask weighted MSE."""
    net = StackedHourglass(num_points, channels, stacks, depth)
    return HeatmapModel(net, num_points, input_size, stride=4, **kw)


def pipnet_mbv3s(
    num_points: int,
    input_size: int,
    width_mult: float = 0.75,
    stride: int = 16,
    expand_channels: list[int] | None = None,
    **kw: Any,
) -> LandmarkModel:
    """PIPNet on MobileNetV3-small, width 0.75, stride 16 (8x8 grid at 128 px): the default.

    2.4 MB. Width 1.0 is 3.9 MB for ~1.5x the FLOPs; stride 32 (4x4 grid) halves the FLOPs but
    leaves each 32 px cell to the offsets alone - PIPNet's own setting is an 8x8 grid.
    """
    backbone = MobileNetV3("small", width_mult, stride, expand_channels)
    return PIPNetModel(backbone, num_points, input_size, **kw)


def pipnet_mbv3l(
    num_points: int,
    input_size: int,
    width_mult: float = 1.0,
    stride: int = 16,
    expand_channels: list[int] | None = None,
    **kw: Any,
) -> LandmarkModel:
    """PIPNet on MobileNetV3-large."""
    backbone = MobileNetV3("large", width_mult, stride, expand_channels)
    return PIPNetModel(backbone, num_points, input_size, **kw)


def pipnet_shufflenet(
    num_points: int, input_size: int, width_mult: float = 1.0, stride: int = 16, **kw: Any
) -> LandmarkModel:
    """PIPNet on ShuffleNetV2."""
    return PIPNetModel(ShuffleNetV2(width_mult, stride), num_points, input_size, **kw)


def pipnet_resnet18(
    num_points: int, input_size: int, width_mult: float = 0.5, stride: int = 16, **kw: Any
) -> LandmarkModel:
    """PIPNet on ResNet-18 at half width (full width is 45 MB, over the 15 MB budget)."""
    return PIPNetModel(ResNet18(width_mult, stride), num_points, input_size, **kw)


BUILDERS: dict[str, Callable[..., LandmarkModel]] = {
    "regress_mbv3s": regress_mbv3s,
    "regress_mbv3l": regress_mbv3l,
    "heatmap_shufflenet": heatmap_shufflenet,
    "hourglass2": hourglass2,
    "pipnet_mbv3s": pipnet_mbv3s,
    "pipnet_mbv3l": pipnet_mbv3l,
    "pipnet_shufflenet": pipnet_shufflenet,
    "pipnet_resnet18": pipnet_resnet18,
}
