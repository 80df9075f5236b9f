"""Rotated copies of a dataset: the conventions are pinned and the labels follow the pixels."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from synthmarks.data.readers import load_dataset
from synthmarks.data.sample import Sample, rotate_image, rotated_size, rotation_matrix
from synthmarks.errors import SynthmarksError


def dotted(tmp_path: Path, w: int = 40, h: int = 30) -> Sample:
    """A w x h image with one bright pixel at (x, y) = (7, 5), labelled there."""
    img = np.zeros((h, w, 3), np.uint8)
    img[5, 7] = 255
    path = tmp_path / "dot.png"
    cv2.imwrite(str(path), img)
    return Sample(path, np.array([[7.0, 5.0]], np.float32))


def brightest(img: np.ndarray) -> np.ndarray:
    y, x = np.unravel_index(img[..., 0].argmax(), img.shape[:2])
    return np.array([x, y], np.float64)


def test_plus_90_is_np_rot90(tmp_path):
    """+90 turns counter-clockwise in the picture, as np.rot90(image, 1) does: (x, y) -> (y,
    w - 1 - x) on an h x w canvas; a pixel on the right goes to the top."""
    s = dotted(tmp_path)
    r = s.rotated(90)
    img = r.load_image()
    assert img.shape[:2] == (40, 30)
    np.testing.assert_array_equal(img, np.rot90(s.load_image()))
    np.testing.assert_array_equal(r.points, [[5.0, 40 - 1 - 7.0]])
    assert r.rotate_deg == 90.0 and r.rotations == (90.0,)


@pytest.mark.parametrize("deg", [90, 180, 270, -90, 360, 450])
def test_quarter_turns_are_exact(tmp_path, deg):
    """Labels land on the very pixel, with no resampling of the image."""
    s = dotted(tmp_path)
    r = s.rotated(deg)
    img = r.load_image()
    np.testing.assert_array_equal(brightest(img), r.points[0])
    assert img.max() == 255 and (img > 0).sum() == 3  # one pixel, three channels, untouched
    np.testing.assert_array_equal(img, np.rot90(s.load_image(), deg // 90))


@pytest.mark.parametrize("deg", [30.0, 45.0, 135.0, -20.0])
def test_any_angle_grows_the_canvas_and_labels_follow(tmp_path, deg):
    """A blob's centroid after the turn sits on its turned label to a tenth of a pixel."""
    w, h = 64, 48
    yy, xx = np.mgrid[:h, :w]
    p = (41.3, 17.8)
    g = np.exp(-((xx - p[0]) ** 2 + (yy - p[1]) ** 2) / (2 * 2.5**2))
    path = tmp_path / "blob.png"
    cv2.imwrite(str(path), np.repeat((g * 255).astype(np.uint8)[..., None], 3, axis=2))
    r = Sample(path, np.array([p], np.float32)).rotated(deg)
    img = r.load_image()[..., 0].astype(np.float64)
    assert img.shape[::-1] == rotated_size(w, h, deg)
    assert img.shape[0] >= h and img.shape[1] >= w  # grown, nothing cut off
    ys, xs = np.mgrid[: img.shape[0], : img.shape[1]]
    found = np.array([(xs * img).sum(), (ys * img).sum()]) / img.sum()
    np.testing.assert_allclose(found, r.points[0], atol=0.1)


def test_turns_compose(tmp_path):
    """Two turns in a row are one turn of their sum, for quarter turns exactly."""
    s = dotted(tmp_path)
    np.testing.assert_array_equal(s.rotated(90).rotated(180).points, s.rotated(270).points)
    np.testing.assert_array_equal(
        s.rotated(90).rotated(180).load_image(), s.rotated(270).load_image()
    )


def test_matrix_matches_image_for_a_general_angle():
    m, (w, h) = rotation_matrix(10, 20, 30.0)
    img = np.zeros((20, 10), np.uint8)
    assert rotate_image(img, 30.0).shape == (h, w)
    # the image centre goes to the canvas centre
    np.testing.assert_allclose(m[:, :2] @ [4.5, 9.5] + m[:, 2], [(w - 1) / 2, (h - 1) / 2])


def test_load_dataset_rotates_real_labels_with_the_image(shared):
    """On real faces: every rotated copy's labels are the upright labels moved by the same
    matrix that moves the pixels (checked against np.rot90 for 180)."""
    data = shared / "data/aflw2000-3d-dev"
    up = load_dataset(data, limit=3)
    turned = load_dataset(data, limit=3, rotate=180)
    for a, b in zip(up, turned, strict=True):
        h, w = a.load_image().shape[:2]
        np.testing.assert_array_equal(b.load_image(), a.load_image()[::-1, ::-1])
        np.testing.assert_allclose(b.points, np.array([w - 1, h - 1]) - a.points, atol=1e-4)


def test_a_bad_angle_is_one_clear_error(shared):
    with pytest.raises(SynthmarksError, match="finite angle"):
        load_dataset(shared / "data/aflw2000-3d-dev", limit=1, rotate=float("nan"))
