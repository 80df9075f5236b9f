"""How a labelled set defines the points a generator has to choose: brow height and lip columns.

Two labelling processes can agree on every face and still differ by a definition: where across
the brow its points sit, where along the lip the inner-lip points stand. A model trained on a
generator's labels learns the generator's definition, so each one is measured here on the labels
alone (no model), on near-frontal faces (nose tip between the eye corners: the ratio of its
distances to points 36 and 45 within 0.75-1.33), in the eye line's frame and in inter-ocular
distances (between the eyes' centres):

- ``brow height``: the mean height of points 17-26 above the eyes' centre, along the face's up
  axis (the eyes' centre minus the mouth's);
- ``lip columns``: the lateral offset of 61/67/58 from the cupid's bow peak 50 and of 63/65/56
  from 52 (+ outwards), and the peaks' own distance from point 51;
- ``lid columns``: where each eyelid point stands along its eye, as the fraction of the way from
  the outer corner to the inner one (both eyes averaged: 37/44 and 38/43 on the upper lid, 41/46
  and 40/47 on the lower);
- ``jaw``: how far the chin (8) and the points beside it (7/9) lie below the eyes' centre, and
  half the width of the jaw at 5/11 and 4/12 (the outline jaw's frontal shape; with ``--jaw
  outline`` a generator set's outline is read from its meta.json); a second table gives every
  jaw point's height below the eyes' centre (the x-ray jaw's height: ``--jaw xray``).

Medians over the set. With ``-m MODEL`` the same is measured on the model's predictions for the
same faces (``synthmarks eval``'s crop from the labels' box, one upright pass, the jaw the labels
carry): whether a model reads a definition off the photo or carries its training labels' own.
A diagnostic of label definitions: a generator's definition is changed only where independent
labelling processes agree with each other and not with it.

    python benchmarks/label_geometry.py --data ../shared/data/afw-68pt data/synth/some_set
    python benchmarks/label_geometry.py --data ../shared/data/afw-68pt -m default
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from synthmarks.data.readers import load_dataset

#: (point, the cupid's bow peak whose column it shares in the 68-point mark-up)
COLUMNS = ((61, 50), (67, 50), (58, 50), (63, 52), (65, 52), (56, 52))

#: (outer corner, inner corner, lid points of one eye) for each eye, the right eye mirrored so
#: that its points pair with the left eye's in the same order.
EYES = ((36, 39, (37, 38, 41, 40)), (45, 42, (44, 43, 46, 47)))


def near_frontal(points: np.ndarray) -> bool:
    ratio = np.linalg.norm(points[30] - points[36]) / np.linalg.norm(points[30] - points[45])
    return 0.75 < ratio < 1.33


def eye_frame(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(the eyes' centre, the unit vector from the right eye to the left, the face's up axis
    (the eyes' centre minus the mouth's), the inter-ocular distance): the frame every measure
    here is read in."""
    left, right = points[36:42].mean(0), points[42:48].mean(0)
    io = float(np.linalg.norm(right - left))
    up = (left + right) / 2 - points[48:68].mean(0)
    return (left + right) / 2, (right - left) / io, up / np.linalg.norm(up), io


def geometry(points: np.ndarray) -> dict[str, float]:
    """The definitions of one face's labels, in inter-ocular distances."""
    centre, across, up, io = eye_frame(points)
    out = {"brow height": float(np.mean((points[17:27] - centre) @ up) / io)}
    x = (points - points[51]) @ across / io
    for point, peak in COLUMNS:
        out[f"{point}-{peak}"] = float((x[point] - x[peak]) * np.sign(x[peak]))
    out["peaks 50/52"] = float((x[52] - x[50]) / 2)
    lids = np.zeros(4)
    for outer, inner, lid in EYES:
        axis = points[inner] - points[outer]
        lids += (points[list(lid)] - points[outer]) @ axis / (axis @ axis) / 2
    for (a, b), t in zip(((37, 44), (38, 43), (41, 46), (40, 47)), lids, strict=True):
        out[f"{a}/{b}"] = float(t)
    y = (points - centre) @ -up / io
    out["chin 8"] = float(y[8])
    out["7/9"] = float((y[7] + y[9]) / 2)
    for a, b in ((5, 11), (4, 12)):
        out[f"width {a}/{b}"] = float((x[b] - x[a]) / 2)
    return out


def jaw_heights(points: np.ndarray) -> np.ndarray:
    """(17,) each jaw point's height below the eyes' centre along the face's down axis, in
    inter-ocular distances (:func:`eye_frame`)."""
    centre, _, up, io = eye_frame(points)
    return (points[:17] - centre) @ -up / io


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", required=True, help="labelled dataset folder(s)")
    ap.add_argument("-m", "--model", help="measure this model's predictions instead (eval spec)")
    ap.add_argument(
        "--jaw",
        choices=("xray", "outline"),
        help="a generator set's jaw convention to read (meta.json's jaws; default: its labels')",
    )
    args = ap.parse_args(argv)
    rows = []
    for path in args.data:
        samples = [s for s in load_dataset(path) if near_frontal(s.points)]
        if not samples:
            print(f"{path}: no near-frontal faces")
            continue
        faces = [s.points[:68].copy() for s in samples]
        if args.jaw:
            for s, f in zip(samples, faces, strict=True):
                if s.jaws is not None:
                    f[:17] = s.jaws[args.jaw]
        if args.model:
            from synthmarks.data.readers import detect_format
            from synthmarks.eval.evaluate import DEFAULT_JAW, load_predictor, run_model
            from synthmarks.landmarks import bounding_box

            # the jaw the labels above carry: the set's own convention unless --jaw names one
            jaw = args.jaw or DEFAULT_JAW[detect_format(Path(path))]
            boxes = np.stack([bounding_box(p) for p in faces]).astype(np.float32)
            predictor = load_predictor(args.model, jaw=jaw, roll="none")
            faces = list(run_model(predictor, samples, boxes, 32, args.model)[0])
        g = [geometry(p) for p in faces]
        med = {k: float(np.median([x[k] for x in g])) for k in g[0]}
        rows.append((path, len(faces), med, np.median([jaw_heights(p) for p in faces], axis=0)))
    if not rows:
        return 1
    keys = list(rows[0][2])
    print("| set | frontal faces | " + " | ".join(keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    for path, n, med, _ in rows:
        print(f"| {path} | {n} | " + " | ".join(f"{med[k]:+.3f}" for k in keys) + " |")
    print("\njaw points' height below the eyes' centre (inter-ocular distances, medians)\n")
    print("| set | " + " | ".join(str(j) for j in range(17)) + " |")
    print("|---|" + "---|" * 17)
    for path, _, _, heights in rows:
        print(f"| {path} | " + " | ".join(f"{h:+.3f}" for h in heights) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
