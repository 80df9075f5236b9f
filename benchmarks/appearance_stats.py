"""How bright, saturated and contrasty faces are in a labelled set, to set the generator's
exposure against real photographs (docs/synth.md, "Exposure").

Measured on the inner face (the convex hull of the brow, nose, eye and mouth points, so neither
background nor hair counts): the median luma (sRGB, 0-255), the median HSV saturation and the
luma's standard deviation, each summarised over the set by its 10th, 50th and 90th percentiles.

    python benchmarks/appearance_stats.py ../shared/data/aflw2000-3d-dev data/synth/train
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from synthmarks.data.readers import load_dataset


def face_stats(image_bgr: np.ndarray, points: np.ndarray) -> tuple[float, float, float] | None:
    """(median luma, median saturation, luma std) inside the inner-face hull, or None if tiny."""
    hull = cv2.convexHull(points[17:68].astype(np.float32)).astype(np.int32)
    mask = np.zeros(image_bgr.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    if mask.sum() < 50:
        return None
    inside = mask > 0
    luma = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)[inside]
    sat = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV)[..., 1][inside]
    return float(np.median(luma)), float(np.median(sat)), float(luma.std())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", nargs="+", help="labelled folders (any format eval reads)")
    ap.add_argument("--limit", type=int, default=200, help="faces per set")
    args = ap.parse_args()
    print("| set | faces | luma p10 / p50 / p90 | saturation p10 / p50 / p90 | contrast p50 |")
    print("|---|---|---|---|---|")
    for path in args.sets:
        rows = []
        for s in load_dataset(path, limit=args.limit):
            stats = face_stats(cv2.imread(str(s.image_path)), s.points[:68])
            if stats is not None:
                rows.append(stats)
        a = np.array(rows)
        luma, sat = (
            " / ".join(f"{v:.0f}" for v in np.percentile(a[:, k], [10, 50, 90])) for k in (0, 1)
        )
        print(f"| {path} | {len(a)} | {luma} | {sat} | {np.median(a[:, 2]):.1f} |")


if __name__ == "__main__":
    main()
