"""Where a 3-D face-fitting benchmark puts the x-ray jaw, against ICT-FaceKit's jaw vertices.

AFLW2000-3D's labels are the 68 landmark vertices of a fitted 3-D morphable model, projected;
its ``.mat`` files keep them in 3-D (``pt3d_68``: image x, image y, depth, at the image's scale).
This script aligns each face's 3-D points onto ICT-FaceKit's neutral landmark vertices by a 3-D
similarity fitted on the inner face (points 17-67: eyes, brows, nose, mouth), so what is left at
the jaw is where the benchmark's model *defines* its 17 jaw points relative to the rest of the
face, in ICT's frame (cm; x to the subject's left, y up, z towards the viewer). A point's depth
cannot be seen on a frontal face, and on a turned one the x-ray jaw's image position is mostly
its depth: a model that learnt ICT's jaw vertices puts the far-side jaw of a profile centimetres
from where the benchmark's label is, however well it reads the face.

It prints the mean offset per jaw point (left and right halves averaged, mirrored), the spread
over faces, the same from each half of the faces (so that one can see the definition does not
depend on which faces it came from), and ``XRAY_JAW_3DMM_CM`` as synth/labels.py records it.
With ``-m`` it also scores a model against the labels and against labels whose jaw is moved to
ICT's jaw vertices by the offsets measured on the *other* half of the faces: what the model
would score if its x-ray jaw had the benchmark's depth.

    python benchmarks/jaw_depth.py --data ../shared/data/aflw2000-3d-dev -m default
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import scipy.io as sio

from synthmarks.data.readers import load_dataset
from synthmarks.eval import metrics
from synthmarks.eval.evaluate import load_predictor, run_model
from synthmarks.landmarks import NUM_POINTS, bounding_box
from synthmarks.synth.facemodel import load_face_model
from synthmarks.synth.geometry import umeyama

INNER = np.arange(17, NUM_POINTS)
#: image y points down; ICT's y points up (depth already grows towards the viewer)
FLIP = np.array([1.0, -1.0, 1.0])


def fit(points3d: np.ndarray, ict: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity taking a face's 3-D labels (68, 3; y flipped) onto ICT's, on the inner face."""
    return umeyama(points3d[INNER], ict[INNER])


def symmetric(offsets: np.ndarray) -> np.ndarray:
    """(17, 3) jaw offsets with each point averaged with its mirror (16 - j, x negated)."""
    mirror = offsets[::-1] * np.array([-1.0, 1.0, 1.0])
    return (offsets + mirror) / 2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="an AFLW2000-3D folder (images + .mat)")
    ap.add_argument("-m", "--model", action="append", default=[], help="also score these")
    args = ap.parse_args()

    face_model = load_face_model()
    ict = face_model.neutral[face_model.landmarks].astype(np.float64)
    samples = load_dataset(args.data)
    raw = [sio.loadmat(Path(s.image_path).with_suffix(".mat"))["pt3d_68"].T * FLIP for s in samples]
    fits = [fit(x, ict) for x in raw]
    aligned = np.stack([sc * x @ r.T + t for (sc, r, t), x in zip(fits, raw, strict=True)])
    offsets = aligned[:, :17] - ict[:17]  # (faces, 17, 3) cm
    inner_rms = np.sqrt(((aligned[:, INNER] - ict[INNER]) ** 2).sum(-1).mean())
    halves = [np.arange(len(samples)) % 2 == k for k in (0, 1)]
    mean = symmetric(offsets.mean(0))
    by_half = [symmetric(offsets[h].mean(0)) for h in halves]
    spread = offsets.std(0)

    print(
        f"{args.data}: {len(samples)} faces; inner-face residual after the fit {inner_rms:.2f} cm"
    )
    print("jaw point: offset from ICT's vertex, cm (x, y, z) [halves: z]; spread over faces (z)")
    for j in range(17):
        x, y, z = mean[j]
        print(
            f"  {j:2d}  {x:+5.2f} {y:+5.2f} {z:+5.2f}   [{by_half[0][j, 2]:+5.2f}"
            f" {by_half[1][j, 2]:+5.2f}]  {spread[j, 2]:4.2f}"
        )
    rows = ",\n".join(f"    ({x:+.1f}, {y:+.1f}, {z:+.1f})" for x, y, z in mean)
    print(f"XRAY_JAW_3DMM_CM = np.array([\n{rows},\n])")

    gts = np.stack([s.points[:NUM_POINTS] for s in samples]).astype(np.float64)
    boxes = np.stack([bounding_box(g) for g in gts]).astype(np.float32)
    yaws = np.array([s.yaw for s in samples])
    moved = gts.copy()  # the labels' jaw moved onto ICT's vertices, offsets of the other half
    for k, half in enumerate(halves):
        for i in np.flatnonzero(half):
            sc, r, _ = fits[i]
            moved[i, :17] -= ((by_half[1 - k] @ r) / sc * FLIP)[:, :2]
    for spec in args.model:
        pred = run_model(load_predictor(spec, jaw="xray", roll="none"), samples, boxes, 32, spec)
        for name, labels in (("labels", gts), ("jaw at ICT's vertices", moved)):
            e = 100 * metrics.nme(pred[0], labels.astype(np.float32), "box")
            table = metrics.pose_table(e, yaws)
            bins = " / ".join(f"{v['nme']:.2f}" for k, v in table.items() if k != "balanced")
            print(
                f"{spec}: {name:<22} box NME {e.mean():.2f}  yaw bins {bins}"
                f"  balanced {table['balanced']['nme']:.2f}"
            )


if __name__ == "__main__":
    main()
