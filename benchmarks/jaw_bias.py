"""Where the jaw error comes from: each jaw point's mean outward offset on frontal faces.

The jaw is the largest error term on the real sets, and jaw conventions differ between
labelling processes. This script separates the two possible causes on frontal faces, where the
hidden (x-ray) jaw and the visible outline nearly coincide:

- by default, the model's per-point mean signed error along the outward direction (from the
  nose centre), in % of the box: what the model does differently from the labels;
- with ``--labels``, no model: ICT-FaceKit's neutral face projected frontally and aligned to the
  set's mean frontal shape on the 51 inner points: how the label definitions differ;
- with ``--perspective``, on a ``synthmarks synth`` set: each frontal face's jaw width (points
  1-15) over its outer eye-corner width, in the image against the same ratio of the face's own
  mesh seen orthographically, by camera distance: how much the camera narrows the jaw.

A diagnostic only; an offset found here is never applied to a model (that would fit the set).

    python benchmarks/jaw_bias.py --data ../shared/data/aflw2000-3d-dev -m default
    python benchmarks/jaw_bias.py --data ../shared/data/aflw2000-3d-dev --labels
    python benchmarks/jaw_bias.py --data $SYNTHMARKS_DATA/some_set --perspective
"""

from __future__ import annotations

import argparse

import numpy as np

from synthmarks.data.readers import load_dataset
from synthmarks.eval import metrics
from synthmarks.eval.evaluate import load_predictor, run_model
from synthmarks.landmarks import NUM_POINTS, bounding_box, nose_turn

JAW = range(0, 17)
INNER = list(range(17, NUM_POINTS))


def outward(points: np.ndarray) -> np.ndarray:
    """(N, 17, 2) unit vectors from the nose centre (points 27-35) to each jaw point."""
    d = points[:, list(JAW)] - points[:, 27:36].mean(1, keepdims=True)
    return d / np.linalg.norm(d, axis=2, keepdims=True)


def similarity(src: np.ndarray, dst: np.ndarray, idx: list[int]) -> np.ndarray:
    """``src`` moved onto ``dst`` by the least-squares similarity transform of points ``idx``."""
    a, b = src[idx], dst[idx]
    ma, mb = a.mean(0), b.mean(0)
    u, s, vt = np.linalg.svd((a - ma).T @ (b - mb))
    scale = s.sum() / ((a - ma) ** 2).sum()
    return (src - ma) @ (u @ vt) * scale + mb


def model_offsets(samples: list, gts: np.ndarray, spec: str) -> np.ndarray:
    """(N, 17) outward error of the model's jaw points, % of each face's box."""
    boxes = np.stack([bounding_box(g) for g in gts]).astype(np.float32)
    pred = run_model(load_predictor(spec, roll="none"), samples, boxes, 32, spec)[0]
    size = np.array([metrics.box_size(g) for g in gts])[:, None, None]
    d = (pred[:, list(JAW)] - gts[:, list(JAW)]) / size * 100
    return (d * outward(gts)).sum(2)


def label_offsets(gts: np.ndarray) -> np.ndarray:
    """(17,) outward offset of ICT's neutral jaw from the set's mean frontal shape, % of box."""
    from synthmarks.synth.facemodel import load_face_model

    face = load_face_model()
    ict = face.neutral[face.landmarks][:, :2].astype(np.float64) * np.array([1.0, -1.0])
    mean = gts[0]
    for _ in range(3):  # generalised Procrustes: align all to the running mean
        mean = np.stack([similarity(g, mean, INNER) for g in gts]).mean(0)
    d = (similarity(ict, mean, INNER) - mean)[list(JAW)] / metrics.box_size(mean) * 100
    return (d * outward(mean[None])[0]).sum(1)


def jaw_ratio(points: np.ndarray) -> float:
    """Jaw width (points 1 and 15) over the outer eye corners' width (36 and 45), in x-y."""
    return float(
        np.linalg.norm(points[1, :2] - points[15, :2])
        / np.linalg.norm(points[36, :2] - points[45, :2])
    )


def perspective(folder: str, frontal_yaw: float = 10.0) -> None:
    """Print image/orthographic jaw ratios of a synth set's frontal faces by camera distance."""
    import json
    from pathlib import Path

    from synthmarks.synth.facemodel import load_face_model

    face = load_face_model()
    names = list(face.expression_names)
    rows = []
    for meta_path in sorted(Path(folder).glob("*_meta.json")):
        meta = json.loads(meta_path.read_text())
        params = meta["params"]
        if abs(meta["pose_deg"][1]) > frontal_yaw:
            continue
        expression = np.zeros(len(names), np.float32)
        for name, weight in params["expression"].items():
            expression[names.index(name)] = weight
        mesh = face.vertices(np.asarray(params["identity"], np.float32), expression)
        image = np.loadtxt(str(meta_path).replace("_meta.json", "_ldmks.txt"))
        distance = params.get("camera_distance_cm", float("nan"))
        rows.append((distance, jaw_ratio(image) / jaw_ratio(mesh[face.landmarks])))
    d, ratio = np.array(rows).T
    print(f"{folder}: {len(rows)} faces with |yaw| <= {frontal_yaw} deg; image / orthographic")
    print(f"  all: {ratio.mean():.3f}")
    for label, lo, hi in (("< 60", 0, 60), ("60-120", 60, 120), (">= 120", 120, np.inf)):
        keep = (d >= lo) & (d < hi)
        if keep.any():
            print(f"  camera {label} cm: {ratio[keep].mean():.3f} ({keep.sum()} faces)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="labelled dataset folder")
    ap.add_argument("-m", "--model", default="default", help="model spec, as for eval")
    ap.add_argument("--labels", action="store_true", help="compare ICT's label shape, no model")
    ap.add_argument("--frontal", type=float, default=0.15, help="nose offset limit, eye distances")
    ap.add_argument("--perspective", action="store_true", help="synth set: the camera's effect")
    args = ap.parse_args()
    if args.perspective:
        perspective(args.data)
        return
    samples = load_dataset(args.data, None, None)
    gts = np.stack([s.points[:NUM_POINTS] for s in samples]).astype(np.float64)
    keep = nose_turn(gts) < args.frontal
    if args.labels:
        row = label_offsets(gts[keep])
        what = "ICT neutral minus the set's mean frontal shape"
    else:
        row = model_offsets(samples, gts.astype(np.float32), args.model)[keep].mean(0)
        what = f"model {args.model}, mean error"
    print(f"{args.data}: {keep.sum()} of {len(samples)} faces frontal; {what}, outward, box %")
    print(" ".join(f"{j:>5d}" for j in JAW))
    print(" ".join(f"{v:5.1f}" for v in row))


if __name__ == "__main__":
    main()
