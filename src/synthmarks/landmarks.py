"""The landmark scheme: iBUG 68 points plus the two pupil centres of Face Synthetics.

Everything that depends on *which* point is which (flipping, normalising, drawing) reads it
from here.
Point 68 is the pupil of the eye drawn by points 36-41 (the subject's right eye, image left in a
frontal face); point 69 belongs to 42-47.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
#: the five regions diagnostics report error and offsets by
REGIONS: dict[str, range] = {
    "jaw": JAW,
    "brows": range(17, 27),
    "nose": range(27, 36),
    "eyes": range(36, 48),
    "mouth": range(48, 68),
}

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


#: Number of points of a jaw line (either convention).
JAW_POINTS = 17
#: The two jaw conventions: ``xray`` (the true jaw line, AFLW2000-3D and Face Synthetics) and
#: ``outline`` (the visible face outline, 300-W, AFW, dlib, MediaPipe).
JAWS = ("outline", "xray")


def flip_permutation(n: int) -> np.ndarray:
    """The left-right relabelling of an ``n``-point output: 68 or 70 scheme points, optionally
    followed by a 17-point outline jaw (85 or 87), which flips exactly like the x-ray jaw."""
    if n in (NUM_POINTS, NUM_POINTS_WITH_PUPILS):
        return FLIP_PERMUTATION[:n].copy()
    base = n - JAW_POINTS
    if base not in (NUM_POINTS, NUM_POINTS_WITH_PUPILS):
        raise ValueError(f"no flip permutation for {n} points")
    jaw = FLIP_PERMUTATION[:JAW_POINTS] + base
    return np.concatenate([FLIP_PERMUTATION[:base], jaw])


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
    out = points[flip_permutation(len(points))].copy()
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


@dataclass(frozen=True)
class OutputLayout:
    """What a network outputs, in order: the ``landmarks`` scheme points (68, or 70 with the
    pupils), then the 17 outline-jaw points when ``outline_jaw``, plus a head pose (3 angles)
    when ``pose``.

    One network learns both jaw conventions from the same pixels, so the outline jaw rides along
    as extra points instead of a second model; everything downstream (flip, crop, NME) keeps
    treating the first ``landmarks`` points as the scheme. Saved as ``outputs`` in checkpoints
    and ONNX metadata; a file without it is a plain ``landmarks``-point model.
    """

    landmarks: int = NUM_POINTS
    outline_jaw: bool = False
    pose: bool = False

    def __post_init__(self) -> None:
        if self.landmarks not in (NUM_POINTS, NUM_POINTS_WITH_PUPILS):
            raise ValueError(f"landmarks must be 68 or 70, got {self.landmarks}")

    @property
    def num_points(self) -> int:
        """Points the network predicts (scheme + outline jaw)."""
        return self.landmarks + (JAW_POINTS if self.outline_jaw else 0)

    @property
    def plain(self) -> bool:
        """True for the layout every model had before outline jaw and pose existed."""
        return not (self.outline_jaw or self.pose)

    @property
    def outline_slice(self) -> slice:
        return slice(self.landmarks, self.landmarks + JAW_POINTS)

    def to_json(self) -> dict[str, Any]:
        return {"landmarks": self.landmarks, "outline_jaw": self.outline_jaw, "pose": self.pose}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None, landmarks: int = NUM_POINTS) -> OutputLayout:
        """The layout saved as ``outputs``; None (an older file) is the plain layout."""
        if not data:
            return cls(int(landmarks))
        return cls(
            int(data.get("landmarks", landmarks)),
            bool(data.get("outline_jaw", False)),
            bool(data.get("pose", False)),
        )

    def with_jaw(self, points: np.ndarray, jaw: str) -> np.ndarray:
        """The scheme points (..., landmarks, 2) of a network output (..., num_points, 2) with the
        jaw of convention ``jaw``; ``outline`` needs an outline head (check ``outline_jaw``)."""
        out = points[..., : self.landmarks, :].copy()
        if jaw == "outline":
            if not self.outline_jaw:
                raise ValueError("this model has no outline jaw")
            out[..., :JAW_POINTS, :] = points[..., self.outline_slice, :]
        elif jaw != "xray":
            raise ValueError(f"jaw must be one of {JAWS}, got {jaw!r}")
        return out


def nose_turn(points: np.ndarray, signed: bool = False) -> np.ndarray:
    """How far the nose tip (point 30) sits from the eyes' midpoint along the eye line, in eye
    distances, for (N, 68+, 2) or one (68+, 2) face: about 0 on a frontal face, growing with yaw
    and unchanged by roll, so sets of different poses can be cut to their near-frontal faces.
    ``signed``: positive towards the left eye's side (points 42-47), which way the face turned."""
    p = np.asarray(points, np.float64)
    left, right = p[..., 36:42, :].mean(-2), p[..., 42:48, :].mean(-2)
    eye = right - left
    along = ((p[..., 30, :] - (left + right) / 2) * eye).sum(-1) / np.maximum(
        (eye**2).sum(-1), 1e-9
    )
    return along if signed else np.abs(along)
