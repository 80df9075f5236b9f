import numpy as np

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
