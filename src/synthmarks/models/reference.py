"""The mean-shape reference: the average training shape stretched into the face box.

It needs no image at all, so every learned model must beat it; its NME is the floor of the table.
Shapes are stored in landmark-box coordinates ((x - x0) / w, (y - y0) / h).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthmarks.data.sample import Sample
from synthmarks.errors import SynthmarksError
from synthmarks.landmarks import NUM_POINTS, bounding_box

#: fitted with ``fit_mean_shape`` on faces made by ``synthmarks synth --seed 1``; remade by
#: benchmarks/fit_mean_shapes.py --write.
PACKAGED = Path(__file__).resolve().parent.parent / "assets" / "mean_shape.npy"


def fit_mean_shape(samples: list[Sample]) -> np.ndarray:
    """(68, 2) mean of the shapes, each normalised to its own landmark box."""
    if not samples:
        raise SynthmarksError("cannot fit a mean shape on an empty dataset")
    return np.mean([to_box_coords(s.points) for s in samples], axis=0).astype(np.float32)


def to_box_coords(points: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = bounding_box(points)
    return (points[:NUM_POINTS] - [x0, y0]) / [max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)]


class MeanShape:
    """A landmark 'model' that places a fixed shape in the given box."""

    def __init__(self, shape01: np.ndarray, source: str = "") -> None:
        self.shape01 = np.asarray(shape01, dtype=np.float32)
        self.source = source

    @classmethod
    def from_spec(cls, spec: str) -> MeanShape:
        """``mean-shape`` (the packaged shape, fitted on synthmarks' own synthetic faces) or
        ``mean-shape:PATH`` (fitted now on the dataset at PATH, or loaded from a .npy file)."""
        _, _, where = spec.partition(":")
        if not where:
            if not PACKAGED.is_file():
                raise SynthmarksError(f"{PACKAGED}: packaged mean shape is missing")
            return cls(np.load(PACKAGED), "synthmarks synthetic faces")
        path = Path(where)
        if path.suffix == ".npy":
            if not path.is_file():
                raise SynthmarksError(f"{path}: mean shape file not found")
            return cls(np.load(path), str(path))
        from synthmarks.data.readers import load_dataset

        return cls(fit_mean_shape(load_dataset(path)), str(path))

    def predict_batch(self, images: list[np.ndarray], boxes: np.ndarray) -> np.ndarray:
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        wh = boxes[:, 2:] - boxes[:, :2]
        return (boxes[:, None, :2] + self.shape01[None] * wh[:, None]).astype(np.float32)
