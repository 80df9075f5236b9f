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
