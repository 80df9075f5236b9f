"""The two packaged mean shapes, remade from a synthetic set: their numbers came from this.

    synthmarks synth --out data/synth/release --count 3000 --seed 1
    python benchmarks/fit_mean_shapes.py data/synth/release --count 3000 [--write]

* ``src/synthmarks/assets/mean_shape.npy``, the ``mean-shape`` reference of ``eval``: each face's
  68 points in its own landmark box ((x - x0) / w, (y - y0) / h), averaged
  (:func:`synthmarks.models.reference.fit_mean_shape`). ``--write`` replaces the file.
* ``DEFAULT_MEAN_SHAPE_68`` in src/synthmarks/models/mean_shape.py, PIPNet's fallback neighbour
  table: each face's points in the model's crop (a square 1.3 x the landmark box's longer side,
  centred on it, in normalised crop coordinates), the per-point median, made left-right
  symmetric with the flip table; printed as the Python to paste.

Both are compared with the packaged values (the largest difference is printed).
"""

from __future__ import annotations

import argparse

import numpy as np

from synthmarks.data import crop
from synthmarks.data.readers import load_dataset
from synthmarks.landmarks import FLIP_PERMUTATION, NUM_POINTS, bounding_box
from synthmarks.models.mean_shape import DEFAULT_MEAN_SHAPE_68
from synthmarks.models.reference import PACKAGED, fit_mean_shape

CROP_SCALE, SIZE = 1.3, 128


def crop_median(points: list[np.ndarray]) -> np.ndarray:
    """Per-point median of the points in the model's crop, made left-right symmetric."""
    normed = []
    for pts in points:
        m = crop.box_crop_matrix(bounding_box(pts), SIZE, CROP_SCALE)
        normed.append((crop.apply(m, pts[:NUM_POINTS]) + 0.5) / SIZE)
    median = np.median(normed, axis=0)
    mirrored = median[FLIP_PERMUTATION[:NUM_POINTS]].copy()
    mirrored[:, 0] = 1.0 - mirrored[:, 0]
    return ((median + mirrored) / 2).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", help="a synthetic set (synthmarks synth --seed 1)")
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--write", action="store_true", help=f"replace {PACKAGED.name}")
    args = ap.parse_args()

    samples = load_dataset(args.data, limit=args.count)
    box_mean = fit_mean_shape(samples)
    default = crop_median([s.points for s in samples])
    print(f"{len(samples)} faces of {args.data}")
    print(f"{PACKAGED.name}: largest difference {np.abs(box_mean - np.load(PACKAGED)).max():.4f}")
    print(
        "DEFAULT_MEAN_SHAPE_68: largest difference "
        f"{np.abs(default - DEFAULT_MEAN_SHAPE_68).max():.4f}"
    )
    print("DEFAULT_MEAN_SHAPE_68 = np.array(\n    [")
    for x, y in default:
        print(f"        ({x:.3f}, {y:.3f}),")
    print("    ],\n    dtype=np.float32,\n)")
    if args.write:
        np.save(PACKAGED, box_mean)
        print(f"wrote {PACKAGED}")


if __name__ == "__main__":
    main()
