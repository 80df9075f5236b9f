"""The detector-box -> landmark-box mapping of ``DetectorConfig`` (``box_shift``, ``box_scale``),
remade from a synthetic set: the numbers in src/synthmarks/infer/detect.py came from this.

    synthmarks synth --out data/synth/release --count 1500 --seed 1
    python benchmarks/fit_detector_box.py data/synth/release --count 1500

For every face the detector finds (the detection whose box holds the centre of the face's own
landmark box), the landmark box is compared with the detector box: the centre shift in fractions
of the detector box's width and height, and the width and height ratios. The medians are the
mapping; ``box_scale`` is the mean of the two ratios (one factor keeps the box's aspect).
"""

from __future__ import annotations

import argparse

import numpy as np

from synthmarks.data.readers import load_dataset
from synthmarks.infer.detect import DetectorConfig, FaceDetector
from synthmarks.landmarks import bounding_box


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", help="a synthetic set (synthmarks synth --seed 1)")
    ap.add_argument("--count", type=int, default=1500)
    ap.add_argument("--method", default="dlib", choices=["dlib", "haar"])
    args = ap.parse_args()

    detector = FaceDetector(DetectorConfig(method=args.method, profile_fallback=False))
    rows = []
    samples = load_dataset(args.data, limit=args.count)
    for s in samples:
        lm = bounding_box(s.points)
        centre = (lm[:2] + lm[2:]) / 2
        for d in detector.detect(s.load_image()):
            x0, y0, x1, y1 = d.box
            if x0 <= centre[0] <= x1 and y0 <= centre[1] <= y1:
                w, h = x1 - x0, y1 - y0
                shift = (centre - [(x0 + x1) / 2, (y0 + y1) / 2]) / [w, h]
                rows.append([*shift, (lm[2] - lm[0]) / w, (lm[3] - lm[1]) / h])
                break
    if not rows:
        raise SystemExit("the detector found none of the faces")
    sx, sy, rw, rh = np.median(np.array(rows), axis=0)
    print(f"{len(rows)} {args.method} detections on {len(samples)} faces of {args.data}")
    print(f"landmark box vs detector box: shift {sx:.2f}, {sy:.2f}; size {rw:.2f} x {rh:.2f}")
    print(f"box_shift: tuple[float, float] = ({sx:.2f}, {sy:.2f})")
    print(f"box_scale: float = {(rw + rh) / 2:.2f}")


if __name__ == "__main__":
    main()
