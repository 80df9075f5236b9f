"""Landmark accuracy metrics: NME under four normalisations, failure rate, CED/AUC, pose table,
bootstrap confidence intervals.

Errors are per image: the mean point-to-point distance divided by a normaliser taken from the
ground truth, so a method can never change its own yardstick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from synthmarks.landmarks import NUM_POINTS, OUTER_EYE_CORNERS, bounding_box, pupil_centres

YAW_BINS: tuple[tuple[float, float], ...] = ((0.0, 30.0), (30.0, 60.0), (60.0, 90.0))

#: the bootstrap of every report: 95 % percentile intervals from 2000 resamples with a fixed seed,
#: so the same predictions always print the same interval
CI_LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def interocular(gt: np.ndarray) -> float:
    """Distance between the outer eye corners (36, 45): 300-W's normaliser."""
    a, b = OUTER_EYE_CORNERS
    return float(np.linalg.norm(gt[a] - gt[b]))


def interpupil(gt: np.ndarray) -> float:
    """Distance between the pupil centres (points 68/69, or each eye's mean)."""
    p = pupil_centres(gt)
    return float(np.linalg.norm(p[0] - p[1]))


def box_size(gt: np.ndarray) -> float:
    """sqrt(w * h) of the ground-truth landmark box: AFLW2000-3D's normaliser, fair to profiles."""
    x0, y0, x1, y1 = bounding_box(gt)
    return float(np.sqrt((x1 - x0) * (y1 - y0)))


def box_diagonal(gt: np.ndarray) -> float:
    x0, y0, x1, y1 = bounding_box(gt)
    return float(np.hypot(x1 - x0, y1 - y0))


NORMALISERS: dict[str, Callable[[np.ndarray], float]] = {
    "interocular": interocular,
    "interpupil": interpupil,
    "box": box_size,
    "diagonal": box_diagonal,
}


def point_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(M, 68) Euclidean distances in pixels for M images (the 68 iBUG points only)."""
    pred = np.asarray(pred, dtype=np.float64)[..., :NUM_POINTS, :]
    gt = np.asarray(gt, dtype=np.float64)[..., :NUM_POINTS, :]
    return np.linalg.norm(pred - gt, axis=-1)


def normalisers(gt: np.ndarray, norm: str) -> np.ndarray:
    """(M,) normalising distance of each ground-truth shape."""
    if norm not in NORMALISERS:
        raise ValueError(f"unknown normalisation {norm!r}; choose from {sorted(NORMALISERS)}")
    fn = NORMALISERS[norm]
    return np.array([fn(g) for g in np.asarray(gt, dtype=np.float64)])


def nme(pred: np.ndarray, gt: np.ndarray, norm: str) -> np.ndarray:
    """(M,) normalised mean error of each image, as a fraction (0.05 = 5 %)."""
    return point_errors(pred, gt).mean(axis=1) / normalisers(gt, norm)


def per_landmark_nme(pred: np.ndarray, gt: np.ndarray, norm: str) -> np.ndarray:
    """(68,) mean normalised error of each landmark over the images."""
    return (point_errors(pred, gt) / normalisers(gt, norm)[:, None]).mean(axis=0)


def failure_rate(errors: np.ndarray, threshold: float) -> float:
    """Fraction of images whose NME is above ``threshold``."""
    return float(np.mean(np.asarray(errors) > threshold))


def auc(errors: np.ndarray, threshold: float) -> float:
    """Area under the CED curve from 0 to ``threshold``, divided by ``threshold`` (1.0 = perfect).

    Exact rather than sampled: integrating the step CED over [0, T] gives mean(max(T - e, 0)) / T.
    """
    e = np.asarray(errors, dtype=np.float64)
    return float(np.mean(np.clip(threshold - e, 0.0, None)) / threshold)


def ced(errors: np.ndarray, threshold: float, steps: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative error distribution: x in [0, threshold], fraction of images with NME <= x."""
    x = np.linspace(0.0, threshold, steps)
    e = np.sort(np.asarray(errors, dtype=np.float64))
    return x, np.searchsorted(e, x, side="right") / max(len(e), 1)


