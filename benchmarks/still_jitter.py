"""Still-face jitter over a dataset's faces, for several models side by side.

``synthmarks bench`` measures jitter on one face, which can be anybody's worst case: a model
that is steadier on most faces can be shakier on that one. Here every face of a set is tracked
through 30 frames of itself with fresh camera-like noise (Gaussian, sigma 3 grey levels, seeded
by the face's index, so every model sees the same frames), from its ground-truth box, one pass
per frame (``roll="none"``), unsmoothed; jitter is the mean frame-to-frame point movement in % of
the face size, as the bench prints it.

    python benchmarks/still_jitter.py --data ../shared/data/real-68pt -m default -m large
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from synthmarks.data.readers import load_dataset
from synthmarks.errors import SynthmarksError
from synthmarks.infer.landmarker import Landmarker
from synthmarks.infer.smooth import OneEuroConfig
from synthmarks.infer.video import noisy_frames, still_jitter
from synthmarks.landmarks import bounding_box


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, required=True, help="dataset folder (any eval format)")
    p.add_argument("-m", "--model", action="append", dest="models", help="model, repeatable")
    p.add_argument("--limit", type=int, help="use only the first N faces")
    p.add_argument("--frames", type=int, default=30, help="noisy frames per face")
    args = p.parse_args(argv)
    models = args.models or ["default"]
    try:
        samples = load_dataset(args.data, limit=args.limit)
        lms = {m: Landmarker(m, backend="onnx", threads=1, roll="none") for m in models}
    except SynthmarksError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    off = OneEuroConfig(enabled=False)
    jit = {m: [] for m in models}
    for i, s in enumerate(samples):
        box = bounding_box(s.points[:68])
        frames = noisy_frames(s.load_image(), args.frames, seed=i)
        for m, lm in lms.items():
            jit[m].append(100 * still_jitter(frames, box, lm, off))
    first = np.array(jit[models[0]])
    print(f"{args.data}: {len(samples)} faces, {args.frames} frames each")
    print("raw jitter, % of the face size per frame")
    print(f"\n| model | mean | median | faces steadier than {models[0]} |")
    print("|---|---|---|---|")
    for m in models:
        a = np.array(jit[m])
        print(f"| {m} | {a.mean():.3f} | {np.median(a):.3f} | {int((a < first).sum())} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
