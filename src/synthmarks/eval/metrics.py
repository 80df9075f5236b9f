"""Landmark accuracy metrics: NME under four normalisations, failure rate, CED/AUC, pose table.

Errors are per image: the mean point-to-point distance divided by a normaliser taken from the
ground truth, so a method can never change its own yardstick.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from synthmarks.landmarks import NUM_POINTS, OUTER_EYE_CORNERS, bounding_box, pupil_centres

YAW_BINS: tuple[tuple[float, float], ...] = ((0.0, 30.0), (30.0, 60.0), (60.0, 90.0))


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


def pose_table(errors: np.ndarray, yaws_deg: np.ndarray) -> dict[str, dict[str, float]]:
    """Mean NME per |yaw| bin ([0,30), [30,60), [60,90]; beyond 90 counts as 90) and the mean of
    the bin means ("balanced"), which AFLW2000-3D papers report so frontal faces don't dominate."""
    e = np.asarray(errors, dtype=np.float64)
    yaw = np.minimum(np.abs(np.asarray(yaws_deg, dtype=np.float64)), 90.0)
    table: dict[str, dict[str, float]] = {}
    means = []
    for lo, hi in YAW_BINS:
        mask = (yaw >= lo) & ((yaw < hi) if hi < 90.0 else (yaw <= hi))
        mean = float(e[mask].mean()) if mask.any() else float("nan")
        table[f"[{lo:g},{hi:g})" if hi < 90 else f"[{lo:g},{hi:g}]"] = {
            "nme": mean,
            "count": int(mask.sum()),
        }
        means.append(mean)
    valid = [m for m in means if not np.isnan(m)]
    table["balanced"] = {"nme": float(np.mean(valid)) if valid else float("nan"), "count": len(e)}
    return table
