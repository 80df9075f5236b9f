"""Feature extractors written for this project (no pretrained weights, no torchvision).

Every backbone is an ``nn.Module`` with ``out_channels`` and ``stride`` attributes whose forward
returns one feature map at ``stride`` (32, or 16 with ``output_stride=16``: the last
down-sampling is made stride 1, so the last stage runs at twice the resolution).
"""

from synthmarks.models.backbones.hourglass import StackedHourglass
from synthmarks.models.backbones.mobilenetv3 import MobileNetV3
from synthmarks.models.backbones.resnet import ResNet18, ResNet50
from synthmarks.models.backbones.shufflenetv2 import ShuffleNetV2

__all__ = ["MobileNetV3", "ResNet18", "ResNet50", "ShuffleNetV2", "StackedHourglass"]
