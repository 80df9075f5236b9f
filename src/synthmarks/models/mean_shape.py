"""A built-in 68-point mean face and the neighbour tables PIPNet derives from a mean shape.

The trainer should pass the mean shape of its own training targets (``mean_shape=`` kwarg of the
PIPNet models); :data:`DEFAULT_MEAN_SHAPE_68` is the fallback. It was computed once from the 100
Face Synthetics samples in ``shared/data/facesynthetics-100``: each face's 68 points were placed
in a square crop of side 1.3 x the larger side of their bounding box, centred on the box (the
crop convention of the pipeline), the per-point median taken and made left-right symmetric.
Coordinates are normalised crop coordinates (see :mod:`synthmarks.models.base`).
"""

from __future__ import annotations

import numpy as np

from synthmarks.landmarks import LEFT_EYE, RIGHT_EYE

DEFAULT_MEAN_SHAPE_68 = np.array(
    [
        (0.141, 0.294),
        (0.161, 0.405),
        (0.186, 0.491),
        (0.217, 0.589),
        (0.243, 0.661),
        (0.290, 0.734),
        (0.335, 0.793),
        (0.410, 0.839),
        (0.500, 0.868),
        (0.590, 0.839),
        (0.665, 0.793),
        (0.710, 0.734),
        (0.757, 0.661),
        (0.783, 0.589),
        (0.814, 0.491),
        (0.839, 0.405),
        (0.859, 0.294),
        (0.249, 0.184),
        (0.274, 0.164),
        (0.315, 0.159),
        (0.365, 0.168),
        (0.418, 0.187),
        (0.582, 0.187),
        (0.635, 0.168),
        (0.685, 0.159),
        (0.726, 0.164),
        (0.751, 0.184),
        (0.500, 0.247),
        (0.500, 0.313),
        (0.500, 0.376),
        (0.500, 0.449),
        (0.404, 0.496),
        (0.448, 0.525),
        (0.500, 0.533),
        (0.552, 0.525),
        (0.596, 0.496),
        (0.289, 0.270),
        (0.307, 0.250),
        (0.356, 0.251),
        (0.396, 0.281),
        (0.352, 0.290),
        (0.308, 0.287),
        (0.604, 0.281),
        (0.644, 0.251),
        (0.693, 0.250),
        (0.711, 0.270),
        (0.692, 0.287),
        (0.648, 0.290),
        (0.369, 0.651),
        (0.403, 0.623),
        (0.438, 0.606),
        (0.500, 0.606),
        (0.562, 0.606),
        (0.597, 0.623),
        (0.631, 0.651),
        (0.602, 0.680),
        (0.556, 0.711),
        (0.500, 0.718),
        (0.444, 0.711),
        (0.398, 0.680),
        (0.380, 0.650),
        (0.445, 0.638),
        (0.500, 0.635),
        (0.555, 0.638),
        (0.620, 0.650),
        (0.553, 0.671),
        (0.500, 0.676),
        (0.447, 0.671),
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
