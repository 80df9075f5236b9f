"""Model constructors by name, each with what it needs and supports; the public entry is
:func:`synthmarks.models.build_model`.

A :class:`ZooEntry` declares what callers would otherwise find out by trying: whether the builder
takes the training set's mean shape (the trainer passes it to those that do), whether its backbone
can be channel-pruned (:mod:`synthmarks.models.prune`), and which input sizes it accepts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synthmarks.models.backbones import (
    MobileNetV3,
    ResNet18,
    ResNet50,
    ShuffleNetV2,
    StackedHourglass,
)
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
    squeeze_excite: bool = True,
    **kw: Any,
) -> LandmarkModel:
    """MobileNetV3-small + 1x1 576 + pooled MLP regression (Wing loss by default).

    ``expand_channels`` (here and in the other MobileNetV3 models): per-block hidden widths of a
    channel-pruned backbone; ``squeeze_excite=False``: a backbone whose gates were folded away.
    Both are written by :mod:`synthmarks.models.prune` into the model config.
    """
    kw.setdefault("last_channels", make_divisible(576 * width_mult))
    backbone = MobileNetV3(
        "small", width_mult, expand_channels=expand_channels, squeeze_excite=squeeze_excite
    )
    return RegressionModel(backbone, num_points, input_size, **kw)


def regress_mbv3l(
    num_points: int,
    input_size: int,
    width_mult: float = 0.75,
    expand_channels: list[int] | None = None,
    squeeze_excite: bool = True,
    **kw: Any,
) -> LandmarkModel:
    """MobileNetV3-large (width 0.75 by default) + regression, like :func:`regress_mbv3s`."""
    kw.setdefault("last_channels", make_divisible(960 * width_mult))
    backbone = MobileNetV3(
        "large", width_mult, expand_channels=expand_channels, squeeze_excite=squeeze_excite
    )
    return RegressionModel(backbone, num_points, input_size, **kw)


def regress_resnet50(
    num_points: int,
    input_size: int,
    output_stride: int = 32,
    last_channels: int | None = None,
    hidden: int | None = None,
    **kw: Any,
) -> LandmarkModel:
    """Standard ResNet-50 + global mean + one linear layer to 2N: direct regression as the
    literature's reference (Wing loss by default).

    A comparison point, not a deployment candidate: 23.8 M parameters, about 91 MB in float32,
    six times the mission's 15 MB limit. Kept at full size so that its row in the architecture
    table means what the papers mean by ResNet-50.
    """
    backbone = ResNet50(output_stride)
    kw.update(last_channels=last_channels, hidden=hidden)
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
    squeeze_excite: bool = True,
    **kw: Any,
) -> LandmarkModel:
    """PIPNet on MobileNetV3-small, width 0.75, stride 16 (8x8 grid at 128 px): the default's
    family. The released default (0.6.0) is this at width 0.875 without the squeeze-excite gates
    (``configs/v3_gateless.yaml``: the same time per face, the gates' channel scales cost layout
    reorders at inference); 0.5.0 was these arguments.

    2.4 MB. Width 1.0 is 3.9 MB for ~1.5x the FLOPs; stride 32 (4x4 grid) halves the FLOPs but
    leaves each 32 px cell to the offsets alone - PIPNet's own setting is an 8x8 grid.
    """
    backbone = MobileNetV3("small", width_mult, stride, expand_channels, squeeze_excite)
    return PIPNetModel(backbone, num_points, input_size, **kw)


def pipnet_mbv3l(
    num_points: int,
    input_size: int,
    width_mult: float = 1.0,
    stride: int = 16,
    expand_channels: list[int] | None = None,
    squeeze_excite: bool = True,
    **kw: Any,
) -> LandmarkModel:
    """PIPNet on MobileNetV3-large."""
    backbone = MobileNetV3("large", width_mult, stride, expand_channels, squeeze_excite)
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


@dataclass(frozen=True)
class ZooEntry:
    """One architecture: its builder and what it needs and supports."""

    build: Callable[..., LandmarkModel]
    #: takes ``mean_shape`` (N, 2): PIPNet's neighbour table, regression's starting point
    mean_shape: bool
    #: a MobileNetV3 backbone whose builder takes ``expand_channels`` and ``squeeze_excite``,
    #: so prune_model and fold_squeeze_excite apply
    prunable: bool
    #: input sizes must be multiples of this: the backbone's total stride
    input_multiple: int = 32
    #: learns extra outputs (outline jaw points, a pose head; :class:`OutputLayout`): a
    #: per-point head (PIPNet, regression) takes 17 more points for free, a heatmap head would
    #: need 17 more full-resolution maps and has no pooled branch for the pose
    heads: bool = True


ZOO: dict[str, ZooEntry] = {
    "regress_mbv3s": ZooEntry(regress_mbv3s, mean_shape=True, prunable=True),
    "regress_mbv3l": ZooEntry(regress_mbv3l, mean_shape=True, prunable=True),
    "regress_resnet50": ZooEntry(regress_resnet50, mean_shape=True, prunable=False),
    "heatmap_shufflenet": ZooEntry(
        heatmap_shufflenet, mean_shape=False, prunable=False, heads=False
    ),
    "hourglass2": ZooEntry(hourglass2, mean_shape=False, prunable=False, heads=False),
    "pipnet_mbv3s": ZooEntry(pipnet_mbv3s, mean_shape=True, prunable=True),
    "pipnet_mbv3l": ZooEntry(pipnet_mbv3l, mean_shape=True, prunable=True),
    "pipnet_shufflenet": ZooEntry(pipnet_shufflenet, mean_shape=True, prunable=False),
    "pipnet_resnet18": ZooEntry(pipnet_resnet18, mean_shape=True, prunable=False),
}
