"""Recall, false positives and speed of the face detectors: the figures of docs/detection.md.

    python benchmarks/bench_detect.py [--shared ../shared] [--purpose still|video] [--calibrate]
        [--model M] [--min-confidence C] [--methods yunet dlib haar]

prints the two tables (markdown) to stdout; ``--shared`` defaults to $SYNTHMARKS_SHARED, else
../shared; ``--purpose video`` runs each detector at its video size (``detect.WORK_SIZE``);
``--calibrate`` prints the score fits instead of the tables, and the share of faces dropped
and of non-faces kept at each landmark check (how ``MIN_CONFIDENCE`` is chosen for a model);
``--model`` measures a landmark model other than the released one (a candidate's confidence
scale, before it ships).

One run measures every detector on the same images. Recall: a face counts as found when a
detection's centre lies inside the ground-truth landmark box and its size is within 0.5-2.5x of
the box's (detectors disagree on where a face box ends, not on where the face is), split by |yaw|:
AFLW2000-3D's own pose, elsewhere a yaw estimated from the 68 labelled points (fitted on
AFLW2000-3D, error printed). False positives: detections on face-free images (crops of the
../shared HDRI scenes and scikit-image's sample photos without people). Each is counted for the
detector alone and for the whole pipeline (``Landmarker.detect``: detector score >= 0.5, then the
landmark model's confidence >= ``MIN_CONFIDENCE``). ``--calibrate`` also fits each detector's
raw score -> face score (``detect.CALIBRATION``) by logistic regression on these detections.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np

from synthmarks.data.readers import load_dataset
from synthmarks.infer.detect import DetectorConfig, FaceDetector
from synthmarks.infer.landmarker import MIN_CONFIDENCE, Landmarker
from synthmarks.landmarks import bounding_box

SETS = ("aflw2000-3d-dev", "afw-68pt", "real-68pt")
#: raw floors for --calibrate: low enough to see the detectors' junk
CALIBRATION_FLOOR = {"yunet": 0.05, "dlib": -1.5}
BINS = ((0, 30), (30, 60), (60, 1e9))
DETECTORS = {
    "YuNet (default)": DetectorConfig(method="yunet"),
    "dlib HOG": DetectorConfig(method="dlib", profile_fallback=False),
    "dlib HOG + Haar profile (fallback without YuNet)": DetectorConfig(method="dlib"),
    "OpenCV Haar frontal + profile (fallback without dlib)": DetectorConfig(method="haar"),
}


def found(boxes: list[np.ndarray], gt: np.ndarray) -> bool:
    x0, y0, x1, y1 = bounding_box(gt)
    size = np.sqrt((x1 - x0) * (y1 - y0))
    for b in boxes:
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        if x0 <= cx <= x1 and y0 <= cy <= y1 and 0.5 < np.sqrt(np.prod(b[2:] - b[:2])) / size < 2.5:
            return True
    return False


def asymmetry(pts: np.ndarray) -> float:
    """Nose tip between the jaw ends: 0 frontal, +-1 full profile."""
    a, b = np.linalg.norm(pts[30] - pts[0]), np.linalg.norm(pts[30] - pts[16])
    return float((a - b) / max(a + b, 1e-6))


def fit_yaw(samples: list) -> tuple[float, float]:
    """|yaw| ~ k * asin(|asymmetry|) by least squares on AFLW2000-3D; returns k and the median
    absolute error in degrees."""
    x = np.array([np.degrees(np.arcsin(min(1.0, abs(asymmetry(s.points))))) for s in samples])
    y = np.array([abs(s.yaw) for s in samples])
    k = float(x @ y / (x @ x))
    return k, float(np.median(np.abs(k * x - y)))


def face_free_images(shared: Path) -> list[np.ndarray]:
    """640x480 crops of the HDRI scenes OpenCV reads (tone-mapped), and scikit-image's sample
    photos without people (when scikit-image is installed)."""
    out = []
    for path in sorted((shared / "assets/hdri").rglob("*.hdr")):
        hdr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if hdr is None:
            continue
        hdr = np.nan_to_num(hdr, posinf=0.0).clip(0, None)
        ldr = (255 * (hdr / (1 + hdr)) ** (1 / 2.2)).astype(np.uint8)
        ldr = cv2.cvtColor(cv2.resize(ldr, (2048, 1024)), cv2.COLOR_BGR2RGB)
        for x in range(0, 2048 - 640 + 1, 352):
            for y in (128, 416):
                out.append(np.ascontiguousarray(ldr[y : y + 480, x : x + 640]))
    try:
        from skimage import data
    except ImportError:
        return out
    for name in ("chelsea", "coffee", "rocket", "horse", "coins", "moon", "page", "text", "clock"):
        try:
            img = getattr(data, name)()
        except Exception:  # noqa: BLE001 - a sample that needs a download is skipped
            continue
        img = img.astype(np.uint8) * (255 if img.dtype == bool else 1)
        out.append(img if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2RGB))
    return out


def logistic_fit(raw: np.ndarray, label: np.ndarray) -> tuple[float, float]:
    """(a, b) of P(face) = sigmoid(a * raw + b), faces and non-faces weighted equally (so the
    score does not depend on how many of each these test sets happen to hold), by Newton's
    method with a weak L2 prior."""
    x = np.stack([raw, np.ones_like(raw)], 1)
    weight = np.where(label > 0, 0.5 / max(label.sum(), 1), 0.5 / max((1 - label).sum(), 1))
    w = np.zeros(2)
    for _ in range(50):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (weight * (p - label)) + 1e-4 * w
        hess = (x * (weight * p * (1 - p))[:, None]).T @ x + 1e-4 * np.eye(2)
        w -= np.linalg.solve(hess, grad)
    return float(w[0]), float(w[1])


def yaw_of(sample, k: float) -> float:
    if sample.yaw is not None:
        return abs(sample.yaw)
    return k * float(np.degrees(np.arcsin(min(1.0, abs(asymmetry(sample.points))))))


def measure(
    det: FaceDetector,
    lm: Landmarker,
    sets: dict,
    negatives: list,
    k: float,
    min_confidence: float = MIN_CONFIDENCE,
) -> list:
    """Markdown rows: recall per set and |yaw| bin, for the detector alone (face score >= 0.5) and
    for the whole pipeline (then landmark confidence >= ``min_confidence``), ms per image; false
    positives on the face-free images."""
    rows = []
    for set_name, samples in sets.items():
        hits, piped, yaws, times = [], [], [], []
        for s in samples:
            img = s.load_image()
            t0 = time.perf_counter()
            dets = det.detect(img)
            times.append(time.perf_counter() - t0)
            faces = lm.faces([img], [dets])[0]
            hits.append(found([d.box for d in dets], s.points))
            piped.append(found([f.box for f in faces if f.confidence >= min_confidence], s.points))
            yaws.append(yaw_of(s, k))
        h, p, y = np.array(hits), np.array(piped), np.array(yaws)
        cells = [f"{h.mean():.3f} / {p.mean():.3f}"]
        for lo, hi in BINS:
            m = (y >= lo) & (y < hi)
            cells.append(f"{h[m].mean():.3f} / {p[m].mean():.3f} ({m.sum()})" if m.any() else "-")
        rows.append([set_name, *cells, f"{1000 * np.median(times):.1f}"])
    fp_det = fp_pipe = 0
    for img in negatives:
        dets = det.detect(img)
        fp_det += len(dets)
        fp_pipe += sum(f.confidence >= min_confidence for f in lm.faces([img], [dets])[0])
    return rows, (fp_det, fp_pipe)


def calibrate(cfg: DetectorConfig, lm: Landmarker, sets: dict, negatives: list) -> None:
    """Print each detector's raw score -> face score fit and the landmark confidences of faces and
    non-faces, from every detection down to a low raw floor."""
    det = FaceDetector(
        DetectorConfig(**{**cfg.__dict__, "purpose": "still", "raw_floor": CALIBRATION_FLOOR})
    )
    raws, labels, sources, conf = [], [], [], {True: [], False: []}
    labelled = [(s.load_image(), s.points, n) for n in SETS[:2] for s in sets[n]]
    for img, pts, set_name in labelled + [(img, None, "") for img in negatives]:
        dets = det.detect(img, min_score=0.0)
        dets += det.profiles(img) if cfg.method == "haar" else []
        for d, f in zip(dets, lm.faces([img], [dets])[0], strict=True):
            is_face = pts is not None and found([d.box], pts)
            if is_face or set_name != "afw-68pt":  # AFW crops may hold a neighbour's face
                raws.append(d.raw_score), labels.append(is_face), sources.append(d.source)
                conf[is_face].append(f.confidence)
    raw, lab, src = np.array(raws), np.array(labels, float), np.array(sources)
    for source in sorted(set(sources)):
        m = src == source
        a, b = logistic_fit(raw[m], lab[m])
        print(
            f"  CALIBRATION[{source!r}] = ({a:.3f}, {b:.3f})  # {m.sum()} detections, "
            f"{int(lab[m].sum())} faces"
        )
    for is_face, q in ((True, [1, 2, 5, 50]), (False, [50, 90, 95, 99])):
        pct = np.percentile(conf[is_face], q).round(3)
        print(
            f"  landmark confidence of {'faces' if is_face else 'non-faces'}, percentiles {q}: "
            f"{pct} ({len(conf[is_face])})"
        )
    faces, others = np.array(conf[True]), np.array(conf[False])
    print("  | landmark check | faces dropped % | non-faces kept % |\n  |---|---|---|")
    for t in np.arange(0.36, 0.505, 0.01):
        print(f"  | {t:.2f} | {100 * np.mean(faces < t):.1f} | {100 * np.mean(others >= t):.1f} |")
    cuts = np.unique(np.concatenate([faces, others]))
    gap = [abs(np.mean(faces < t) - np.mean(others >= t)) for t in cuts]
    print(f"  equal-error landmark check: {cuts[int(np.argmin(gap))]:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--shared", type=Path, default=Path(os.environ.get("SYNTHMARKS_SHARED", "../shared"))
    )
    ap.add_argument("--calibrate", action="store_true", help="fit raw score -> face score")
    ap.add_argument("--purpose", default="still", choices=["still", "video"], help="work size")
    ap.add_argument("--model", "-m", help="landmark model (default: the released one)")
    ap.add_argument("--min-confidence", type=float, default=MIN_CONFIDENCE, help="landmark check")
    ap.add_argument(
        "--methods",
        nargs="+",
        default=["yunet", "dlib", "haar"],
        help="detectors to calibrate or measure (yunet: the YuNet row; dlib: the HOG rows)",
    )
    args = ap.parse_args()
    cv2.setNumThreads(1)
    sets = {name: load_dataset(args.shared / "data" / name) for name in SETS}
    k, err = fit_yaw(sets["aflw2000-3d-dev"])
    print(
        f"|yaw| from the points: {k:.2f} asin|asymmetry| (AFLW2000-3D median error {err:.1f} deg)"
    )
    negatives = face_free_images(args.shared)
    lm = Landmarker(args.model)
    if args.calibrate:
        for method in args.methods:
            print(method)
            calibrate(DetectorConfig(method=method), lm, sets, negatives)
        return
    head = "| detector | set | recall | \\|yaw\\| < 30 | 30-60 | >= 60 | ms/img |"
    print(f"\n{head}\n|---|---|---|---|---|---|---|")
    fp = []
    for name, cfg in DETECTORS.items():
        if cfg.method not in args.methods:
            continue
        det = FaceDetector(DetectorConfig(**{**cfg.__dict__, "purpose": args.purpose}))
        rows, counts = measure(det, lm, sets, negatives, k, args.min_confidence)
        for row in rows:
            print(f"| {name} | {' | '.join(row)} |")
        fp.append((name, *counts))
    print(f"\nfalse positives on {len(negatives)} face-free images\n")
    print("| detector | detector alone | after the landmark check |\n|---|---|---|")
    for name, a, b in fp:
        print(f"| {name} | {a} | {b} |")


if __name__ == "__main__":
    main()
