"""One-Euro settings: jitter on a still face against lag on a moving one, for a grid of settings.

    python benchmarks/bench_smoothing.py [--model CKPT] [--image IMG]

Still: the same face with fresh camera-like noise (Gaussian, sigma 3 grey levels) in every frame;
jitter is the mean frame-to-frame point movement, in % of the face size. Moving: the face slides
sideways at 1 face-width per second (a brisk head movement at 30 FPS); lag is the mean distance
between smoothed and unsmoothed points, in % of the face size. The defaults in
``OneEuroConfig`` come from this table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from synthmarks.bench import default_image
from synthmarks.data.sample import read_image
from synthmarks.infer.detect import FaceDetector
from synthmarks.infer.landmarker import Landmarker
from synthmarks.infer.smooth import OneEuroConfig, OneEuroFilter, jitter
from synthmarks.infer.video import noisy_frames
from synthmarks.landmarks import bounding_box

#: Fewest frames that leave both measures something after their warm-up frames.
MIN_FRAMES = 18


def track(frames: list[np.ndarray], box: np.ndarray, lm: Landmarker) -> np.ndarray:
    """Raw points of a face followed frame to frame (each crop from the last points)."""
    pts, last = [], None
    for f in frames:
        last = lm.predict(f, box if last is None else bounding_box(last))
        pts.append(last)
    return np.stack(pts)


def smooth(raw: np.ndarray, cfg: OneEuroConfig, size: float, fps: float = 30.0) -> np.ndarray:
    f = OneEuroFilter(cfg)
    return np.stack([f(p, i / fps, scale=size) for i, p in enumerate(raw)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="checkpoint or .onnx (default: the released model)")
    ap.add_argument("--image", type=Path)
    ap.add_argument("--frames", type=int, default=90)
    args = ap.parse_args()
    if args.frames < MIN_FRAMES:  # the lag skips 5 of frames // 3, the jitter 10 of frames
        ap.error(f"--frames must be at least {MIN_FRAMES}, not {args.frames}")
    image = read_image(args.image or default_image())
    det = FaceDetector()
    box = det.detect(image)[0].landmark_box()
    lm = Landmarker(args.model)
    size = float(np.sqrt(np.prod(box[2:] - box[:2])))
    still = noisy_frames(image, args.frames)
    raw_still = track(still, box, lm)
    step = (box[2] - box[0]) / 30.0
    h, w = image.shape[:2]
    import cv2

    moving = [
        cv2.warpAffine(
            image,
            np.array([[1, 0, i * step], [0, 1, 0]], np.float64),
            (w, h),
            borderMode=cv2.BORDER_REFLECT,
        )
        for i in range(args.frames // 3)
    ]
    raw_moving = track(moving, box, lm)
    print(f"raw: still jitter {100 * jitter(raw_still, size):.3f} % of face size per frame")
    print(f"{'min_cutoff':>10} {'beta':>6} {'jitter %':>9} {'lag %':>7}")
    for mc in (0.5, 1.0, 2.0):
        for beta in (0.5, 2.0, 5.0, 20.0):
            cfg = OneEuroConfig(min_cutoff=mc, beta=beta)
            j = jitter(smooth(raw_still, cfg, size)[10:], size)
            lag = np.linalg.norm(smooth(raw_moving, cfg, size) - raw_moving, axis=-1)[5:].mean()
            print(f"{mc:>10} {beta:>6} {100 * j:>9.3f} {100 * lag / size:>7.2f}")


if __name__ == "__main__":
    main()
