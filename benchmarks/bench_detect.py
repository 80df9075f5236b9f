"""Recall and speed of the face detectors on real images: the figures behind the default choice.

    python benchmarks/bench_detect.py [--shared ../shared]

A face counts as found when a detection's centre lies inside the ground-truth landmark box and its
size is within 0.5-2.5x of the box's: detectors disagree on where a face box ends, not on where the
face is. Recall is split by |yaw| on AFLW2000-3D, the only set with poses.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from synthmarks.data.readers import load_dataset
from synthmarks.infer.detect import DetectorConfig, FaceDetector
from synthmarks.landmarks import bounding_box


def found(dets: list, gt: np.ndarray) -> bool:
    x0, y0, x1, y1 = bounding_box(gt)
    size = np.sqrt((x1 - x0) * (y1 - y0))
    for d in dets:
        cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
        ds = np.sqrt(np.prod(d.box[2:] - d.box[:2]))
        if x0 <= cx <= x1 and y0 <= cy <= y1 and 0.5 < ds / size < 2.5:
            return True
    return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--shared", type=Path, default=Path(os.environ.get("SYNTHMARKS_SHARED", "../shared"))
    )
    args = ap.parse_args()
    import cv2

    cv2.setNumThreads(1)
    sets = {
        name: load_dataset(args.shared / "data" / name) for name in ("aflw2000-3d-dev", "real-68pt")
    }
    configs = {
        "dlib HOG": DetectorConfig(method="dlib", profile_fallback=False),
        "dlib HOG + Haar profile (default)": DetectorConfig(method="dlib"),
        "dlib HOG + Haar profile, work_size 1280": DetectorConfig(method="dlib", work_size=1280),
        "Haar frontal": DetectorConfig(method="haar", profile_fallback=False),
        "Haar frontal + profile": DetectorConfig(method="haar"),
    }
    print(f"{'detector':36s} {'set':16s} recall  |yaw|<30  30-60  >=60   ms/img")
    for name, cfg in configs.items():
        det = FaceDetector(cfg)
        for set_name, samples in sets.items():
            hits, yaws, times = [], [], []
            for s in samples:
                img = s.load_image()
                t0 = time.perf_counter()
                dets = det.detect(img)
                times.append(time.perf_counter() - t0)
                hits.append(found(dets, s.points))
                yaws.append(abs(s.yaw) if s.yaw is not None else 0.0)
            h, y = np.array(hits), np.array(yaws)
            bins = [
                h[(y >= lo) & (y < hi)].mean() if ((y >= lo) & (y < hi)).any() else np.nan
                for lo, hi in ((0, 30), (30, 60), (60, 1e9))
            ]
            print(
                f"{name:36s} {set_name:16s} {h.mean():.3f}   {bins[0]:.3f}   {bins[1]:.3f}  "
                f"{bins[2]:.3f}  {1000 * np.median(times):6.1f}"
            )


if __name__ == "__main__":
    main()
