"""How much of a model's error is systematic: each point's mean signed error over a dataset.

A model trained on synthetic labels can be precise and still miss human annotations by a constant
amount where the two landmark definitions differ (the eyebrows, the jaw). This script scores a
model on the `synthmarks eval` crops and prints, per face region, the mean error, the size of
each point's mean offset, and the error left if that offset were subtracted: a diagnostic of the
label convention, never a correction applied to the model (fitting it would tune to the set).

    python benchmarks/landmark_bias.py --data ../shared/data/aflw2000-3d-dev -m default

With several ``--data`` sets it also asks whether their offsets are one convention: each point's
mean offset on near-frontal faces, in the frame of the eye line (so roll and yaw do not mix into
it), and the correlation of those offsets between every two sets, per region. Offsets that two
independent labelling processes share point at our definition; offsets they do not share are
each set's own convention or the model's error on that set's faces.

The mirror test splits a set's mean horizontal offset in two: the model runs again on every image
mirrored (labels mirrored and re-indexed with it). A model trained with flips has no side of its
own, so the part of the offset that changes sign with the image is the labels' (or the photos')
lean, the part that keeps its sign the model's.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from synthmarks.data.readers import detect_format, load_dataset
from synthmarks.data.sample import Sample
from synthmarks.eval import metrics
from synthmarks.eval.evaluate import DEFAULT_JAW, load_predictor, run_model
from synthmarks.landmarks import NUM_POINTS, REGIONS, bounding_box, flip_permutation, nose_turn
from synthmarks.synth.labels import space_evenly


def offsets(pred: np.ndarray, gts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-face, per-point errors and each point's mean error, both in units of the box size."""
    size = np.array([metrics.box_size(g) for g in gts])[:, None, None]
    d = (pred - gts) / size
    return d, d.mean(0)


def jaw_fractions(pts: np.ndarray) -> np.ndarray:
    """Where jaw points 1-7 sit along the jaw: arc length from point 0 over the whole jaw's.

    Evenly spaced points sit at k/16; a labelling process that spaces them otherwise (ICT-FaceKit's
    fixed jaw vertices, say) shows here as a systematic shift along the contour, not across it.
    """
    seg = np.linalg.norm(np.diff(pts[:, 0:17], axis=1), axis=2)
    arc = np.cumsum(seg, axis=1)
    return (arc[:, 0:7] / arc[:, -1:]).mean(0)


def even_jaw(pts: np.ndarray) -> np.ndarray:
    """Each jaw half (0-8, 8-16) moved to equal arc length along its own polyline.

    What a model would predict under an evenly spaced jaw definition (the generator's
    ``outline_jaw="even"``), read off its own curve: the error it saves bounds what re-defining
    the generator's jaw points could buy.
    """
    return space_evenly(pts)[0]


#: near-frontal: the nose tip within this many inter-ocular distances of the eyes' midpoint
NEAR_FRONTAL = 0.12
#: turned: the nose tip further than this from it
TURNED = 0.3


