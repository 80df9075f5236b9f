import numpy as np
import pytest

from synthmarks import landmarks as L


def test_flip_permutation_is_an_involution_and_mirrors_features():
    p = L.FLIP_PERMUTATION
    assert sorted(p) == list(range(70))
    assert (p[p] == np.arange(70)).all()
    assert p[36] == 45 and p[39] == 42 and p[0] == 16 and p[8] == 8
    assert p[30] == 30 and p[33] == 33 and p[51] == 51 and p[57] == 57
    assert p[48] == 54 and p[68] == 69


def test_flip_points_on_a_mirror_symmetric_shape():
    rng = np.random.default_rng(0)
    pts = rng.uniform(10, 90, size=(70, 2)).astype(np.float32)
    twice = L.flip_points(L.flip_points(pts, 100), 100)
    np.testing.assert_allclose(twice, pts, rtol=1e-5)
    flipped = L.flip_points(pts, 100)
    np.testing.assert_allclose(flipped[45, 0], 99 - pts[36, 0])


def test_pupils_fall_back_to_eye_means():
    pts = np.zeros((68, 2))
    pts[36:42] = [2.0, 4.0]
    pts[42:48] = [10.0, 4.0]
    np.testing.assert_allclose(L.pupil_centres(pts), [[2, 4], [10, 4]])
    pts70 = np.vstack([pts, [[1, 1], [9, 9]]])
    np.testing.assert_allclose(L.pupil_centres(pts70), [[1, 1], [9, 9]])


def test_segments_cover_every_point_once_connected():
    used = set(L.SEGMENTS.ravel().tolist())
    assert used == set(range(68))
    assert L.bounding_box(np.array([[1, 2], [5, 9]] * 34 + [[100, 100]] * 2)).tolist() == [
        1,
        2,
        5,
        9,
    ]


@pytest.mark.parametrize("n", [68, 70, 85, 87])
def test_flip_permutation_covers_outline_jaw(n):
    from synthmarks.landmarks import flip_permutation

    perm = flip_permutation(n)
    assert sorted(perm.tolist()) == list(range(n))
    np.testing.assert_array_equal(perm[perm], np.arange(n))  # its own inverse
    np.testing.assert_array_equal(perm[:17], L.FLIP_PERMUTATION[:17])  # the x-ray jaw as before
    if n in (85, 87):
        base = n - 17
        # the outline jaw flips like the x-ray jaw, within its own block
        np.testing.assert_array_equal(perm[base:], L.FLIP_PERMUTATION[:17] + base)


def test_flip_permutation_refuses_unknown_sizes():
    from synthmarks.landmarks import flip_permutation

    with pytest.raises(ValueError):
        flip_permutation(80)


def test_output_layout_picks_the_jaw():
    from synthmarks.landmarks import OutputLayout

    plain = OutputLayout.from_json(None, 68)
    assert plain.plain and plain.num_points == 68
    layout = OutputLayout.from_json({"landmarks": 70, "outline_jaw": True, "pose": True})
    assert layout.num_points == 87 and OutputLayout.from_json(layout.to_json()) == layout
    pts = np.arange(87 * 2, dtype=np.float32).reshape(87, 2)
    xray = layout.with_jaw(pts, "xray")
    outline = layout.with_jaw(pts, "outline")
    assert xray.shape == outline.shape == (70, 2)
    np.testing.assert_array_equal(xray, pts[:70])
    np.testing.assert_array_equal(outline[:17], pts[70:87])
    np.testing.assert_array_equal(outline[17:], pts[17:70])
    with pytest.raises(ValueError, match="no outline jaw"):
        plain.with_jaw(pts[:68], "outline")


def test_the_regions_split_the_68_points_once_each():
    points = [i for r in L.REGIONS.values() for i in r]
    assert sorted(points) == list(range(68))
    assert list(L.REGIONS) == ["jaw", "brows", "nose", "eyes", "mouth"]


def test_nose_turn_is_the_yaw_cue_roll_leaves_alone():
    """0 for a nose tip midway between the eyes, the offset along the eye line in eye distances
    otherwise, the same whichever way the face is rolled, for one face or a batch."""
    from synthmarks.landmarks import nose_turn

    face = np.zeros((68, 2))
    face[36:42] = (-1.0, 0.0)
    face[42:48] = (1.0, 0.0)
    face[30] = (0.0, 1.0)
    assert nose_turn(face) == pytest.approx(0.0)
    face[30] = (0.6, 1.0)  # 0.3 eye distances towards one eye
    a = np.deg2rad(70)
    rolled = face @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    assert nose_turn(np.stack([face, rolled])) == pytest.approx([0.3, 0.3])
