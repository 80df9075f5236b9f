"""How much of a model's error is systematic: each point's mean signed error over a dataset.

A model trained on synthetic labels can be precise and still miss human annotations by a constant
amount where the two landmark definitions differ (the eyebrows, the jaw). This script scores a
model on the `synthmarks eval` crops and prints, per face region, the mean error, the size of
each point's mean offset, and the error left if that offset were subtracted: a diagnostic of the
label convention, never a correction applied to the model (fitting it would tune to the set).

    python benchmarks/landmark_bias.py --data ../shared/data/aflw2000-3d-dev -m default
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from synthmarks.data.readers import detect_format, load_dataset
from synthmarks.eval import metrics
from synthmarks.eval.evaluate import DEFAULT_JAW, load_predictor, run_model
from synthmarks.landmarks import NUM_POINTS, bounding_box

#: the iBUG 68-point regions (0-based indices)
REGIONS = {
    "jaw": range(0, 17),
    "brows": range(17, 27),
    "nose": range(27, 36),
    "eyes": range(36, 48),
    "mouth": range(48, 68),
}


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

    What a model would predict under an evenly spaced jaw definition, read off its own curve:
    the error it saves bounds what re-defining the generator's jaw points could buy.
    """
    out = pts.copy()
    for lo, hi in ((0, 9), (8, 17)):
        half = pts[lo:hi]
        s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(half, axis=0), axis=1))])
        t = np.linspace(0.0, s[-1], len(half))
        out[lo:hi] = np.stack([np.interp(t, s, half[:, k]) for k in range(2)], 1)
    return out


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="labelled dataset folder")
    ap.add_argument("-m", "--model", default="default", help="model spec, as for eval")
    args = ap.parse_args()
    samples = load_dataset(args.data, None, None)
    # the set's own jaw convention, as eval scores it: an outline-labelled set against the x-ray
    # jaw would report the difference between the two conventions as the model's offset
    jaw = DEFAULT_JAW[detect_format(Path(args.data))]
    gts = np.stack([s.points[:NUM_POINTS] for s in samples]).astype(np.float32)
    boxes = np.stack([bounding_box(g) for g in gts]).astype(np.float32)
    predictor = load_predictor(args.model, jaw=jaw, roll="none")
    pred = run_model(predictor, samples, boxes, 32, args.model)[0]
    d, bias = offsets(pred, gts)
    used = getattr(predictor, "jaw", jaw)
    print(f"{args.data}: {len(samples)} faces, model {args.model}, {used} jaw; box-normalised %")
    print(f"{'region':8s}{'NME':>8s}{'|offset|':>10s}{'NME w/o offset':>16s}{'offset y':>10s}")
    for name, err, off, left, dy in region_table(d, bias):
        print(f"{name:8s}{err:8.2f}{off:10.2f}{left:16.2f}{dy:10.2f}")
    all_err = np.linalg.norm(d, axis=2).mean()
    all_left = np.linalg.norm(d - bias[None], axis=2).mean()
    print(f"{'all':8s}{100 * all_err:8.2f}{'':10s}{100 * all_left:16.2f}")
    even = np.stack([even_jaw(p) for p in pred])
    d_even, _ = offsets(even, gts)
    jaw = list(REGIONS["jaw"])
    print(
        f"jaw re-spaced evenly: all {100 * np.linalg.norm(d_even, axis=2).mean():.2f}, "
        f"jaw {100 * np.linalg.norm(d_even[:, jaw], axis=2).mean():.2f}"
    )
    fr = " ".join(f"{f:.3f}" for f in jaw_fractions(gts))
    print(f"jaw points 1-7 along the labelled jaw (even = {1 / 16:.4f} steps): {fr}")


if __name__ == "__main__":
    main()
