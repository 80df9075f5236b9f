import numpy as np

from synthmarks.infer.smooth import OneEuroConfig, OneEuroFilter, jitter


def test_one_euro_removes_jitter_on_a_still_face():
    rng = np.random.default_rng(0)
    truth = rng.uniform(100, 200, (68, 2))
    noisy = truth + rng.normal(0, 1.0, (120, 68, 2))
    f = OneEuroFilter(OneEuroConfig(min_cutoff=1.0, beta=20.0))
    smooth = np.stack([f(p, i / 30, scale=100.0) for i, p in enumerate(noisy)])
    assert jitter(smooth[10:], 100.0) < 0.3 * jitter(noisy[10:], 100.0)


def test_one_euro_follows_a_moving_face_with_little_lag():
    truth0 = np.zeros((68, 2))
    f = OneEuroFilter(OneEuroConfig(min_cutoff=1.0, beta=20.0))
    out = None
    for i in range(60):  # 300 px/s = 3 face sizes per second
        out = f(truth0 + [10.0 * i, 0.0], i / 30, scale=100.0)
    assert abs(out[0, 0] - 590.0) < 10.0


def test_disabled_filter_is_identity_and_first_frame_passes_through():
    p = np.ones((68, 2))
    assert np.array_equal(OneEuroFilter(OneEuroConfig(enabled=False))(p, 0.0), p)
    assert np.array_equal(OneEuroFilter()(p, 0.0), p)


def _track(pose):
    from synthmarks.infer.track import Track

    return Track(0, np.zeros((68, 2)), np.ones(68), 1.0, OneEuroFilter(), pose=pose)


def test_a_tracks_pose_is_smoothed_and_follows_a_turn():
    """A still head's pose jitter is filtered like its points; a held turn is reached."""
    rng = np.random.default_rng(1)
    track = _track(None)
    truth = np.array([5.0, 20.0, -10.0])
    raw, out = [], []
    for i in range(90):
        track.pose = truth + rng.normal(0, 2.0, 3)
        raw.append(track.pose)
        out.append(track.smooth_pose(i / 30))
    step = lambda a: np.abs(np.diff(np.array(a)[10:], axis=0)).mean()  # noqa: E731
    assert step(out) < 0.5 * step(raw)  # 0.41 with these draws
    for i in range(90, 150):  # the head turns to yaw 50 and stays
        track.pose = np.array([5.0, 50.0, -10.0])
        last = track.smooth_pose(i / 30)
    assert abs(last[1] - 50.0) < 1.0


def test_a_roll_crossing_180_is_not_averaged_through_0():
    track = _track(np.array([0.0, 0.0, 179.0]))
    track.smooth_pose(0.0)
    for i, roll in enumerate([-179.0, 179.5, -179.5, 179.0], start=1):
        track.pose = np.array([0.0, 0.0, roll])
        out = track.smooth_pose(i / 30)
        assert abs(abs(out[2]) - 180.0) < 2.0, out


def test_no_pose_stays_none():
    assert _track(None).smooth_pose(0.0) is None


def test_noisy_frames_are_a_webcams_still_face():
    """The frames jitter is measured on: uint8 like a camera's, every frame with its own noise of
    about 3 grey levels, and the same frames for the same seed, so models compare on one set."""
    from synthmarks.infer.video import noisy_frames

    image = np.full((40, 50, 3), 128, np.uint8)
    frames = noisy_frames(image, 4, seed=1)
    assert len(frames) == 4 and all(f.dtype == np.uint8 and f.shape == image.shape for f in frames)
    assert not np.array_equal(frames[0], frames[1])
    assert 2.5 < np.std(frames[0].astype(float) - 128) < 3.5
    assert all(
        np.array_equal(a, b) for a, b in zip(frames, noisy_frames(image, 4, seed=1), strict=True)
    )
