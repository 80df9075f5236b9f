"""Recall, false positives and speed of the face detectors: the figures of docs/detection.md.

    python benchmarks/bench_detect.py [--shared ../shared] [--out runs/bench_detect]

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--shared", type=Path, default=Path(os.environ.get("SYNTHMARKS_SHARED", "../shared"))
    )
    ap.add_argument("--calibrate", action="store_true", help="fit raw score -> face score")
    ap.add_argument("--purpose", default="still", choices=["still", "video"], help="work size")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    sets = {name: load_dataset(args.shared / "data" / name) for name in SETS}
    k, err = fit_yaw(sets["aflw2000-3d-dev"])
    print(
        f"yaw estimate from points: |yaw| = {k:.2f} asin|asym| (AFLW2000-3D median error {err:.1f} deg)"
    )
    negatives = face_free_images(args.shared)
    lm = Landmarker()
    print(
        f"\n| detector | set | recall | \\|yaw\\| < 30 | 30-60 | >= 60 | pipeline recall "
        f"| ms/img |\n|---|---|---|---|---|---|---|---|"
    )
    fp_rows = []
    for name, cfg in DETECTORS.items():
        floor = {"yunet": 0.05, "dlib": -1.5} if args.calibrate else cfg.raw_floor
        det = FaceDetector(
            DetectorConfig(**{**cfg.__dict__, "purpose": args.purpose, "raw_floor": floor})
        )
        lm._detector = det
        raws, labels, sources, conf_face, conf_other = [], [], [], [], []
        for set_name, samples in sets.items():
            hits, piped, yaws, times = [], [], [], []
            for s in samples:
                img = s.load_image()
                t0 = time.perf_counter()
                dets = det.detect(img, min_score=0.0)
                times.append(time.perf_counter() - t0)
                faces = lm.faces([img], [dets])[0]
                kept = [d for d in dets if d.score >= 0.5]
                hits.append(found([d.box for d in kept], s.points))
                ok = [f.box for f in faces if f.score >= 0.5 and f.confidence >= MIN_CONFIDENCE]
                piped.append(found(ok, s.points))
                if set_name == "aflw2000-3d-dev":
                    for f in faces:
                        (conf_face if found([f.box], s.points) else conf_other).append(f.confidence)
                yaw = (
                    s.yaw
                    if s.yaw is not None
                    else k * np.degrees(np.arcsin(min(1, abs(asymmetry(s.points)))))
                )
                yaws.append(abs(yaw))
                if set_name != "real-68pt":  # group photos: an unlabelled face is no mistake
                    for d in dets:
                        is_face = found([d.box], s.points)
                        if is_face or set_name == "aflw2000-3d-dev":
                            (
                                raws.append(d.raw_score),
                                labels.append(is_face),
                                sources.append(d.source),
                            )
            h, y = np.array(hits), np.array(yaws)
            bins = [
                f"{h[(y >= lo) & (y < hi)].mean():.3f} ({((y >= lo) & (y < hi)).sum()})"
                for lo, hi in BINS
            ]
            print(
                f"| {name} | {set_name} | {h.mean():.3f} | {' | '.join(bins)} | "
                f"{np.mean(piped):.3f} | {1000 * np.median(times):.1f} |"
            )
        fp_det = fp_pipe = 0
        for img in negatives:
            dets = det.detect(img, min_score=0.0)
            for d in dets:
                raws.append(d.raw_score), labels.append(False), sources.append(d.source)
            faces = lm.faces([img], [dets])[0]
            conf_other += [f.confidence for f in faces]
            fp_det += sum(d.score >= 0.5 for d in dets)
            fp_pipe += sum(f.score >= 0.5 and f.confidence >= MIN_CONFIDENCE for f in faces)
        fp_rows.append((name, fp_det, fp_pipe))
        if args.calibrate:
            q = [0, 1, 5, 50]
            print(
                f"  landmark confidence, faces: percentiles {q}: {np.percentile(conf_face, q).round(3)}"
            )
            if conf_other:
                q = [50, 95, 99, 100]
                print(
                    f"  landmark confidence, non-faces ({len(conf_other)}): percentiles {q}: {np.percentile(conf_other, q).round(3)}"
                )
            raw, lab, src = np.array(raws), np.array(labels, float), np.array(sources)
            for source in sorted(set(sources)):
                m = src == source
                a, b = logistic_fit(raw[m], lab[m])
                print(
                    f"  CALIBRATION[{source!r}] = ({a:.3f}, {b:.3f})  ({m.sum()} detections, {int(lab[m].sum())} faces)"
                )
    print(f"\nfalse positives on {len(negatives)} face-free images (detector / pipeline)")
    print("| detector | detector alone | after the landmark check |\n|---|---|---|")
    for name, a, b in fp_rows:
        print(f"| {name} | {a} | {b} |")


if __name__ == "__main__":
    main()
