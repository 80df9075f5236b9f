"""A built-in 68-point mean face and the neighbour tables PIPNet derives from a mean shape.

The trainer should pass the mean shape of its own training targets (``mean_shape=`` kwarg of the
PIPNet models); :data:`DEFAULT_MEAN_SHAPE_68` is the fallback. It was computed once from 3000
faces of ``synthmarks synth --seed 1``: each face's 68 points were placed in a square crop of side
1.3 x the larger side of their bounding box, centred on the box (the crop convention of the
pipeline), the per-point median taken and made left-right symmetric
(benchmarks/fit_mean_shapes.py prints it).
Coordinates are normalised crop coordinates (see :mod:`synthmarks.models.base`).
"""

from __future__ import annotations

import numpy as np

from synthmarks.landmarks import LEFT_EYE, RIGHT_EYE

DEFAULT_MEAN_SHAPE_68 = np.array(
    [
        (0.166, 0.300),
        (0.173, 0.402),
        (0.190, 0.493),
        (0.207, 0.584),
        (0.245, 0.688),
        (0.307, 0.780),
        (0.358, 0.827),
        (0.425, 0.860),
        (0.500, 0.885),
        (0.575, 0.860),
        (0.642, 0.827),
        (0.693, 0.780),
        (0.755, 0.688),
        (0.793, 0.584),
        (0.810, 0.493),
        (0.827, 0.402),
        (0.834, 0.300),
        (0.230, 0.205),
        (0.267, 0.158),
        (0.316, 0.139),
        (0.378, 0.143),
        (0.440, 0.161),
        (0.560, 0.161),
        (0.622, 0.143),
        (0.684, 0.139),
        (0.733, 0.158),
        (0.770, 0.205),
        (0.500, 0.277),
        (0.500, 0.334),
        (0.500, 0.387),
        (0.500, 0.452),
        (0.432, 0.532),
        (0.467, 0.534),
        (0.500, 0.538),
        (0.533, 0.534),
        (0.568, 0.532),
        (0.291, 0.295),
        (0.316, 0.273),
        (0.365, 0.272),
        (0.411, 0.307),
        (0.368, 0.312),
        (0.317, 0.311),
        (0.589, 0.307),
        (0.635, 0.272),
        (0.684, 0.273),
        (0.709, 0.295),
        (0.683, 0.311),
        (0.632, 0.312),
        (0.374, 0.656),
        (0.409, 0.619),
        (0.459, 0.601),
        (0.500, 0.605),
        (0.541, 0.601),
        (0.591, 0.619),
        (0.626, 0.656),
        (0.593, 0.693),
        (0.556, 0.711),
        (0.500, 0.717),
        (0.444, 0.711),
        (0.407, 0.693),
        (0.388, 0.655),
        (0.446, 0.645),
        (0.500, 0.647),
        (0.554, 0.645),
        (0.612, 0.655),
        (0.558, 0.661),
        (0.500, 0.665),
        (0.442, 0.661),
    ],
    dtype=np.float32,
)


def default_mean_shape(num_points: int) -> np.ndarray:
    """The built-in mean shape for 68 points, or 70 (68 + the two pupils, each the mean of its
    eye's six points). Other point sets must pass their own mean shape."""
    if num_points == 68:
        return DEFAULT_MEAN_SHAPE_68.copy()
    if num_points == 70:
        m = DEFAULT_MEAN_SHAPE_68
        pupils = np.stack([m[list(RIGHT_EYE)].mean(0), m[list(LEFT_EYE)].mean(0)])
        return np.concatenate([m, pupils]).astype(np.float32)
    raise ValueError(f"no built-in mean shape for {num_points} points; pass mean_shape=")


def nearest_neighbours(mean_shape: np.ndarray, k: int) -> np.ndarray:
    """[N, k] indices of each point's k nearest other points in the mean shape (ties broken by
    index, so the table is deterministic)."""
    shape = np.asarray(mean_shape, dtype=np.float64)
    if shape.ndim != 2 or shape.shape[1] != 2:
        raise ValueError(f"mean_shape must be [N, 2], got {shape.shape}")
    if not 0 < k < len(shape):
        raise ValueError(f"need 0 < num_neighbors < {len(shape)}, got {k}")
    dist = np.linalg.norm(shape[:, None] - shape[None], axis=-1)
    np.fill_diagonal(dist, np.inf)
    return np.argsort(dist, axis=1, kind="stable")[:, :k].astype(np.int64)
