"""The landmark scheme: iBUG 68 points plus the two pupil centres of Face Synthetics.

Everything that depends on *which* point is which (flipping, normalising, drawing) reads it
from here.
Point 68 is the pupil of the eye drawn by points 36-41 (the subject's right eye, image left in a
frontal face); point 69 belongs to 42-47.
"""

from __future__ import annotations

import numpy as np

NUM_POINTS = 68
NUM_POINTS_WITH_PUPILS = 70

JAW = range(0, 17)
RIGHT_BROW = range(17, 22)
LEFT_BROW = range(22, 27)
#: each eyebrow's points from its inner end to its outer end
BROW_LINES = (list(RIGHT_BROW)[::-1], list(LEFT_BROW))
NOSE_BRIDGE = range(27, 31)
NOSE_BOTTOM = range(31, 36)
RIGHT_EYE = range(36, 42)
LEFT_EYE = range(42, 48)
OUTER_LIPS = range(48, 60)
INNER_LIPS = range(60, 68)
PUPILS = (68, 69)

#: Outer eye corners, the usual inter-ocular normalisation of 300-W.
OUTER_EYE_CORNERS = (36, 45)

#: Contours drawn for a face: (point indices, closed?).
CONTOURS: list[tuple[tuple[int, ...], bool]] = [
    (tuple(JAW), False),
    (tuple(RIGHT_BROW), False),
    (tuple(LEFT_BROW), False),
    (tuple(NOSE_BRIDGE), False),
    (tuple(NOSE_BOTTOM), False),
    (tuple(RIGHT_EYE), True),
    (tuple(LEFT_EYE), True),
    (tuple(OUTER_LIPS), True),
    (tuple(INNER_LIPS), True),
]


def _line_segments() -> np.ndarray:
    segs = []
    for idx, closed in CONTOURS:
        segs += list(zip(idx[:-1], idx[1:], strict=True))
        if closed:
            segs.append((idx[-1], idx[0]))
    segs.append((30, 33))  # nose tip to the centre of the nostril line
    return np.array(segs, dtype=np.int64)


#: (K, 2) pairs of point indices joined when a face is drawn.
SEGMENTS = _line_segments()


def _flip_permutation() -> np.ndarray:
    perm = list(range(NUM_POINTS_WITH_PUPILS))

    def swap(a: list[int] | range, b: list[int] | range) -> None:
        for i, j in zip(a, b, strict=True):
            perm[i], perm[j] = j, i

    swap(range(0, 8), range(16, 8, -1))  # jaw; 8 is the chin
    swap(range(17, 22), range(26, 21, -1))  # brows
    swap(range(31, 33), range(35, 33, -1))  # nostrils; 33 is the centre
    swap([36, 37, 38, 39, 40, 41], [45, 44, 43, 42, 47, 46])  # eyes
    swap([48, 49, 50], [54, 53, 52])  # upper outer lip
    swap([55, 56], [59, 58])  # lower outer lip
    swap([60, 61], [64, 63])  # upper inner lip
    swap([65], [67])  # lower inner lip
    swap([68], [69])  # pupils
    return np.array(perm, dtype=np.int64)


#: After mirroring an image horizontally, ``points[FLIP_PERMUTATION]`` relabels the points so that
#: index i again means the same facial feature. It is its own inverse.
FLIP_PERMUTATION = _flip_permutation()


def flip_points(points: np.ndarray, width: float) -> np.ndarray:
    """Mirror points for an image ``width`` pixels wide flipped left-right (pixel centres)."""
    out = points[FLIP_PERMUTATION[: len(points)]].copy()
    out[:, 0] = width - 1 - out[:, 0]
    return out


def pupil_centres(points: np.ndarray) -> np.ndarray:
    """(2, 2) pupil centres: points 68/69 when present, else the mean of each eye's six points."""
    if len(points) >= NUM_POINTS_WITH_PUPILS:
        return points[list(PUPILS)].astype(np.float64)
    return np.stack([points[list(RIGHT_EYE)].mean(0), points[list(LEFT_EYE)].mean(0)])


def bounding_box(points: np.ndarray) -> np.ndarray:
    """(x0, y0, x1, y1) of the 68 iBUG points (pupils excluded)."""
    p = points[:NUM_POINTS]
    return np.array([*p.min(0), *p.max(0)], dtype=np.float64)
