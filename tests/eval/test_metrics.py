"""Every normalisation and summary statistic against values worked out by hand."""

import math

import numpy as np
import pytest

from synthmarks.eval import metrics


def square_face() -> np.ndarray:
    """68 points inside a 40 x 10 box, outer eye corners 36/45 at distance 30."""
    gt = np.zeros((68, 2))
    gt[:, 0] = 5.0
    gt[:, 1] = 5.0
    gt[0] = [0, 0]
    gt[1] = [40, 10]
    gt[36] = [5, 5]
    gt[45] = [35, 5]
    gt[36 + 1 : 42] = [5, 5]
    gt[43:48] = [35, 5]
    gt[42] = [35, 5]
    return gt


def test_normalisers_by_hand():
    gt = square_face()
    assert metrics.interocular(gt) == pytest.approx(30.0)
    assert metrics.box_size(gt) == pytest.approx(math.sqrt(400.0))
    assert metrics.box_diagonal(gt) == pytest.approx(math.hypot(40, 10))
    # eye means: left eye all (5,5), right eye all (35,5) -> 30
    assert metrics.interpupil(gt) == pytest.approx(30.0)
    gt70 = np.vstack([gt, [[10, 5], [30, 5]]])
    assert metrics.interpupil(gt70) == pytest.approx(20.0)


def test_nme_each_norm_by_hand():
    gt = square_face()
    pred = gt.copy()
    pred[2] += [3.0, 4.0]  # one point off by 5 px -> mean error 5/68
    mean_err = 5.0 / 68
    assert metrics.nme(pred[None], gt[None], "interocular")[0] == pytest.approx(mean_err / 30)
    assert metrics.nme(pred[None], gt[None], "box")[0] == pytest.approx(mean_err / 20)
    assert metrics.nme(pred[None], gt[None], "diagonal")[0] == pytest.approx(
        mean_err / math.hypot(40, 10)
    )
    assert metrics.nme(pred[None], gt[None], "interpupil")[0] == pytest.approx(mean_err / 30)
    per = metrics.per_landmark_nme(pred[None], gt[None], "box")
    assert per[2] == pytest.approx(5 / 20) and per[3] == 0


def test_pupils_are_ignored_in_the_error():
    gt = np.vstack([square_face(), [[10, 5], [30, 5]]])
    pred = gt.copy()
    pred[68:] += 100
    assert metrics.nme(pred[None], gt[None], "box")[0] == 0


def test_failure_rate_auc_and_ced_by_hand():
    e = np.array([0.01, 0.02, 0.05, 0.09])
    assert metrics.failure_rate(e, 0.08) == 0.25
    # AUC@0.08 = mean(max(0.08 - e, 0)) / 0.08 = (0.07 + 0.06 + 0.03 + 0) / 4 / 0.08
    assert metrics.auc(e, 0.08) == pytest.approx(0.16 / 4 / 0.08)
    x, y = metrics.ced(e, 0.08, steps=9)
    assert y[0] == 0 and y[1] == 0.25 and y[-1] == 0.75
    # sampled CED integrates to the exact AUC
    x, y = metrics.ced(e, 0.08, steps=100001)
    assert np.trapezoid(y, x) / 0.08 == pytest.approx(metrics.auc(e, 0.08), abs=1e-4)


def test_pose_table_bins_and_balanced_mean():
    e = np.array([0.02, 0.04, 0.06, 0.10, 0.20])
    yaw = np.array([-10.0, 29.9, -30.0, 75.0, 120.0])
    t = metrics.pose_table(e, yaw)
    assert t["[0,30)"] == {"nme": pytest.approx(0.03), "count": 2}
    assert t["[30,60)"] == {"nme": pytest.approx(0.06), "count": 1}
    assert t["[60,90]"] == {"nme": pytest.approx(0.15), "count": 2}
    assert t["balanced"]["nme"] == pytest.approx((0.03 + 0.06 + 0.15) / 3)


def test_unknown_norm_is_rejected():
    with pytest.raises(ValueError):
        metrics.nme(np.zeros((1, 68, 2)), np.zeros((1, 68, 2)), "cheek")


