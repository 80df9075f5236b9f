"""Pictures: drawing is sized by the face, not the image; worst-case sheets name their colours."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from synthmarks import viz
from synthmarks.data.readers import load_dataset
from synthmarks.eval.report import worst_sheet


def painted(image: np.ndarray) -> int:
    return int((image.any(axis=2)).sum())


def face_points(shared, scale: float = 1.0, offset: float = 20.0) -> np.ndarray:
    """The first AFLW2000-3D dev face's 68 points, moved to ``offset`` and scaled."""
    pts = load_dataset(shared / "data/aflw2000-3d-dev", limit=1)[0].points.astype(np.float64)
    return (pts - pts.min(0)) * scale + offset


def test_dots_are_sized_by_the_face_not_the_image(shared):
    pts = face_points(shared)  # a face of about 150 px
    small, huge = np.zeros((300, 300, 3), np.uint8), np.zeros((4000, 6000, 3), np.uint8)
    a = viz.draw_landmarks(small, pts, lines=False)
    b = viz.draw_landmarks(huge, pts, lines=False)
    # the same face draws the same pixels whatever the photo around it
    assert painted(a) == painted(b) > 0
    np.testing.assert_array_equal(a, b[:300, :300])
    # a face 8x larger gets 8x the radius: far more ink per dot, not the same specks
    big = viz.draw_landmarks(huge, face_points(shared, scale=8.0), lines=False)
    assert painted(big) > 20 * painted(a)


def test_boxes_and_scores_are_sized_by_the_face(shared):
    pts = face_points(shared)
    face = SimpleNamespace(landmarks=pts, box=np.r_[pts.min(0) - 5, pts.max(0) + 5], confidence=0.9)
    small, huge = np.zeros((300, 300, 3), np.uint8), np.zeros((4000, 6000, 3), np.uint8)
    a = viz.draw_faces(small, [face])
    b = viz.draw_faces(huge, [face])
    assert painted(a) == painted(b) > painted(viz.draw_landmarks(small, pts))
    np.testing.assert_array_equal(a, b[:300, :300])


def test_worst_case_sheet_has_a_legend(shared):
    samples = load_dataset(shared / "data/aflw2000-3d-dev", limit=3)
    gts = np.stack([s.points for s in samples])
    preds = gts + 3.0
    errors = np.array([0.05, 0.09, 0.02])
    sheet = worst_sheet(samples, gts, preds, errors, count=3, tile=224)
    body = viz.contact_sheet([np.zeros((8, 8, 3), np.uint8)] * 3, cols=3, tile=224)
    strip_h = sheet.shape[0] - body.shape[0]
    assert sheet.shape[1] == body.shape[1] and strip_h > 0
    strip = sheet[:strip_h]
    # the strip holds a swatch of each colour: green is the truth, red the prediction
    colours = {tuple(int(v) for v in px) for px in strip.reshape(-1, 3)}
    assert tuple(viz.GREEN) in colours and tuple(viz.RED) in colours
    # swatches first, in that order, left to right
    xs = {c: np.nonzero((strip == c).all(axis=2))[1].mean() for c in (viz.GREEN, viz.RED)}
    assert xs[viz.GREEN] < xs[viz.RED]
