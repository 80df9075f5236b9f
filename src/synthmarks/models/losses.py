"""Landmark losses and heatmap targets.

Conventions
-----------
* ``weight`` arguments broadcast from the left: a [B, N] per-point weight (visibility) applies to
  every coordinate / heatmap pixel of that point. Weighted losses are
  ``sum(w * l) / sum(w)`` over the broadcast weight, so invisible points neither add loss nor
  dilute it; an all-zero weight gives 0.
* Coordinate losses are elementwise over x and y (the Wing paper's definition); the units are
  the caller's - the regression head passes input pixels, which is what Wing's w=10, eps=2
  were tuned for.
* Heatmap pixel (i, j) of an H x W map has its centre at normalised crop coordinates
  ((j + 0.5) / W, (i + 0.5) / H); see :func:`gaussian_heatmaps`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def _weighted_mean(values: Tensor, weight: Tensor | None) -> Tensor:
    if weight is None:
        return values.mean()
    w = weight.to(values.dtype)
    while w.dim() < values.dim():
        w = w.unsqueeze(-1)
    w = w.expand_as(values)
    return (values * w).sum() / w.sum().clamp_min(1e-12)


def l1_loss(pred: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
    """Mean absolute error."""
    return _weighted_mean((pred - target).abs(), weight)


def mse_loss(pred: Tensor, target: Tensor, weight: Tensor | None = None) -> Tensor:
    """Mean squared error."""
    return _weighted_mean((pred - target).square(), weight)


def wing_loss(
    pred: Tensor, target: Tensor, w: float = 10.0, eps: float = 2.0, weight: Tensor | None = None
) -> Tensor:
    """Wing loss (Feng et al., CVPR 2018): log-shaped below ``w`` to boost small/medium errors.

    ``wing(x) = w * ln(1 + |x| / eps)`` if ``|x| < w`` else ``|x| - C`` with
    ``C = w - w * ln(1 + w / eps)`` so the two pieces meet.
    """
    x = (pred - target).abs()
    c = w - w * math.log(1.0 + w / eps)
    values = torch.where(x < w, w * torch.log1p(x / eps), x - c)
    return _weighted_mean(values, weight)


def adaptive_wing_loss(
    pred: Tensor,
    target: Tensor,
    alpha: float = 2.1,
    omega: float = 14.0,
    epsilon: float = 1.0,
    theta: float = 0.5,
    weight: Tensor | None = None,
) -> Tensor:
    """Adaptive Wing loss for heatmaps (Wang et al., ICCV 2019).

    The exponent ``alpha - y`` adapts to the target value y: near foreground pixels (y ~ 1) the
    loss is sharp like Wing, on background (y ~ 0) it is smooth like MSE, so the many background
    pixels do not dominate. ``weight`` may be a per-pixel map (see :func:`heatmap_weight_map`).
    """
    y = target
    diff = (pred - target).abs()
    power = alpha - y
    ratio = theta / epsilon
    a = omega * (1.0 / (1.0 + ratio**power)) * power * ratio ** (power - 1.0) / epsilon
    c = theta * a - omega * torch.log1p(ratio**power)
    values = torch.where(
        diff < theta,
        omega * torch.log1p((diff / epsilon) ** power),
        a * diff - c,
    )
    return _weighted_mean(values, weight)


def heatmap_weight_map(target: Tensor, dilate: int = 3, weight: float = 10.0) -> Tensor:
    """Per-pixel loss weight of the AWing paper: ``1 + weight`` on the dilated foreground, else 1.

    Foreground is ``target > 0.2``, dilated by a ``dilate`` x ``dilate`` max-pool (stride 1).
    """
    mask = (target > 0.2).to(target.dtype)
    if dilate > 1:
        mask = F.max_pool2d(mask, dilate, stride=1, padding=dilate // 2)
    return 1.0 + weight * mask


def weighted_heatmap_mse(
    pred: Tensor,
    target: Tensor,
    dilate: int = 3,
    weight: float = 10.0,
    point_weight: Tensor | None = None,
) -> Tensor:
    """MSE over heatmaps [B, N, H, W] with the dilated-mask weighting of the AWing paper.

    The mean is over all pixels (the weight map is *not* normalised), optionally weighted per
    point by ``point_weight`` [B, N].
    """
    values = heatmap_weight_map(target, dilate, weight) * (pred - target).square()
    return _weighted_mean(values, point_weight)


def gaussian_heatmaps(
    points01: Tensor, size: int | tuple[int, int], sigma: float, subpixel: bool = True
) -> Tensor:
    """Gaussian heatmap targets [B, N, H, W] for points [B, N, 2] in normalised crop coordinates.

    The Gaussian (peak 1, std ``sigma`` heatmap pixels) is centred at heatmap pixel coordinates
    ``u = x * W - 0.5``, ``v = y * H - 0.5`` - i.e. pixel j covers [j/W, (j+1)/W). With
    ``subpixel=True`` the centre keeps its fractional part ("Gaussian with offset"), so the exact
    location is recoverable from the map; ``subpixel=False`` rounds it to the nearest pixel
    (classic targets, quantisation error up to half a heatmap pixel).
    """
    h, w = (size, size) if isinstance(size, int) else size
    u = points01[..., 0] * w - 0.5
    v = points01[..., 1] * h - 0.5
    if not subpixel:
        u, v = torch.round(u), torch.round(v)
    xs = torch.arange(w, dtype=points01.dtype, device=points01.device)
    ys = torch.arange(h, dtype=points01.dtype, device=points01.device)
    gx = torch.exp(-((xs - u[..., None]) ** 2) / (2 * sigma**2))  # [B, N, W]
    gy = torch.exp(-((ys - v[..., None]) ** 2) / (2 * sigma**2))  # [B, N, H]
    return gy[..., :, None] * gx[..., None, :]


def pose_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Mean absolute angle error (radians) of [B, 3] (pitch, yaw, roll): L1, like the MAE that
    pose models are judged by, so a few mislabelled extreme heads do not dominate."""
    return (pred - target).abs().mean()
