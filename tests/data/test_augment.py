"""Augmentations move labels with the pixels, relabel on flips, and are switchable and seeded."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from synthmarks.data import crop
from synthmarks.data.augment import AugmentConfig, Augmenter
from synthmarks.errors import SynthmarksError
from synthmarks.landmarks import bounding_box
from synthmarks.models.mean_shape import DEFAULT_MEAN_SHAPE_68

SIZE = 64
GEOMETRY_ONLY = AugmentConfig(
    color_p=0, gray_p=0, blur_p=0, noise_p=0, jpeg_p=0, occlude_p=0, rotate_p=1.0, flip_p=0.5
)


def face_points(scale: float = 200.0, offset: float = 100.0) -> np.ndarray:
    return (DEFAULT_MEAN_SHAPE_68 * scale + offset).astype(np.float32)


def dot_image(point: np.ndarray, size: int = 400, sigma: float = 3.0) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    g = np.exp(-((xx - point[0]) ** 2 + (yy - point[1]) ** 2) / (2 * sigma**2))
    return np.repeat((g * 255).astype(np.uint8)[..., None], 3, axis=2)


def centroid(img: np.ndarray) -> np.ndarray:
    w = img[..., 0].astype(np.float64)
    w[w < 20] = 0
    yy, xx = np.mgrid[: w.shape[0], : w.shape[1]]
    return np.array([(xx * w).sum() / w.sum(), (yy * w).sum() / w.sum()])


@pytest.mark.parametrize("seed", range(8))
def test_dot_stays_under_its_label(seed):
    """A dot drawn at landmark 36 ends up under the point that carries landmark 36's label:
    index 36 itself, or 45 after a flip (the mirrored face's outer left-eye corner)."""
    pts = face_points()
    aug = Augmenter(GEOMETRY_ONLY, SIZE, 1.3)
    out = aug(dot_image(pts[36]), pts, None, np.random.default_rng(seed))
    _, flipped = aug.geometry(pts, np.random.default_rng(seed))
    carrier = 45 if flipped else 36
    np.testing.assert_allclose(centroid(out.image), out.points[carrier], atol=0.35)


def test_flip_relabels_left_and_right():
    """After a flip the subject's right eye corner (36) is still image-left of 45, jaw 0 left of
    16: mirrored faces look like ordinary faces to the model."""
    pts = face_points()
    cfg = dataclasses.replace(GEOMETRY_ONLY, flip_p=1.0, rotate_p=0.0)
    out = Augmenter(cfg, SIZE, 1.3)(
        np.zeros((400, 400, 3), np.uint8), pts, None, np.random.default_rng(0)
    )
    assert out.points[36, 0] < out.points[45, 0]
    assert out.points[0, 0] < out.points[16, 0]
    assert out.points[48, 0] < out.points[54, 0]


def test_disabled_gives_the_evaluation_crop():
    pts = face_points()
    aug = Augmenter(AugmentConfig(enabled=False), SIZE, 1.3)
    matrix, flipped = aug.geometry(pts, np.random.default_rng(0))
    assert not flipped
    np.testing.assert_allclose(matrix, crop.box_crop_matrix(bounding_box(pts), SIZE, 1.3))


def test_seeded_and_repeatable():
    pts = face_points()
    img = np.random.default_rng(1).integers(0, 255, (400, 400, 3), dtype=np.uint8)
    aug = Augmenter(AugmentConfig(), SIZE, 1.3)
    a = aug(img, pts, None, np.random.default_rng(5))
    b = aug(img, pts, None, np.random.default_rng(5))
    c = aug(img, pts, None, np.random.default_rng(6))
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.array_equal(a.points, c.points)


@pytest.mark.parametrize("op", ["color_p", "gray_p", "blur_p", "noise_p", "jpeg_p", "occlude_p"])
def test_each_photometric_op_is_switchable(op):
    img = np.random.default_rng(2).integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)
    off = dataclasses.replace(GEOMETRY_ONLY)
    on = dataclasses.replace(off, **{op: 1.0})
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(Augmenter(off, SIZE, 1.3).photometric(img, rng), img)
    aug_on = Augmenter(on, SIZE, 1.3)
    pts = np.full((68, 2), SIZE / 2, np.float32)
    out = aug_on.occlude(aug_on.photometric(img, rng), pts, np.ones(68, bool), rng)[0]
    assert out.shape == img.shape and out.dtype == np.uint8
    assert not np.array_equal(out, img)


def test_occluded_points_become_invisible():
    """Points marked invisible lie on changed pixels; with visibility off none are marked."""
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, SIZE - 1, (68, 2)).astype(np.float32)
    cfg = dataclasses.replace(GEOMETRY_ONLY, occlude_p=1.0, occlude_size=(0.3, 0.5))
    aug = Augmenter(cfg, SIZE, 1.3)
    hidden = 0
    for seed in range(20):
        img = np.random.default_rng(seed).integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)
        out, vis = aug.occlude(img, pts, np.ones(68, bool), np.random.default_rng(seed))
        ij = np.round(pts[~vis]).astype(int)
        assert (out[ij[:, 1], ij[:, 0]] != img[ij[:, 1], ij[:, 0]]).any(axis=1).all()
        hidden += int((~vis).sum())
    assert hidden > 0
    quiet = Augmenter(dataclasses.replace(cfg, occlude_visibility=False), SIZE, 1.3)
    img = np.zeros((SIZE, SIZE, 3), np.uint8)
    assert quiet.occlude(img, pts, np.ones(68, bool), np.random.default_rng(0))[1].all()


