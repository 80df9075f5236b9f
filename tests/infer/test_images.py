"""Every kind of image a user holds gives the same landmarks as the RGB array it shows."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from synthmarks import Landmarker
from synthmarks.data.readers import load_dataset
from synthmarks.errors import SynthmarksError
from synthmarks.infer.images import to_rgb
from synthmarks.landmarks import bounding_box


@pytest.fixture(scope="module")
def face(shared):
    s = load_dataset(shared / "data/aflw2000-3d-dev", limit=1)[0]
    return s.image_path, s.load_image(), bounding_box(s.points)


@pytest.fixture(scope="module")
def lm():
    return Landmarker()


def test_each_input_type(face, lm, tmp_path):
    path, rgb, box = face
    want = lm.predict(rgb, box)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    # 16 bits: the photo in the high byte, a constant in the low one. (rgb * 257, the usual
    # widening, has rgb in both bytes, so a reader that kept the low byte would pass unseen.)
    sixteen = (rgb.astype(np.uint16) << 8) | 0x5A
    assert (sixteen.astype(np.uint8) == 0x5A).all()  # the low byte alone is a flat grey image
    cv2.imwrite(str(tmp_path / "sixteen.png"), cv2.cvtColor(sixteen, cv2.COLOR_RGB2BGR))
    same = {
        "path": path,
        "str path": str(path),
        "rgba": rgba,
        "16-bit": sixteen,
        "16-bit png": tmp_path / "sixteen.png",
        "float": rgb / 255.0,
        "non-contiguous": rgb[:, ::-1][:, ::-1],
    }
    for name, image in same.items():
        np.testing.assert_allclose(lm.predict(image, box), want, atol=0.05, err_msg=name)
    gray_want = lm.predict(cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB), box)
    for image in (gray, gray[:, :, None]):
        np.testing.assert_allclose(lm.predict(image, box), gray_want, atol=1e-4)


def test_bgr_is_said_once(face):
    path, rgb, box = face
    bgr = cv2.imread(str(path))
    a = Landmarker(color="bgr").predict(bgr, box)
    np.testing.assert_allclose(a, Landmarker().predict(rgb, box), atol=1e-4)
    bgra = cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA)
    np.testing.assert_allclose(Landmarker(color="bgr").predict(bgra, box), a, atol=1e-4)
    with pytest.raises(SynthmarksError, match="color"):
        Landmarker(color="hsv")


def test_pil_images(face, lm):
    Image = pytest.importorskip("PIL.Image")
    path, rgb, box = face
    want = lm.predict(rgb, box)
    with Image.open(path) as im:
        np.testing.assert_allclose(lm.predict(im, box), want, atol=1e-4)
    np.testing.assert_allclose(
        lm.predict(Image.fromarray(rgb).convert("RGBA"), box), want, atol=1e-4
    )
    grey16 = Image.fromarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.uint16) * 257)
    assert to_rgb(grey16).shape == rgb.shape


def test_detect_batch_matches_detect(face, lm, shared):
    other = shared / "data/real-68pt/lfpw-train/image_0001.png"
    images = [face[0], other, np.zeros((60, 80, 3), np.uint8)]
    batch = lm.detect_batch(images)
    assert [len(b) for b in batch] == [len(lm.detect(im)) for im in images]
    assert len(batch[0]) >= 1 and batch[2] == []
    one = lm.detect(images[1])[0]
    np.testing.assert_allclose(batch[1][0].landmarks, one.landmarks, atol=1e-3)
    f = batch[0][0]
    assert (
        f.point_confidence.shape == (68,) and abs(f.point_confidence.mean() - f.confidence) < 1e-6
    )
    assert 0 <= f.score <= 1 and f.pose.shape == (3,)  # the released model has a pose head


def test_bad_images(lm, tmp_path):
    for bad, match in [
        (np.zeros((10, 10, 2), np.uint8), r"must be \(H, W\)"),
        (np.zeros((10, 10), np.int64), "uint8"),
        ([[0, 1]], "numpy array"),
    ]:
        with pytest.raises(ValueError, match=match):
            lm.predict(bad, (0, 0, 5, 5))
    with pytest.raises(SynthmarksError, match="image not found"):
        lm.detect(tmp_path / "missing.png")
