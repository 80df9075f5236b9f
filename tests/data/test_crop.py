"""Crops move points with the pixels, to sub-pixel precision."""

import numpy as np
import pytest

from synthmarks.data import crop


def blob_image(size: int, centre: tuple[float, float], sigma: float = 2.0) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    g = np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2 * sigma**2))
    return np.repeat((g * 255).astype(np.uint8)[..., None], 3, axis=2)


def centroid(img: np.ndarray) -> np.ndarray:
    w = img[..., 0].astype(np.float64)
    yy, xx = np.mgrid[: w.shape[0], : w.shape[1]]
    return np.array([(xx * w).sum() / w.sum(), (yy * w).sum() / w.sum()])


@pytest.mark.parametrize("angle", [0.0, 25.0, -40.0])
@pytest.mark.parametrize("side", [100.0, 300.0])  # 300 -> 64 px triggers the area pre-shrink
def test_point_follows_pixels(angle, side):
    p = (211.3, 187.8)
    img = blob_image(400, p, sigma=side / 40)
    M = crop.crop_matrix((200.0, 190.0), side, 64, angle)
    out = crop.warp(img, M, 64)
    np.testing.assert_allclose(centroid(out), crop.apply(M, np.array([p]))[0], atol=0.15)


def test_box_crop_and_inverse():
    M = crop.box_crop_matrix((100, 50, 200, 110), 128, 1.0)
    # box centre maps to the crop centre; longer side (100) spans the crop edge to edge
    np.testing.assert_allclose(crop.apply(M, np.array([[150.0, 80.0]])), [[63.5, 63.5]])
    np.testing.assert_allclose(crop.apply(M, np.array([[100.0, 80.0]])), [[-0.5, 63.5]], atol=1e-4)
    back = crop.apply(crop.invert(M), crop.apply(M, np.array([[120.0, 70.0]])))
    np.testing.assert_allclose(back, [[120.0, 70.0]], atol=1e-4)