def test_config_validate_names_every_bad_value():
    with pytest.raises(SynthmarksError) as err:
        AugmentConfig(rotate_p=1.5, scale=(1.2, 0.8), jpeg_quality=(0, 90)).validate()
    for key in ("augment.rotate_p", "augment.scale", "augment.jpeg_quality"):
        assert key in str(err.value)
    assert "\n" not in str(err.value)
    assert AugmentConfig().validate() == AugmentConfig()


def test_reach_covers_the_sampled_crops():
    """Crops never sample beyond reach() base-crop sides from the face centre."""
    cfg = AugmentConfig()
    pts = face_points()
    aug = Augmenter(cfg, SIZE, 1.3)
    x0, y0, x1, y1 = bounding_box(pts)
    centre, side = np.array([(x0 + x1) / 2, (y0 + y1) / 2]), max(x1 - x0, y1 - y0) * 1.3
    corners = np.array(
        [[-0.5, -0.5], [SIZE - 0.5, -0.5], [-0.5, SIZE - 0.5], [SIZE - 0.5, SIZE - 0.5]]
    )
    worst = 0.0
    for seed in range(300):
        m, _ = aug.geometry(pts, np.random.default_rng(seed))
        img = crop.apply(crop.invert(m), corners)
        worst = max(worst, float(np.abs(img - centre).max() / side))
    assert worst <= cfg.reach() + 1e-6


def test_no_second_face_draws_nothing():
    """``second_face_p=0`` (the default) takes no random draw, so runs configured before it
    existed get the same crops as then."""
    img = np.random.default_rng(2).integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)
    pts = face_points(scale=30.0, offset=32.0)
    aug = Augmenter(AugmentConfig(), SIZE, 1.3)
    rng = np.random.default_rng(4)
    out, vis = aug.second_face(img, pts, np.ones(68, bool), rng)
    assert out is img and vis.all()
    assert rng.random() == np.random.default_rng(4).random()


def test_a_second_face_is_pasted_beside_the_first_and_hides_what_it_covers():
    """The pasted face lies to one side of the crop's centre, ``second_face_shift`` crop sides
    away; the labels stay the first face's, and its points under the copy turn invisible."""
    pts = face_points()
    cfg = dataclasses.replace(GEOMETRY_ONLY, rotate_p=0.0, flip_p=0.0, scale=(1.0, 1.0), shift=0)
    plain = Augmenter(cfg, SIZE, 1.3)
    second = Augmenter(dataclasses.replace(cfg, second_face_p=1.0), SIZE, 1.3)
    img = np.random.default_rng(7).integers(0, 255, (400, 400, 3), dtype=np.uint8)
    sides, hidden = set(), 0
    for seed in range(12):
        a = plain(img, pts, None, np.random.default_rng(seed))
        b = second(img, pts, None, np.random.default_rng(seed))
        np.testing.assert_array_equal(a.points, b.points)
        changed = (b.image != a.image).any(axis=2)
        assert changed.any()
        xx = np.nonzero(changed)[1]
        assert abs(xx.mean() - SIZE / 2) > 0.2 * SIZE  # beside the face, not on it
        sides.add(bool(xx.mean() > SIZE / 2))
        ij = np.round(b.points[~b.visibility]).astype(int)
        inside = ((ij >= 0) & (ij < SIZE)).all(axis=1)
        assert changed[ij[inside, 1], ij[inside, 0]].all()
        hidden += int((~b.visibility).sum())
    assert sides == {True, False} and hidden > 0


def test_no_face_mask_draws_nothing():
    """``face_mask_p=0`` (the default) takes no random draw: runs configured before the mask
    existed get the same crops as then."""
    img = np.random.default_rng(2).integers(0, 255, (SIZE, SIZE, 3), dtype=np.uint8)
    pts = face_points(scale=30.0, offset=32.0)
    rng = np.random.default_rng(4)
    out, vis = Augmenter(AugmentConfig(), SIZE, 1.3).face_mask(img, pts, np.ones(68, bool), rng)
    assert out is img and vis.all()
    assert rng.random() == np.random.default_rng(4).random()


@pytest.mark.parametrize("seed", range(6))
def test_a_face_mask_hides_the_nose_and_mouth_and_leaves_the_eyes(seed):
    """The mask covers the nose base and the mouth and turns those points invisible; the eyes
    and brows keep their pixels and stay visible; the labels do not move."""
    pts = face_points()
    cfg = dataclasses.replace(GEOMETRY_ONLY, rotate_p=0.0, flip_p=0.0)
    img = np.random.default_rng(seed).integers(60, 200, (400, 400, 3), dtype=np.uint8)
    plain = Augmenter(cfg, SIZE, 1.3)(img, pts, None, np.random.default_rng(seed))
    masked = Augmenter(dataclasses.replace(cfg, face_mask_p=1.0), SIZE, 1.3)(
        img, pts, None, np.random.default_rng(seed)
    )
    np.testing.assert_array_equal(plain.points, masked.points)
    hidden = ~masked.visibility
    assert hidden[31:36].all() and hidden[48:68].all() and hidden[5:12].all()
    assert masked.visibility[17:27].all() and masked.visibility[36:48].all()
    changed = (masked.image != plain.image).any(axis=2)
    ij = np.round(masked.points).astype(int)
    assert changed[ij[48:68, 1], ij[48:68, 0]].all()
    assert not changed[ij[36:48, 1], ij[36:48, 0]].any()


def test_face_mask_p_is_validated():
    with pytest.raises(SynthmarksError, match="augment.face_mask_p"):
        AugmentConfig(face_mask_p=1.5).validate()
