"""Head-pose conventions (synthmarks.pose): AFLW2000-3D's rotation order and signs, the
generator's, and what a crop rotation or a mirror does to a pose. Each test would fail if a sign
or an order were swapped."""

from __future__ import annotations

import numpy as np
import pytest

from synthmarks import pose
from synthmarks.data.augment import AugmentConfig, Augmenter
from synthmarks.landmarks import FLIP_PERMUTATION, NUM_POINTS


def random_poses(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack(
        [rng.uniform(-40, 40, n), rng.uniform(-80, 80, n), rng.uniform(-60, 60, n)], axis=1
    )


def symmetric_head(seed: int = 0) -> np.ndarray:
    """68 object-space points (x right, y up, z out) that are mirror images of each other under
    the flip permutation: point perm[i] is point i with x negated."""
    rng = np.random.default_rng(seed)
    pts = rng.normal(0, 5, (NUM_POINTS, 3))
    perm = FLIP_PERMUTATION[:NUM_POINTS]
    for i in range(NUM_POINTS):
        j = perm[i]
        if j == i:
            pts[i, 0] = 0.0
        elif i < j:
            pts[j] = pts[i] * [-1.0, 1.0, 1.0]
    return pts


def shape_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest point distance after removing translation and scale (no rotation): 0 when two
    2-D point sets are the same picture at another size or place."""
    a = a - a.mean(0)
    b = b - b.mean(0)
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    return float(np.abs(a - b).max())


def test_aflw_angles_invert_aflw_matrix():
    for p in random_poses(50):
        np.testing.assert_allclose(pose.aflw_angles(pose.aflw_matrix(p)), p, atol=1e-6)


def test_aflw_order_is_x_then_y_then_z():
    p, y, r = 20.0, 35.0, -15.0
    expected = pose.rx(-p) @ pose.ry(-y) @ pose.rz(-r)
    np.testing.assert_allclose(pose.aflw_matrix((p, y, r)), expected)
    # the generator's order differs, so a turned head's angles differ by several degrees
    differ = np.abs(pose.generator_to_aflw((p, y, r)) - (p, y, r)).max()
    assert differ > 3.0


def test_generator_angles_convert_to_the_same_rotation():
    for g in random_poses(30, seed=1):
        a = pose.generator_to_aflw(g)
        np.testing.assert_allclose(pose.aflw_matrix(a), pose.generator_matrix(g), atol=1e-5)
    # one angle alone means the same in both orders
    for single in ([25.0, 0, 0], [0, 40.0, 0], [0, 0, -30.0]):
        np.testing.assert_allclose(pose.generator_to_aflw(single), single, atol=1e-5)


def test_generator_matrix_is_the_renderers_rotation():
    from synthmarks.synth.scene import rotation

    for g in random_poses(5, seed=2):
        np.testing.assert_allclose(pose.generator_matrix(g), rotation(*g), atol=1e-12)


def test_signs_yaw_turns_the_face_to_image_left_and_roll_is_clockwise():
    nose, chin = np.array([[0.0, 0.0, 10.0]]), np.array([[0.0, -10.0, 0.0]])
    # yaw +30: the nose tip (in front of the head's centre) moves towards image left (x < 0)
    assert pose.project(nose, (0, 30, 0))[0, 0] < -1.0
    # pitch +20: looks up, the nose moves up in the picture (image y < 0)
    assert pose.project(nose, (20, 0, 0))[0, 1] < -1.0
    # roll +20: clockwise in the picture, the chin (below the centre) swings to image left
    assert pose.project(chin, (0, 0, 20))[0, 0] < -1.0


@pytest.mark.parametrize("angle", [-35.0, 12.0, 90.0])
def test_rotating_the_picture_rotates_the_pose(angle):
    head = symmetric_head()
    a = np.radians(angle)
    clockwise = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])  # image y points down
    for p in random_poses(10, seed=3):
        rotated_picture = pose.project(head, p) @ clockwise.T
        expected = pose.project(head, pose.rotate_pose(p, angle))
        assert shape_error(rotated_picture, expected) < 1e-5
    # an upright frontal face rolls by the angle, nothing else
    np.testing.assert_allclose(pose.rotate_pose((0, 0, 0), 10.0), (0, 0, 10.0), atol=1e-5)


def test_mirroring_negates_yaw_and_roll():
    head = symmetric_head()
    perm = FLIP_PERMUTATION[:NUM_POINTS]
    for p in random_poses(10, seed=4):
        mirrored = pose.project(head, p) * [-1.0, 1.0]
        expected = pose.project(head, pose.flip_pose(p))
        assert shape_error(mirrored[perm], expected) < 1e-6
    np.testing.assert_allclose(pose.flip_pose((10.0, 20.0, 30.0)), (10.0, -20.0, -30.0))


def test_augmented_pose_matches_the_augmented_points():
    """The training targets: after a random crop rotation and flip, the crop's points are the
    picture of the head at the crop's pose (a wrong sign leaves them far apart)."""
    head = symmetric_head(5)
    cfg = AugmentConfig(
        rotate_p=1.0, rotate_deg=45.0, flip_p=0.5, color_p=0, gray_p=0, blur_p=0, noise_p=0,
        jpeg_p=0, occlude_p=0,
    )  # fmt: skip
    aug = Augmenter(cfg, 64, 1.3)
    image = np.zeros((200, 200, 3), np.uint8)
    flips = 0
    for i, p in enumerate(random_poses(12, seed=6)):
        pts = pose.project(head, p) * 3.0 + 100.0
        rng = np.random.default_rng(i)
        out = aug(image, pts.astype(np.float32), None, rng, pose=p.astype(np.float32))
        _, flip = aug.geometry(pts, np.random.default_rng(i))
        flips += flip
        assert out.pose is not None
        assert shape_error(out.points, pose.project(head, out.pose)) < 1e-3
        assert shape_error(out.points, pose.project(head, p)) > 1e-3  # it did change
    assert 0 < flips < 12, "both branches (flipped and not) were exercised"


def test_aflw_pose_para_reads_as_degrees_with_aflw_signs(shared):
    """On real AFLW2000-3D faces: positive yaw puts the nose tip (point 30) left of the jaw's
    midpoint, negative yaw right of it."""
    from synthmarks.data.readers import load_dataset

    samples = load_dataset(shared / "data/aflw2000-3d-dev")
    left = [s for s in samples if 30 < s.pose[1] < 90]
    right = [s for s in samples if -90 < s.pose[1] < -30]
    assert len(left) > 5 and len(right) > 5

    def nose_offset(s) -> float:
        return float(s.points[30, 0] - (s.points[0, 0] + s.points[16, 0]) / 2)

    assert np.mean([nose_offset(s) < 0 for s in left]) > 0.9
    assert np.mean([nose_offset(s) > 0 for s in right]) > 0.9
