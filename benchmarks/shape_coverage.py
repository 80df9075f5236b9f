"""Does the generator draw the shapes real faces have? Nearest synthetic label shape per face.

Appearance is one half of the synthetic-to-real gap; geometry is the other: a real face whose
68-point shape (identity, expression and head pose together, after removing position, size and
in-plane roll) lies far from every shape the generator draws is a face the model never saw, however
photographed the renders look. This script aligns every shape to one template (a similarity
Procrustes fit), finds each reference face's nearest shape in a pool of generator labels, and
prints how far it is (RMS over the points, % of the template's box), region by region, against
the same distance for held-out generator faces (the floor: what a face the generator *does* draw
scores). A reference set's labels have their own definition of some points (the jaw above all),
so the distances are also given after removing the set's mean offset to its neighbours.

    python benchmarks/shape_coverage.py --pool data/synth/v3_seed10 \
        --holdout data/synth/check_seed11 -m default --data ../shared/data/aflw2000-3d-dev \
        ../shared/data/afw-68pt ../shared/data/facesynthetics-100

With ``-m`` it also scores the model on each set and asks whether the faces it gets wrong are the
faces the generator does not cover (rank correlation of per-face error and distance; the error
of the quarter of faces furthest from the pool against the rest). It also prints the quantiles
of two expression measures the eye can check on a contact sheet, mouth and eye opening, the share
of open mouths, and with ``-m`` how open the model reads the open ones (median of read / true).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy.spatial.distance import cdist
from scipy.stats import spearmanr

from synthmarks.data.readers import detect_format, load_dataset
from synthmarks.data.sample import Sample
from synthmarks.eval import metrics
from synthmarks.eval.evaluate import DEFAULT_JAW, load_predictor, run_model
from synthmarks.landmarks import NUM_POINTS, REGIONS, bounding_box
from synthmarks.synth.geometry import umeyama

#: a mouth counts as open from this opening on (inner lips apart by a tenth of the nose)
OPEN = 0.1


def shapes_of(samples: list[Sample], jaw: str) -> np.ndarray:
    """(N, 68, 2) points with jaw points 0-16 in the convention ``jaw`` where labels carry both."""
    out = np.stack([s.points[:NUM_POINTS] for s in samples]).astype(np.float64)
    for i, s in enumerate(samples):
        if s.jaws is not None:
            out[i, :17] = s.jaws[jaw]
    return out


def align(shapes: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Each shape moved, scaled and rotated onto ``template`` (least squares, no reflection).

    Fitted on the inner face (points 17-67) so that jaw conventions do not tilt the fit.
    """
    inner = slice(17, NUM_POINTS)
    out = np.empty_like(shapes)
    for i, s in enumerate(shapes):
        scale, r, t = umeyama(s[inner], template[inner])
        out[i] = scale * s @ r.T + t
    return out


