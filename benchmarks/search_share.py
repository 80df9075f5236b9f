"""How often ``roll="auto"`` pays the quarter-turn search: the share of a dataset's faces whose
first pass is under ``ROLL_SEARCH_CONFIDENCE``.

An unsure first pass costs three to five more model passes (three turns, and a second look at
the two surest when neither is sure), so a model's
time per face in an application depends on how sure it is of real faces as much as on its
size: a larger student is only as fast as it is sure. Each face is cut from its ground-truth box
(``synthmarks eval``'s protocol) at its own orientation, one pass, ONNX Runtime.

    python benchmarks/search_share.py --data ../shared/data/aflw2000-3d-dev -m default -m large
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from synthmarks.data.readers import load_dataset
from synthmarks.errors import SynthmarksError
from synthmarks.eval.evaluate import load_predictor
from synthmarks.infer.landmarker import ROLL_SEARCH_CONFIDENCE
from synthmarks.landmarks import bounding_box


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, required=True, help="dataset folder (any eval format)")
    p.add_argument("-m", "--model", action="append", dest="models", help="model spec, repeatable")
    p.add_argument("--limit", type=int, help="use only the first N faces")
    args = p.parse_args(argv)
    try:
        samples = load_dataset(args.data, limit=args.limit)
        images = [s.load_image() for s in samples]
        boxes = np.stack([bounding_box(s.points[:68]) for s in samples])
        print(f"{args.data}: {len(samples)} faces, search under {ROLL_SEARCH_CONFIDENCE}\n")
        print("| model | median first-pass confidence | faces searched % |")
        print("|---|---|---|")
        for model in args.models or ["default"]:
            lm = load_predictor(model, backend="onnx", roll="none")
            _, conf = lm.predict_with_confidence(images, boxes)
            share = 100 * np.mean(conf < ROLL_SEARCH_CONFIDENCE)
            print(f"| {model} | {np.median(conf):.3f} | {share:.1f} |")
    except SynthmarksError as exc:
        print(f"search_share: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