def yaw_bin_masks(yaws_deg: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean mask of each |yaw| bin, by its label ([0,30), [30,60), [60,90]; beyond 90 counts as
    90). One definition for the pose table and its bootstrap, so both see the same faces."""
    yaw = np.minimum(np.abs(np.asarray(yaws_deg, dtype=np.float64)), 90.0)
    masks: dict[str, np.ndarray] = {}
    for lo, hi in YAW_BINS:
        last = hi >= 90.0  # the last bin is closed, so a full profile (90 degrees) counts
        label = f"[{lo:g},{hi:g}]" if last else f"[{lo:g},{hi:g})"
        masks[label] = (yaw >= lo) & ((yaw <= hi) if last else (yaw < hi))
    return masks


def pose_table(errors: np.ndarray, yaws_deg: np.ndarray) -> dict[str, dict[str, float]]:
    """Mean NME per |yaw| bin (:func:`yaw_bin_masks`) and the mean of the bin means
    ("balanced"), which AFLW2000-3D papers report so frontal faces don't dominate."""
    e = np.asarray(errors, dtype=np.float64)
    table: dict[str, dict[str, float]] = {}
    means = []
    for label, mask in yaw_bin_masks(yaws_deg).items():
        mean = float(e[mask].mean()) if mask.any() else float("nan")
        table[label] = {"nme": mean, "count": int(mask.sum())}
        means.append(mean)
    valid = [m for m in means if not np.isnan(m)]
    table["balanced"] = {"nme": float(np.mean(valid)) if valid else float("nan"), "count": len(e)}
    return table


def _resampled_means(values: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(resamples,) means of ``values`` drawn with replacement, ``len(values)`` at a time.

    Drawn in chunks of about 4 M indices, so a large set (all 2000 AFLW2000-3D faces, or more)
    needs tens of MB rather than ``resamples x n`` at once.
    """
    n = len(values)
    out = np.empty(resamples)
    step = max(1, 4_000_000 // n)
    for start in range(0, resamples, step):
        k = min(step, resamples - start)
        out[start : start + k] = values[rng.integers(0, n, (k, n))].mean(axis=1)
    return out


def _check_bootstrap(level: float, resamples: int) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must be in (0, 1), got {level}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")


def _percentile_interval(means: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.quantile(means, [(1.0 - level) / 2.0, (1.0 + level) / 2.0])
    return float(lo), float(hi)


def bootstrap_ci(
    errors: np.ndarray,
    level: float = CI_LEVEL,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean NME: how far the dev-set mean could move with
    another draw of faces like these (200 faces: about +-0.4 points), so that two models, or a
    model and a published figure, are not called different on a gap the sample cannot resolve.

    Resamples the images with replacement ``resamples`` times and takes the ``(1 - level) / 2``
    and ``(1 + level) / 2`` quantiles of the resampled means. The fixed ``seed`` makes a report
    reproducible. NaN (no images, or a NaN/infinite error, whose mean is no number either).

    Written on numpy rather than ``scipy.stats.bootstrap``: that one rejects a sample of one
    observation, which a yaw bin of a small ``--limit`` run can be, and its seeding keyword
    changed within the scipy versions this package accepts.
    """
    _check_bootstrap(level, resamples)
    e = np.asarray(errors, dtype=np.float64).ravel()
    if e.size == 0 or not np.all(np.isfinite(e)):
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    return _percentile_interval(_resampled_means(e, resamples, rng), level)


def balanced_bootstrap_ci(
    errors: np.ndarray,
    yaws_deg: np.ndarray,
    level: float = CI_LEVEL,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the balanced NME (the mean of the yaw-bin means).

    Each bin is resampled within itself, keeping its size: the balanced mean weighs the bins
    equally whatever their counts, so a resample that moved faces between bins would measure a
    different statistic. The few profile faces (23 of the 200 dev faces at 60-90 degrees) then
    make most of the width, as they should. Empty bins are left out, as in :func:`pose_table`.
    """
    _check_bootstrap(level, resamples)
    e = np.asarray(errors, dtype=np.float64).ravel()
    groups = [e[mask] for mask in yaw_bin_masks(yaws_deg).values() if mask.any()]
    if not groups or not np.all(np.isfinite(e)):
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.mean([_resampled_means(g, resamples, rng) for g in groups], axis=0)
    return _percentile_interval(means, level)


#: the standard AFLW2000-3D pose protocol leaves out faces with any angle beyond this (degrees)
POSE_LIMIT_DEG = 99.0


def pose_mae(pred_deg: np.ndarray, gt_deg: np.ndarray) -> dict[str, Any]:
    """Head-pose mean absolute error (degrees) of (M, 3) (pitch, yaw, roll) predictions: each
    angle's, their mean (``mae``, the figure papers report), and per |yaw| bin of the ground
    truth. Faces with any true angle beyond :data:`POSE_LIMIT_DEG` are dropped first, as the
    published protocol does (31 of AFLW2000-3D's 2000); ``dropped`` says how many."""
    pred = np.asarray(pred_deg, np.float64)
    gt = np.asarray(gt_deg, np.float64)
    keep = (np.abs(gt) <= POSE_LIMIT_DEG).all(axis=1)
    err = np.abs(pred[keep] - gt[keep])
    out: dict[str, Any] = {
        "mae": float(err.mean()) if len(err) else float("nan"),
        **{
            name: float(err[:, i].mean()) if len(err) else float("nan")
            for i, name in enumerate(("pitch", "yaw", "roll"))
        },
        "count": int(keep.sum()),
        "dropped": int((~keep).sum()),
        "per_yaw_bin": {},
    }
    for label, mask in yaw_bin_masks(gt[keep, 1]).items():
        mae = float(err[mask].mean()) if mask.any() else float("nan")
        out["per_yaw_bin"][label] = {"mae": mae, "count": int(mask.sum())}
    return out
