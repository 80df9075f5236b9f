"""How bright, saturated and contrasty faces are in a labelled set, to set the generator's
exposure against real photographs (docs/synth.md, "Exposure").

Measured on the inner face (the convex hull of the brow, nose, eye and mouth points, so neither
background nor hair counts): the median luma (sRGB, 0-255), the median HSV saturation and the
luma's standard deviation, each summarised over the set by its 10th, 50th and 90th percentiles.
Blown skin is counted on the cheeks and nose alone (the polygon of :data:`SKIN_POLYGON`, eyes
cut out): the share of faces with more than a fifth of that skin at luma 250 or above, the
highlights a camera clips, and the skin's hue as the ratio of its median red to median green
(sRGB), over all faces and over the dark ones (inner-face luma under 90), where a red-brown cast
would show. Greyscale photographs are left out of the colour columns.

    python benchmarks/appearance_stats.py ../shared/data/aflw2000-3d-dev data/synth/train
    python benchmarks/appearance_stats.py data/synth/check3dmm_seed11 --look v2

``--look`` keeps one look of a generator folder (its ``_meta.json``); ``--frontal`` keeps faces
whose nose tip sits within that many eye distances of the eyes' midpoint along the eye line
(:func:`synthmarks.landmarks.nose_turn`), so sets of different poses compare the same part of a
face.
"""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np

from synthmarks.data.readers import load_dataset
from synthmarks.landmarks import nose_turn

#: Cheeks and nose, from the jaw to the mouth corners and up to the lower eyelids.
SKIN_POLYGON = [1, 2, 3, 4, 48, 54, 12, 13, 14, 15, 45, 46, 47, 42, 39, 40, 41, 36]
#: A face counts as blown when more than this share of its skin polygon is clipped.
BLOWN_SHARE = 0.2
CLIPPED_LUMA = 250
#: Faces whose inner-face median luma is under this count as dark in the hue column.
DARK_LUMA = 90


def face_stats(image_bgr: np.ndarray, points: np.ndarray) -> tuple[float, ...] | None:
    """(median luma, median saturation, luma std, clipped share of the skin, skin red / green)
    on the inner face, or None if it is tiny; colour figures NaN for a greyscale photo."""
    hull = cv2.convexHull(points[17:68].astype(np.float32)).astype(np.int32)
    mask = np.zeros(image_bgr.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, hull, 1)
    skin = np.zeros_like(mask)
    cv2.fillPoly(skin, [np.round(points[SKIN_POLYGON]).astype(np.int32)], 1)
    if mask.sum() < 50 or skin.sum() < 50:
        return None
    gray = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    luma = gray[mask > 0]
    sat = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2HSV)[..., 1][mask > 0]
    colour = np.ptp(image_bgr[mask > 0].astype(np.int16), axis=1).mean() >= 4
    clipped = float(np.mean(gray[skin > 0] >= CLIPPED_LUMA))
    _, g, r = np.median(image_bgr[skin > 0].astype(np.float32), axis=0)
    return (
        float(np.median(luma)),
        float(np.median(sat)) if colour else np.nan,
        float(luma.std()),
        clipped,
        float(r / max(g, 1.0)) if colour else np.nan,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", nargs="+", help="labelled folders (any format eval reads)")
    ap.add_argument("--limit", type=int, default=200, help="faces per set")
    ap.add_argument("--look", choices=["v1", "v2"], help="one look of a generator folder")
    ap.add_argument("--frontal", type=float, default=None, help="keep near-frontal faces only")
    args = ap.parse_args()
    print(
        "| set | faces | luma p10 / p50 / p90 | saturation p10 / p50 / p90 | contrast p50 "
        "| faces with blown skin % | skin red/green p50 (dark faces) |\n" + "|---" * 7 + "|"
    )
    for path in args.sets:
        rows = []
        for s in load_dataset(path):
            if len(rows) >= args.limit:
                break
            if args.look and _look(s.image_path) != args.look:
                continue
            points = s.points[:68]
            if args.frontal is not None and nose_turn(points) > args.frontal:
                continue
            stats = face_stats(cv2.imread(str(s.image_path)), points)
            if stats is not None:
                rows.append(stats)
        a = np.array(rows)
        luma, sat = (
            " / ".join(f"{v:.0f}" for v in np.nanpercentile(a[:, k], [10, 50, 90])) for k in (0, 1)
        )
        blown = 100 * np.mean(a[:, 3] > BLOWN_SHARE)
        dark = a[a[:, 0] < DARK_LUMA, 4]
        hue = f"{np.nanmedian(a[:, 4]):.2f} ({np.nanmedian(dark) if len(dark) else np.nan:.2f})"
        name = path + (f" ({args.look})" if args.look else "")
        print(
            f"| {name} | {len(a)} | {luma} | {sat} | {np.median(a[:, 2]):.1f} | {blown:.1f} "
            f"| {hue} |"
        )


def _look(image_path) -> str | None:
    meta = image_path.with_name(image_path.stem + "_meta.json")
    return json.loads(meta.read_text()).get("look") if meta.is_file() else None


if __name__ == "__main__":
    main()