def nearest(query: np.ndarray, pool: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Index of each query shape's nearest pool shape (squared distance over all points)."""
    p = pool.reshape(len(pool), -1)
    q = query.reshape(len(query), -1)
    return np.concatenate(
        [cdist(q[lo : lo + chunk], p, "sqeuclidean").argmin(1) for lo in range(0, len(q), chunk)]
    )


def region_rms(diff: np.ndarray) -> dict[str, np.ndarray]:
    """Per face, RMS point distance over all points and over each region."""
    out = {"all": np.sqrt((diff**2).sum(-1).mean(-1))}
    for name, r in REGIONS.items():
        out[name] = np.sqrt((diff[:, list(r)] ** 2).sum(-1).mean(-1))
    return out


def coverage(query: np.ndarray, pool: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Per-face distance to the nearest pool shape, as measured and with the set's mean offset
    to its neighbours removed (one refit: the offset is a labelling convention, not a shape)."""
    idx = nearest(query, pool)
    offset = (query - pool[idx]).mean(0)
    corrected = query - offset
    idx2 = nearest(corrected, pool)
    return region_rms(corrected - pool[idx2]), region_rms(query - pool[idx])["all"]


def openings(shapes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mouth opening (inner lips 62-66 apart, over the nose's length 27-33) and eye opening
    (mean lid gap over eye width, both eyes): ratios of lengths that turning the head changes
    little (the mouth's width, which a profile view shortens, would not do)."""
    mouth = np.linalg.norm(shapes[:, 62] - shapes[:, 66], axis=1) / np.linalg.norm(
        shapes[:, 27] - shapes[:, 33], axis=1
    )
    eyes = []
    for lids, corners in (([(37, 41), (38, 40)], (36, 39)), ([(43, 47), (44, 46)], (42, 45))):
        gap = np.mean([np.linalg.norm(shapes[:, a] - shapes[:, b], axis=1) for a, b in lids], 0)
        eyes.append(gap / np.linalg.norm(shapes[:, corners[0]] - shapes[:, corners[1]], axis=1))
    return mouth, np.mean(eyes, 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pool", required=True, help="generator folder whose labels are the pool")
    ap.add_argument("--pool-limit", type=int, default=30000)
    ap.add_argument("--holdout", required=True, help="other generator faces: the floor")
    ap.add_argument("--data", nargs="+", required=True, help="reference sets")
    ap.add_argument("-m", "--model", help="also correlate this model's per-face error")
    args = ap.parse_args()

    pool_samples = load_dataset(args.pool, limit=args.pool_limit)
    pools = {jaw: shapes_of(pool_samples, jaw) for jaw in ("xray", "outline")}
    template = pools["xray"].mean(0)
    template /= metrics.box_size(template.astype(np.float32))  # distances in % of a unit box
    pools = {jaw: align(p, template) for jaw, p in pools.items()}

    pm, pe = openings(pools["xray"])
    print(f"pool {args.pool}: {len(pool_samples)} faces")
    head = f"{'set':<24} {'n':>4} " + " ".join(f"{k:>6}" for k in ["raw", "all", *REGIONS])
    head += "   mouth q25/50/75  open   eyes q25/50/75"
    print(head)
    q = (25, 50, 75)
    print(
        f"{'(pool)':<24} {len(pm):>4} " + " " * 7 * (2 + len(REGIONS)) + "  "
        f"{' '.join(f'{v:5.2f}' for v in np.percentile(pm, q))} {(pm >= OPEN).mean():5.2f}   "
        f"{' '.join(f'{v:5.2f}' for v in np.percentile(pe, q))}"
    )
    for path in [args.holdout, *args.data]:
        samples = load_dataset(path)
        fmt_jaw = DEFAULT_JAW[detect_format(Path(path))]
        shapes = align(shapes_of(samples, fmt_jaw), template)
        dist, raw = coverage(shapes, pools[fmt_jaw])
        mouth, eyes = openings(shapes)
        print(
            f"{Path(path).name[:24]:<24} {len(samples):>4} {100 * raw.mean():6.2f} "
            + " ".join(f"{100 * dist[k].mean():6.2f}" for k in ["all", *REGIONS])
            + f"   {' '.join(f'{v:5.2f}' for v in np.percentile(mouth, q))} "
            f"{(mouth >= OPEN).mean():5.2f}   "
            f"{' '.join(f'{v:5.2f}' for v in np.percentile(eyes, q))}"
        )
        if args.model:
            predictor = load_predictor(args.model, jaw=fmt_jaw, roll="none")
            gts = np.stack([s.points[:NUM_POINTS] for s in samples])
            boxes = np.stack([bounding_box(g) for g in gts]).astype(np.float32)
            pred = run_model(predictor, samples, boxes, 32, args.model)[0]
            err = metrics.nme(pred, gts, "box")
            rho, pval = spearmanr(dist["all"], err)
            far = dist["all"] >= np.percentile(dist["all"], 75)
            read, _ = openings(pred.astype(np.float64))
            open_ = mouth >= OPEN
            print(
                f"{'':<24}      model {100 * err.mean():.2f} %; rank corr. error~distance "
                f"{rho:+.2f} (p {pval:.3f}); furthest quarter {100 * err[far].mean():.2f} % "
                f"vs rest {100 * err[~far].mean():.2f} %; open mouths ({open_.sum()}) read "
                f"{np.median(read[open_] / mouth[open_]):.2f}x as open"
            )


if __name__ == "__main__":
    main()
