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
