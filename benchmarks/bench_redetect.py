"""How often should video re-run the face detector? Accuracy and speed of tracking against it.

    python benchmarks/bench_redetect.py [--shared ../shared] [--faces 8] [--frames 90]

Each clip is a labelled AFLW2000-3D dev face drifting, zooming and turning in a 640x480 frame (as
``synthmarks bench`` makes its clip), so every frame has exact landmarks: the table gives the
mean box NME of the tracked points, the share of frames with the face found, and the tracking
time per frame for several ``redetect_every`` values, with the default detector.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import cv2
import numpy as np

from synthmarks.data.readers import load_dataset
from synthmarks.eval.metrics import nme
from synthmarks.infer.detect import DetectorConfig, FaceDetector
from synthmarks.infer.landmarker import Landmarker
from synthmarks.infer.track import FaceTracker, TrackerConfig
from synthmarks.landmarks import bounding_box


def clip(image: np.ndarray, points: np.ndarray, frames: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(frame, its true points) pairs of the face moving as a webcam user does."""
    x0, y0, x1, y1 = bounding_box(points)
    side = max(x1 - x0, y1 - y0) * 2.2
    out = []
    for i in range(frames):
        a = 2 * np.pi * i / frames
        scale = 240 / side * (1 + 0.15 * np.sin(a))
        cx = (x0 + x1) / 2 + 0.15 * side * np.sin(a)
        cy = (y0 + y1) / 2 + 0.08 * side * np.cos(2 * a)
        M = cv2.getRotationMatrix2D((float(cx), float(cy)), 12 * np.sin(2 * a), scale)
        M[:, 2] += (320 - cx, 240 - cy)
        frame = cv2.warpAffine(image, M, (640, 480), borderMode=cv2.BORDER_REFLECT)
        out.append((frame, points @ M[:, :2].T + M[:, 2]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--shared", type=Path, default=Path(os.environ.get("SYNTHMARKS_SHARED", "../shared"))
    )
    ap.add_argument("--faces", type=int, default=8)
    ap.add_argument("--frames", type=int, default=90)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    samples = load_dataset(args.shared / "data/aflw2000-3d-dev", limit=args.faces)
    clips = [clip(s.load_image(), s.points, args.frames) for s in samples]
    lm = Landmarker()
    detector = FaceDetector(DetectorConfig(purpose="video"))
    print(f"detector {detector.method} at {detector.work_size} px, {len(clips)} clips")
    print("| redetect every | box NME % | frames with the face | ms/frame |\n|---|---|---|---|")
    for every in (1, 3, 10, 30):
        errors, seen, seconds = [], 0, 0.0
        for frames in clips:
            tracker = FaceTracker(lm, detector, TrackerConfig(redetect_every=every))
            for i, (frame, truth) in enumerate(frames):
                t0 = time.perf_counter()
                faces = tracker.update(frame, i / 30)
                seconds += time.perf_counter() - t0
                centre = truth.mean(axis=0)
                hit = [f for f in faces if f.box[0] < centre[0] < f.box[2]]
                if hit:
                    seen += 1
                    errors.append(nme(hit[0].landmarks[None], truth[None], "box")[0])
        n = len(clips) * args.frames
        print(
            f"| {every} | {100 * np.mean(errors):.2f} | {seen / n:.3f} | {1000 * seconds / n:.2f} |"
        )


if __name__ == "__main__":
    main()
