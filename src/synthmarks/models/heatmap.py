"""Heatmap regression heads: one heatmap per landmark at stride 4, decoded to sub-pixel points.

Targets are Gaussians centred at the exact sub-pixel location ("Gaussian with offset", see
:func:`synthmarks.models.losses.gaussian_heatmaps`). Because the log of a Gaussian is a
parabola, :func:`decode_heatmaps` recovers the centre exactly from the argmax pixel and its four
neighbours (a per-axis quadratic fit of the log heatmap, as in DARK, Zhang et al. 2020) - with
only argmax, elementwise ops and sums, so it exports to ONNX.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from synthmarks.models import losses
from synthmarks.models.backbones.mobilenetv3 import init_weights
from synthmarks.models.base import LandmarkModel
from synthmarks.models.layers import ConvBNAct

HEATMAP_LOSSES = ("wmse", "awing", "mse")


def decode_heatmaps(heatmaps: Tensor) -> tuple[Tensor, Tensor]:
    """(points [B, N, 2] normalised, confidence [B, N]) from heatmaps [B, N, H, W].

    Argmax pixel + per-axis sub-pixel offset ``-(L[+1] - L[-1]) / (2 (L[+1] - 2 L[0] + L[-1]))``
    on ``L = log(max(h, 1e-4))``, clamped to +-0.5 px (and 0 on the border, where a neighbour is
    missing). Confidence is the peak value clamped to [0, 1].
    """
    b, n, h, w = heatmaps.shape
    flat = heatmaps.reshape(-1, n, h * w)
    peak, index = flat.max(dim=-1)
    px = index % w
    py = torch.div(index, w, rounding_mode="floor")
    cells = torch.arange(h * w, device=heatmaps.device)
    log_map = torch.log(flat.clamp_min(1e-4))

    def at(idx: Tensor) -> Tensor:  # log value at flat index idx [B, N] (one-hot sum: ONNX-safe)
        return (log_map * (cells == idx.unsqueeze(-1)).to(log_map.dtype)).sum(-1)

    def offset(minus: Tensor, centre: Tensor, plus: Tensor, inside: Tensor) -> Tensor:
        curvature = plus - 2.0 * centre + minus
        safe = torch.where(curvature < -1e-6, curvature, torch.full_like(curvature, -1.0))
        d = (-(plus - minus) / (2.0 * safe)).clamp(-0.5, 0.5)
        return torch.where(inside & (curvature < -1e-6), d, torch.zeros_like(d))

    centre = at(index)
    dx = offset(at(index - 1), centre, at(index + 1), (px > 0) & (px < w - 1))
    dy = offset(at(index - w), centre, at(index + w), (py > 0) & (py < h - 1))
    x = (px.to(heatmaps.dtype) + dx + 0.5) / w
    y = (py.to(heatmaps.dtype) + dy + 0.5) / h
    return torch.stack([x, y], dim=-1), peak.clamp(0.0, 1.0)


class HeatmapModel(LandmarkModel):
    """Wraps a network returning a list of heatmap tensors (one per stack; the last is decoded).

    Losses (``loss=``): ``"wmse"`` (default, MSE with the AWing dilated-mask weighting,
    ``mask_weight`` on the foreground), ``"awing"`` (Adaptive Wing with the same weight map, as
    in the AWing paper), ``"mse"``. Every stack's heatmaps are supervised; the total is their
    sum. Targets: Gaussians of std ``sigma`` heatmap pixels, sub-pixel centred unless
    ``subpixel=False``.
    """

    def __init__(
        self,
        net: nn.Module,
        num_points: int = 68,
        input_size: int = 128,
        stride: int = 4,
        loss: str = "wmse",
        sigma: float = 1.0,
        subpixel: bool = True,
        mask_weight: float = 10.0,
    ) -> None:
        super().__init__(num_points, input_size)
        if loss not in HEATMAP_LOSSES:
            raise ValueError(f"loss must be one of {HEATMAP_LOSSES}, got {loss!r}")
        if input_size % stride:
            raise ValueError(f"input_size {input_size} is not a multiple of stride {stride}")
        self.net = net
        self.heatmap_size = input_size // stride
        self.loss_name, self.sigma, self.subpixel = loss, sigma, subpixel
        self.mask_weight = mask_weight

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        heatmaps = self.net(x)
        out = {"heatmaps": heatmaps[-1]}
        for i, h in enumerate(heatmaps[:-1]):
            out[f"heatmaps_aux{i}"] = h
        return out

    def encode(self, points: Tensor) -> dict[str, Tensor]:
        return {
            "heatmaps": losses.gaussian_heatmaps(
                points, self.heatmap_size, self.sigma, self.subpixel
            )
        }

    def decode(self, out: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        return decode_heatmaps(out["heatmaps"])

    def loss(
        self, out: dict[str, Tensor], target: Tensor, visibility: Tensor | None = None
    ) -> tuple[Tensor, dict[str, float]]:
        target_maps = self.encode(target)["heatmaps"]
        total = target_maps.new_zeros(())
        logs: dict[str, float] = {}
        for key, pred in out.items():
            if not key.startswith("heatmaps"):
                continue
            if self.loss_name == "wmse":
                value = losses.weighted_heatmap_mse(
                    pred, target_maps, weight=self.mask_weight, point_weight=visibility
                )
            elif self.loss_name == "awing":
                weight = losses.heatmap_weight_map(target_maps, weight=self.mask_weight)
                if visibility is not None:
                    weight = weight * visibility[..., None, None]
                value = losses.adaptive_wing_loss(pred, target_maps, weight=weight)
            else:
                value = losses.mse_loss(pred, target_maps, weight=visibility)
            total = total + value
            logs[f"{self.loss_name}/{key}"] = float(value.detach())
        return total, logs


class DeconvHead(nn.Module):
    """SimpleBaseline-style head (Xiao et al., 2018) made light: 1x1 reduce, then ``num_up``
    x [depthwise 4x4 transposed conv (stride 2) -> 1x1 conv], then 1x1 to N heatmaps.

    Depthwise deconvolutions keep the upsampling learnable at a fraction of the cost of the
    original 256-channel dense deconvolutions (which alone would exceed the 15 MB budget).
    """

    def __init__(self, in_ch: int, num_points: int, channels: int = 128, num_up: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBNAct(in_ch, channels, 1)]
        for _ in range(num_up):
            layers += [
                nn.ConvTranspose2d(channels, channels, 4, 2, 1, groups=channels, bias=False),
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
                ConvBNAct(channels, channels, 1),
            ]
        self.body = nn.Sequential(*layers)
        self.out = nn.Conv2d(channels, num_points, 1)
        init_weights(self)
        nn.init.normal_(self.out.weight, 0.0, 0.001)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.body(x))


class BackboneDeconv(nn.Module):
    """Backbone (stride 32) + :class:`DeconvHead` (3 upsamplings) -> heatmaps at stride 4."""

    def __init__(self, backbone: nn.Module, num_points: int, channels: int = 128) -> None:
        super().__init__()
        self.backbone = backbone
        num_up = {32: 3, 16: 2, 8: 1}[backbone.stride]
        self.head = DeconvHead(backbone.out_channels, num_points, channels, num_up)

    def forward(self, x: Tensor) -> list[Tensor]:
        return [self.head(self.backbone(x))]