def eye_frame(gts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rotations into the frame of each face's eye line (N, 2, 2), turn (N,)).

    Turn: how far the nose tip (30) sits from the eye centres' midpoint along the eye line, in
    inter-ocular distances (positive: towards the image's right). A model that under-reads yaw
    lags the other way on faces turned each way; on near-frontal faces that lag is absent, so
    their offsets are conventions.
    """
    eye = gts[:, 42:48].mean(1) - gts[:, 36:42].mean(1)
    ang = np.arctan2(eye[:, 1], eye[:, 0])
    c, s = np.cos(ang), np.sin(ang)
    rot = np.stack([np.stack([c, s], 1), np.stack([-s, c], 1)], 1)  # by -angle
    return rot, nose_turn(gts, signed=True)


def frontal_offsets(pred: np.ndarray, gts: np.ndarray) -> tuple[np.ndarray, int]:
    """Each point's mean error (box %) on near-frontal faces, in the frame of the eye line (so a
    set's roll stays out of the offsets), and how many faces that is."""
    rot, turn = eye_frame(gts)
    near = np.abs(turn) < NEAR_FRONTAL
    size = np.array([metrics.box_size(g) for g in gts])[:, None, None]
    d = np.einsum("nij,nkj->nki", rot, pred - gts) / size
    return 100 * d[near].mean(0), int(near.sum())


class Mirrored:
    """A sample whose image is read mirrored left-right (all `run_model` asks of a sample)."""

    def __init__(self, sample: Sample) -> None:
        self.sample = sample

    def load_image(self) -> np.ndarray:
        return cv2.flip(self.sample.load_image(), 1)


def mirror_split(
    predictor: Any, samples: list[Sample], gts: np.ndarray, pred: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per face, (the labels' lean, the model's lean, box size): horizontal offsets in pixels,
    split by a mirror run.

    Mirroring maps x to W - 1 - x (pixel centres) and swaps left and right points; an offset that
    flips sign with the image belongs to the labels, one that keeps it to the model. Near-frontal
    faces only: on turned faces a set's yaw imbalance would pass for a lean of its labels.
    """
    near = np.abs(eye_frame(gts)[1]) < NEAR_FRONTAL
    samples = [s for s, keep in zip(samples, near, strict=True) if keep]
    gts, pred = gts[near], pred[near]
    widths = np.array([s.load_image().shape[1] for s in samples], np.float32)
    gts_m = gts[:, flip_permutation(NUM_POINTS)].copy()
    gts_m[..., 0] = widths[:, None] - 1 - gts_m[..., 0]
    boxes = np.stack([bounding_box(g) for g in gts_m]).astype(np.float32)
    pred_m = run_model(predictor, [Mirrored(s) for s in samples], boxes, 32, "mirrored")[0]
    size = np.array([metrics.box_size(g) for g in gts])
    dx = (pred - gts)[..., 0].mean(1)
    dx_m = (pred_m - gts_m)[..., 0].mean(1)
    # pred - label = model lean + (-label lean); mirrored, the label's lean changes sign
    return (dx_m - dx) / 2, (dx + dx_m) / 2, size


def region_table(d: np.ndarray, bias: np.ndarray) -> list[tuple[str, float, float, float, float]]:
    """(region, NME %, mean |offset| %, NME % without the offset, mean vertical offset %)."""
    rows = []
    for name, idx in REGIONS.items():
        i = list(idx)
        err = np.linalg.norm(d[:, i], axis=2).mean()
        left = np.linalg.norm(d[:, i] - bias[i][None], axis=2).mean()
        rows.append(
            (
                name,
                100 * err,
                100 * np.linalg.norm(bias[i], axis=1).mean(),
                100 * left,
                100 * bias[i, 1].mean(),
            )
        )
    return rows


def report(data: str, model: str) -> np.ndarray:
    """Print one set's region table and jaw spacing; return its near-frontal per-point offsets."""
    samples = load_dataset(data, None, None)
    # the set's own jaw convention, as eval scores it: an outline-labelled set against the x-ray
    # jaw would report the difference between the two conventions as the model's offset
    jaw = DEFAULT_JAW[detect_format(Path(data))]
    gts = np.stack([s.points[:NUM_POINTS] for s in samples]).astype(np.float32)
    boxes = np.stack([bounding_box(g) for g in gts]).astype(np.float32)
    predictor = load_predictor(model, jaw=jaw, roll="none")
    pred = run_model(predictor, samples, boxes, 32, model)[0]
    d, bias = offsets(pred, gts)
    used = getattr(predictor, "jaw", jaw)
    print(f"{data}: {len(samples)} faces, model {model}, {used} jaw; box-normalised %")
    print(f"{'region':8s}{'NME':>8s}{'|offset|':>10s}{'NME w/o offset':>16s}{'offset y':>10s}")
    for name, err, off, left, dy in region_table(d, bias):
        print(f"{name:8s}{err:8.2f}{off:10.2f}{left:16.2f}{dy:10.2f}")
    all_err = np.linalg.norm(d, axis=2).mean()
    all_left = np.linalg.norm(d - bias[None], axis=2).mean()
    print(f"{'all':8s}{100 * all_err:8.2f}{'':10s}{100 * all_left:16.2f}")
    even = np.stack([even_jaw(p) for p in pred])
    d_even, _ = offsets(even, gts)
    jaw_idx = list(REGIONS["jaw"])
    print(
        f"jaw re-spaced evenly: all {100 * np.linalg.norm(d_even, axis=2).mean():.2f}, "
        f"jaw {100 * np.linalg.norm(d_even[:, jaw_idx], axis=2).mean():.2f}"
    )
    fr = " ".join(f"{f:.3f}" for f in jaw_fractions(gts))
    print(f"jaw points 1-7 along the labelled jaw (even = {1 / 16:.4f} steps): {fr}")
    labels, own, size = mirror_split(predictor, samples, gts, pred)
    pct = 100 * labels / size
    lo, hi = metrics.bootstrap_ci(pct)
    lo_px, hi_px = metrics.bootstrap_ci(labels)
    print(
        f"mirror test, {len(labels)} near-frontal faces: the labels lean {pct.mean():+.2f} % of the"
        f" box [{lo:+.2f}, {hi:+.2f}] = {labels.mean():+.2f} px [{lo_px:+.2f}, {hi_px:+.2f}] to the"
        f" right of a mirror-symmetric reading; the model {(100 * own / size).mean():+.2f} %"
    )
    turn = eye_frame(gts)[1]
    box = np.array([metrics.box_size(g) for g in gts])
    dx = 100 * (pred - gts)[:, 17:, 0].mean(1) / box  # not the jaw: its convention varies by set
    left, right = turn < -TURNED, turn > TURNED
    print(
        f"turned faces, mean horizontal offset of points 17-67: nose tip left"
        f" {dx[left].mean():+.2f} % ({left.sum()}), right {dx[right].mean():+.2f} %"
        f" ({right.sum()}); a lag towards frontal is + for left, - for right"
    )
    front, n = frontal_offsets(pred, gts)
    print(f"{n} near-frontal faces for the per-point offsets\n")
    return front


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, nargs="+", help="labelled dataset folder(s)")
    ap.add_argument("-m", "--model", default="default", help="model spec, as for eval")
    args = ap.parse_args()
    fronts = [report(data, args.model) for data in args.data]
    if len(fronts) < 2:
        return
    names = [Path(d).name for d in args.data]
    print("mean offset x, y (box %) per point on near-frontal faces, eye-line frame:")
    print("pt  " + "".join(f"{n[:16]:>17s}" for n in names))
    for i in range(NUM_POINTS):
        print(f"{i:<4d}" + "".join(f"{f[i, 0]:9.1f},{f[i, 1]:6.1f} " for f in fronts))
    print("correlation of the per-point offsets (x and y together) between two sets:")
    print(f"{'sets':40s}" + "".join(f"{r:>8s}" for r in REGIONS))
    for a in range(len(fronts)):
        for b in range(a + 1, len(fronts)):
            cells = [
                np.corrcoef(fronts[a][list(i)].ravel(), fronts[b][list(i)].ravel())[0, 1]
                for i in REGIONS.values()
            ]
            pair = f"{names[a][:19]} / {names[b][:18]}"
            print(f"{pair:40s}" + "".join(f"{c:8.2f}" for c in cells))


if __name__ == "__main__":
    main()
