import math

import pytest
import torch

from synthmarks.models import losses


def test_l1_mse_hand_values():
    pred = torch.tensor([[[1.0, 2.0], [3.0, 5.0]]])
    target = torch.tensor([[[0.0, 0.0], [3.0, 4.0]]])
    assert losses.l1_loss(pred, target).item() == pytest.approx((1 + 2 + 0 + 1) / 4)
    assert losses.mse_loss(pred, target).item() == pytest.approx((1 + 4 + 0 + 1) / 4)
    # visibility [B, N] masks whole points: only point 1 counts
    vis = torch.tensor([[0.0, 1.0]])
    assert losses.l1_loss(pred, target, vis).item() == pytest.approx(0.5)
    assert losses.mse_loss(pred, target, torch.zeros(1, 2)).item() == 0.0


def test_wing_hand_values():
    pred = torch.tensor([1.0, -4.0, 12.0, 0.0])
    target = torch.zeros(4)
    c = 10 - 10 * math.log(1 + 10 / 2)
    expected = [10 * math.log(1 + 0.5), 10 * math.log(1 + 2), 12 - c, 0.0]
    assert losses.wing_loss(pred, target).item() == pytest.approx(sum(expected) / 4, rel=1e-6)
    # continuous at |x| = w
    below = losses.wing_loss(torch.tensor([10 - 1e-4]), torch.zeros(1))
    above = losses.wing_loss(torch.tensor([10 + 1e-4]), torch.zeros(1))
    assert below.item() == pytest.approx(above.item(), abs=1e-3)


def awing_reference(y_hat: float, y: float, alpha=2.1, omega=14.0, eps=1.0, theta=0.5) -> float:
    d = abs(y - y_hat)
    if d < theta:
        return omega * math.log(1 + (d / eps) ** (alpha - y))
    a = (
        omega
        / (1 + (theta / eps) ** (alpha - y))
        * (alpha - y)
        * (theta / eps) ** (alpha - y - 1)
        / eps
    )
    c = theta * a - omega * math.log(1 + (theta / eps) ** (alpha - y))
    return a * d - c


def test_adaptive_wing_hand_values():
    pairs = [(0.1, 0.0), (0.9, 1.0), (0.0, 1.0), (0.7, 0.0), (0.5, 0.5)]
    pred = torch.tensor([p for p, _ in pairs])
    target = torch.tensor([t for _, t in pairs])
    expected = sum(awing_reference(p, t) for p, t in pairs) / len(pairs)
    assert losses.adaptive_wing_loss(pred, target).item() == pytest.approx(expected, rel=1e-5)
    # first value by hand: 14 * ln(1 + 0.1 ** 2.1)
    single = losses.adaptive_wing_loss(torch.tensor([0.1]), torch.tensor([0.0]))
    assert single.item() == pytest.approx(14 * math.log(1 + 0.1**2.1), rel=1e-6)


def test_weighted_heatmap_mse_hand_values():
    target = torch.zeros(1, 1, 5, 5)
    target[0, 0, 2, 2] = 1.0  # foreground pixel; dilated 3x3 -> 9 pixels of weight 11
    pred = torch.full((1, 1, 5, 5), 0.5)
    # foreground: 11 * 0.25 (centre) + 8 * 11 * 0.25; background: 16 * 1 * 0.25
    expected = (11 * 0.25 + 8 * 11 * 0.25 + 16 * 0.25) / 25
    assert losses.weighted_heatmap_mse(pred, target).item() == pytest.approx(expected)
    no_dilate = (11 * 0.25 + 24 * 0.25) / 25
    assert losses.weighted_heatmap_mse(pred, target, dilate=1).item() == pytest.approx(no_dilate)
    # per-point weights
    two = torch.cat([target, target], 1)
    pred2 = torch.cat([pred, target], 1)  # second point perfect
    assert losses.weighted_heatmap_mse(pred2, two, point_weight=torch.tensor([[0.0, 1.0]])) == 0


def test_gaussian_heatmaps_subpixel_peak():
    # point at pixel coordinates (2.3, 1.0) of a 6x6 map -> normalised (2.8/6, 1.5/6)
    p = torch.tensor([[[2.8 / 6, 1.5 / 6]]])
    h = losses.gaussian_heatmaps(p, 6, sigma=1.0)
    assert h.shape == (1, 1, 6, 6)
    assert h[0, 0, 1, 2].item() == pytest.approx(math.exp(-(0.3**2) / 2), rel=1e-5)
    assert h[0, 0, 1, 3].item() == pytest.approx(math.exp(-(0.7**2) / 2), rel=1e-5)
    assert h[0, 0, 2, 2].item() == pytest.approx(math.exp(-(0.3**2 + 1) / 2), rel=1e-5)
    rounded = losses.gaussian_heatmaps(p, 6, sigma=1.0, subpixel=False)
    assert rounded[0, 0, 1, 2].item() == pytest.approx(1.0)
