"""Direct coordinate regression: backbone -> 1x1 expansion -> global mean -> linear -> 2N.

The linear layer predicts the *displacement from a mean shape* (zero-initialised), so training
starts from the average face instead of from all points at one spot. Confidence is not learned:
``decode`` returns ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from synthmarks.models import losses
from synthmarks.models.base import LandmarkModel, PoseHead
from synthmarks.models.layers import ConvBNAct
from synthmarks.models.mean_shape import default_mean_shape

REGRESSION_LOSSES = ("wing", "l1", "mse")


class RegressionModel(LandmarkModel):
    """Coordinate regression head.

    Losses (``loss=``) are computed in *input pixels* (normalised error x input_size), which is
    the scale Wing's ``w=10, eps=2`` were designed for: ``"wing"`` (default), ``"l1"``, ``"mse"``.

    ``last_channels=None`` drops the 1x1 expansion and ``hidden=None`` the hidden layer: a trunk
    that already ends wide (ResNet-50's 2048 channels) gets the classic head, pooled features ->
    one linear layer, instead of a bottleneck bolted on for the small MobileNets.
    """

    def __init__(
        self,
        backbone: nn.Module,
        num_points: int = 68,
        input_size: int = 128,
        loss: str = "wing",
        last_channels: int | None = 576,
        hidden: int | None = 1024,
        dropout: float = 0.1,
        wing_w: float = 10.0,
        wing_eps: float = 2.0,
        mean_shape: Any = None,
        pose: bool = False,
    ) -> None:
        super().__init__(num_points, input_size)
        if loss not in REGRESSION_LOSSES:
            raise ValueError(f"loss must be one of {REGRESSION_LOSSES}, got {loss!r}")
        self.loss_name, self.wing_w, self.wing_eps = loss, wing_w, wing_eps
        self.backbone = backbone
        self.expand: nn.Module = nn.Identity()
        if last_channels is not None:
            self.expand = ConvBNAct(backbone.out_channels, last_channels, 1, act="hswish")
        features = backbone.out_channels if last_channels is None else last_channels
        if hidden is None:
            self.fc = nn.Sequential(nn.Dropout(dropout), nn.Linear(features, num_points * 2))
        else:
            self.fc = nn.Sequential(
                nn.Linear(features, hidden),
                nn.Hardswish(inplace=True),
                nn.Dropout(dropout),
                nn.Linear(hidden, num_points * 2),
            )
        if pose:
            self.pose_head = PoseHead(features)
        nn.init.zeros_(self.fc[-1].weight)
        nn.init.zeros_(self.fc[-1].bias)
        shape = default_mean_shape(num_points) if mean_shape is None else np.asarray(mean_shape)
        self.register_buffer("mean_shape", torch.as_tensor(shape, dtype=torch.float32))

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        f = self.expand(self.backbone(x)).mean((2, 3))
        delta = self.fc(f).reshape(-1, self.num_points, 2)
        out = {"points": self.mean_shape + delta}
        if self.pose_head is not None:
            out["pose"] = self.pose_head(f)
        return out

    def predict_all(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        out = self.forward(x)
        points, scores = self.decode(out)
        return points, scores, out.get("pose")

    def encode(self, points: Tensor) -> dict[str, Tensor]:
        return {"points": points}

    def decode(self, out: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        points = out["points"]
        return points, torch.ones_like(points[..., 0])

    def loss(
        self, out: dict[str, Tensor], target: Tensor, visibility: Tensor | None = None
    ) -> tuple[Tensor, dict[str, float]]:
        pred = out["points"] * self.input_size
        tgt = target * self.input_size
        if self.loss_name == "wing":
            value = losses.wing_loss(pred, tgt, self.wing_w, self.wing_eps, weight=visibility)
        elif self.loss_name == "l1":
            value = losses.l1_loss(pred, tgt, weight=visibility)
        else:
            value = losses.mse_loss(pred, tgt, weight=visibility)
        return value, {self.loss_name: float(value.detach())}