def test_bootstrap_by_hand():
    """Two images, errors 0 and 1: a resampled mean is 0, 0.5 or 1 with chances 1/4, 1/2, 1/4,
    so the 2.5 % and 97.5 % quantiles of 2000 resampled means are exactly 0 and 1."""
    assert metrics.bootstrap_ci(np.array([0.0, 1.0])) == (0.0, 1.0)
    assert metrics.bootstrap_ci(np.full(7, 0.04)) == pytest.approx((0.04, 0.04))
    # one image: every resample is that image
    assert metrics.bootstrap_ci(np.array([0.05])) == pytest.approx((0.05, 0.05))


def test_balanced_bootstrap_resamples_within_each_bin_by_hand():
    """Bins [0,30): {0, 0.3}; [30,60): {0.03, 0.03}; [60,90]: {0.06}. Only the first bin varies:
    its resampled mean is 0, 0.15 or 0.3 (chances 1/4, 1/2, 1/4), so the balanced mean runs from
    (0 + 0.03 + 0.06) / 3 = 0.03 to (0.3 + 0.03 + 0.06) / 3 = 0.13. Resampling across bins would
    also move faces between bins and give another interval."""
    e = np.array([0.0, 0.3, 0.03, 0.03, 0.06])
    yaw = np.array([5.0, -20.0, 40.0, -45.0, 95.0])
    lo, hi = metrics.balanced_bootstrap_ci(e, yaw)
    assert (lo, hi) == (pytest.approx(0.03), pytest.approx(0.13))
    assert metrics.pose_table(e, yaw)["balanced"]["nme"] == pytest.approx((0.15 + 0.03 + 0.06) / 3)
    # an empty bin is left out, as in the pose table
    lo, hi = metrics.balanced_bootstrap_ci(e[:4], yaw[:4])
    assert (lo, hi) == (pytest.approx(0.03 / 2), pytest.approx(0.33 / 2))


def skewed_errors(n: int, seed: int) -> np.ndarray:
    """Per-image NMEs shaped like real ones: mostly near 4 %, a long tail of failures."""
    return np.random.default_rng(seed).lognormal(np.log(0.04), 0.5, n)


@pytest.mark.parametrize("seed", range(5))
def test_bootstrap_contains_the_mean(seed):
    e = skewed_errors(200, seed)
    lo, hi = metrics.bootstrap_ci(e)
    assert lo < e.mean() < hi
    yaw = np.random.default_rng(seed).uniform(-90, 90, 200)
    balanced = metrics.pose_table(e, yaw)["balanced"]["nme"]
    lo, hi = metrics.balanced_bootstrap_ci(e, yaw)
    assert lo < balanced < hi


def test_bootstrap_is_reproducible_and_seeded():
    e = skewed_errors(200, 0)
    yaw = np.random.default_rng(1).uniform(-90, 90, 200)
    assert metrics.bootstrap_ci(e) == metrics.bootstrap_ci(e.copy())
    assert metrics.balanced_bootstrap_ci(e, yaw) == metrics.balanced_bootstrap_ci(e, yaw)
    assert metrics.bootstrap_ci(e, seed=1) != metrics.bootstrap_ci(e)


def test_bootstrap_narrows_as_n_grows():
    """The width of a mean's interval falls like 1 / sqrt(n): 40x the faces, ~6x narrower."""
    widths = {n: np.subtract(*metrics.bootstrap_ci(skewed_errors(n, 0))[::-1]) for n in (50, 2000)}
    assert 3 < widths[50] / widths[2000] < 12
    # 200 faces like the dev split: about +-0.4 points, as the issue expects
    lo, hi = metrics.bootstrap_ci(skewed_errors(200, 0))
    assert 0.002 < (hi - lo) / 2 < 0.006


def test_bootstrap_of_nothing_or_nan_is_nan_and_bad_settings_raise():
    assert all(np.isnan(metrics.bootstrap_ci(np.array([]))))
    assert all(np.isnan(metrics.bootstrap_ci(np.array([0.1, np.nan]))))
    assert all(np.isnan(metrics.balanced_bootstrap_ci(np.array([0.1, np.inf]), np.zeros(2))))
    with pytest.raises(ValueError, match="level"):
        metrics.bootstrap_ci(np.ones(3), level=95)
    with pytest.raises(ValueError, match="resamples"):
        metrics.bootstrap_ci(np.ones(3), resamples=0)
