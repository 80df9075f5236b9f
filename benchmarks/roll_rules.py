"""Replays ways of picking a face's quarter turn, to choose ``Landmarker(roll="auto")``'s rule.

Each face is predicted once at each of the four quarter turns (from its ground-truth box) and
once more from the box of each turn's points; every rule is then replayed on those numbers with
the first pass at each turn in turn (the face turned 0 / 90 / 180 / 270 degrees). Prints the NME
(% as ``eval`` normalises the format) and the wrong picks per rule, drift weight and search
threshold, before the eye-line re-cut. Pick on synthetic sets; the dev sets are for the record.

    python benchmarks/roll_rules.py --data ../shared/data/facesynthetics-100 [--model M]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from synthmarks.data.readers import detect_format, load_dataset
from synthmarks.eval.evaluate import DEFAULT_NORM
from synthmarks.eval.metrics import nme
from synthmarks.infer.landmarker import Landmarker, frame_box, point_drift
from synthmarks.landmarks import NUM_POINTS, bounding_box

TURNS = (0.0, 90.0, 180.0, 270.0)


def looks(
    data: Path, limit: int | None, model: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """First-pass confidence, second-pass confidence, the second pass's drift (mean point move
    over the box side) and NME, each (faces, 4 turns)."""
    engine = Landmarker(model, roll="none").predictor
    samples = load_dataset(data, limit=limit)
    norm = DEFAULT_NORM[detect_format(data)]
    images = [s.load_image() for s in samples]
    gts = np.stack([s.points[:NUM_POINTS] for s in samples])
    boxes = np.stack([bounding_box(g) for g in gts])
    c1, c2, drift, err = [], [], [], []
    for turn in TURNS:
        angles = np.full(len(samples), turn)
        p1, s1 = engine.predict_with_scores(images, boxes, angles)
        p1, s1 = p1[:, :NUM_POINTS], s1[:, :NUM_POINTS]
        again = np.stack([frame_box(p, turn) for p in p1])
        p2, s2 = engine.predict_with_scores(images, again, angles)
        c1.append(s1.mean(1))
        c2.append(s2[:, :NUM_POINTS].mean(1))
        drift.append(point_drift(p1, p2[:, :NUM_POINTS], again))
        err.append(nme(p1, gts, norm))
    return np.array(c1).T, np.array(c2).T, np.array(drift).T, np.array(err).T


def pick(
    c1: np.ndarray,
    c2: np.ndarray,
    drift: np.ndarray,
    first: int,
    rule: str,
    threshold: float,
    weight: float = 0.0,
) -> int:
    """The turn a rule keeps for one face whose first pass was at turn ``first``; ``weight``
    is the drift's (rule "sum" only)."""
    if c1[first] >= threshold:
        return first
    order = np.argsort(-c1, kind="stable")
    if rule == "first-pass" or c1[order[0]] >= threshold:
        return int(order[0])
    top = order[:2]
    if rule == "second-pass":
        return int(top[np.argmax(c2[top])])
    # "sum": the shipped rule
    return int(top[np.argmax(c1[top] + c2[top] - weight * drift[top])])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--model", "-m", help="a checkpoint or .onnx (default: the released model)")
    p.add_argument("--limit", type=int)
    p.add_argument("--thresholds", type=float, nargs="+", default=[0.5, 0.55, 0.6])
    p.add_argument(
        "--drift-weights", type=float, nargs="+", default=[0.0, 2.0, 4.0, 6.0], help='rule "sum"'
    )
    args = p.parse_args(argv)
    c1, c2, drift, err = looks(args.data, args.limit, args.model)
    n = len(err)
    upright = 100 * err[:, 0].mean()
    print(f"{args.model or 'released model'} on {args.data}: {n} faces, roll none {upright:.2f} %")
    print("| threshold | rule | NME % / wrong picks, first pass at 0, 90, 180, 270 |")
    print("|---|---|---|")
    rules = [("first-pass", 0.0), ("second-pass", 0.0)]
    rules += [("sum", w) for w in args.drift_weights]
    for threshold in args.thresholds:
        for rule, w in rules:
            cells = []
            for first in range(4):
                picks = np.array(
                    [pick(c1[j], c2[j], drift[j], first, rule, threshold, w) for j in range(n)]
                )
                cells.append(f"{100 * err[np.arange(n), picks].mean():.2f} / {(picks != 0).sum()}")
            name = f"sum, drift x {w:g}" if rule == "sum" else rule
            print(f"| {threshold:g} | {name} | {'; '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
