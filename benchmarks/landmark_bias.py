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

import numpy as np

from synthmarks.data.readers import load_dataset
from synthmarks.eval import metrics
from synthmarks.eval.evaluate import load_predictor, run_model
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
    gts = np.stack([s.points[:NUM_POINTS] for s in samples]).astype(np.float32)
    boxes = np.stack([bounding_box(g) for g in gts]).astype(np.float32)
    pred = run_model(load_predictor(args.model, roll="none"), samples, boxes, 32, args.model)[0]
    d, bias = offsets(pred, gts)
    print(f"{args.data}: {len(samples)} faces, model {args.model}; box-normalised %")
    print(f"{'region':8s}{'NME':>8s}{'|offset|':>10s}{'NME w/o offset':>16s}{'offset y':>10s}")
    for name, err, off, left, dy in region_table(d, bias):
        print(f"{name:8s}{err:8.2f}{off:10.2f}{left:16.2f}{dy:10.2f}")
    all_err = np.linalg.norm(d, axis=2).mean()
    all_left = np.linalg.norm(d - bias[None], axis=2).mean()
    print(f"{'all':8s}{100 * all_err:8.2f}{'':10s}{100 * all_left:16.2f}")


if __name__ == "__main__":
    main()
