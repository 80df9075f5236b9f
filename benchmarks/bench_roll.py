"""How the default model copes with rolled faces: NME and ms/face at several in-plane rotations.

Each row turns every face of a dataset (image and labels, :meth:`Sample.rotated`) and scores it
with ``synthmarks eval``'s protocol (ground-truth box), once with ``Landmarker(roll="none")``
(one pass at the box's orientation, what training validation scores) and once with
``roll="auto"`` (the quarter-turn search and eye-line re-cut). "ms/face" is the time per face
inside ``eval`` (batches of 32: crops, model passes, mapping back; not image decoding);
``--latency N`` adds the median ``lm.predict(image, box)`` time, one face at a time, over the
first N faces (the figure an application sees), on this machine's CPU. ``--detect N`` scores
the detector path instead (``lm.detect`` on the first N turned images: faces found, NME of those);
``--no-turns`` runs it without the detector's quarter-turned copies (``detect_turns=False``).

    python benchmarks/bench_roll.py --data ../shared/data/aflw2000-3d-dev
    python benchmarks/bench_roll.py --data ../shared/data/afw-68pt --angles 0 90 180
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from synthmarks.errors import SynthmarksError
from synthmarks.eval.evaluate import EvalConfig, evaluate
from synthmarks.landmarks import bounding_box

ANGLES = (0.0, 45.0, 90.0, 135.0, 180.0, 270.0)


def latency(data: Path, model: str, deg: float, roll: str, count: int) -> float:
    """Median ms of one ``predict(image, box)`` over the first ``count`` faces turned by ``deg``
    (each face run twice, the first as a warm-up)."""
    from synthmarks.data.readers import load_dataset
    from synthmarks.infer.landmarker import Landmarker

    lm = Landmarker(None if model == "default" else model, roll=roll)
    times = []
    for s in load_dataset(data, limit=count, rotate=deg):
        image, box = s.load_image(), bounding_box(s.points[:68])
        lm.predict(image, box)
        t0 = time.perf_counter()
        lm.predict(image, box)
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def detect_row(
    data: Path, model: str, deg: float, roll: str, count: int, turns: bool = True
) -> list[str]:
    """``found/N`` and the NME % of the found faces: ``lm.detect`` on the first ``count`` images
    turned by ``deg``; a face is found when a returned box holds the centre of its labels."""
    from synthmarks.data.readers import detect_format, load_dataset
    from synthmarks.eval.evaluate import DEFAULT_NORM
    from synthmarks.eval.metrics import nme
    from synthmarks.infer.landmarker import Landmarker

    lm = Landmarker(
        None if model == "default" else model, roll=roll, detect_turns=None if turns else False
    )
    norm = DEFAULT_NORM[detect_format(data)]
    samples = load_dataset(data, limit=count, rotate=deg)
    errors = []
    for s in samples:
        gt = s.points[:68]
        cx, cy = gt.mean(axis=0)
        hits = [f for f in lm.detect(s.load_image()) if f.box[0] < cx < f.box[2]]
        hits = [f for f in hits if f.box[1] < cy < f.box[3]]
        if hits:
            errors.append(nme(hits[0].landmarks[None], gt[None], norm)[0])
    mean = f"{100 * np.mean(errors):.2f}" if errors else "-"
    return [f"{len(errors)}/{len(samples)}", mean]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, required=True, help="dataset folder (any eval format)")
    p.add_argument("--model", default="default", help="model spec, as for synthmarks eval")
    p.add_argument("--angles", type=float, nargs="+", default=list(ANGLES), metavar="DEG")
    p.add_argument("--rolls", nargs="+", default=["none", "auto"], choices=["none", "auto"])
    p.add_argument("--limit", type=int, help="use only the first N faces")
    p.add_argument("--latency", type=int, default=0, metavar="N", help="median predict() ms")
    p.add_argument("--detect", type=int, default=0, metavar="N", help="score lm.detect instead")
    p.add_argument("--no-turns", action="store_true", help="--detect without turned copies")
    args = p.parse_args(argv)
    try:
        rows = []
        for deg in args.angles:
            row = [f"{deg:g}"]
            for roll in args.rolls:
                if args.detect:
                    row += detect_row(
                        args.data, args.model, deg, roll, args.detect, not args.no_turns
                    )
                    continue
                cfg = EvalConfig(
                    args.data, [args.model], rotate=deg, roll=roll, limit=args.limit, worst=0
                )
                res = evaluate(cfg)["models"][args.model]
                row += [f"{100 * res['nme']:.2f}", f"{1000 / res['images_per_second']:.1f}"]
                if args.latency:
                    ms = latency(args.data, args.model, deg, roll, args.latency)
                    row.append(f"{ms:.2f}")
            rows.append(row)
            print("  ".join(row), file=sys.stderr, flush=True)
    except SynthmarksError as exc:
        print(f"bench_roll: {exc}", file=sys.stderr)
        return 2
    head = ["rotation (deg)"]
    for roll in args.rolls:
        if args.detect:
            head += [f"found roll {roll}", f"NME % of found, roll {roll}"]
            continue
        head += [f"NME % roll {roll}", f"ms/face roll {roll}"]
        head += [f"predict() ms roll {roll}"] if args.latency else []
    print(f"{args.data} ({args.model}; NME as synthmarks eval normalises this format)\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
