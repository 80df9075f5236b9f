"""``synthmarks video IN OUT``: track faces through a video file and draw their landmarks."""

from __future__ import annotations

import argparse
from pathlib import Path

from synthmarks.infer.predict_cli import add_drawing_arguments, add_model_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="video to read: a file, URL, /dev/videoN or camera index")
    p.add_argument("output", type=Path, help="annotated video to write (.mp4 or .avi)")
    p.add_argument("--csv", type=Path, help="per-frame landmarks as CSV")
    p.add_argument("--json", type=Path, help="per-frame landmarks as JSON")
    p.add_argument("--redetect-every", type=int, default=10, help="frames between detections")
    p.add_argument("--no-smooth", action="store_true", help="turn the One-Euro filter off")
    p.add_argument("--min-cutoff", type=float, default=0.5, help="One-Euro cut-off at rest (Hz)")
    p.add_argument("--beta", type=float, default=20.0, help="One-Euro speed coefficient")
    add_model_arguments(p)
    add_drawing_arguments(p, fps=True)


def run(args: argparse.Namespace) -> int:
    from synthmarks.infer.smooth import OneEuroConfig
    from synthmarks.infer.track import TrackerConfig
    from synthmarks.infer.video import annotate_video

    cfg = TrackerConfig(
        redetect_every=max(1, args.redetect_every),
        min_score=args.min_score,
        smoothing=OneEuroConfig(args.min_cutoff, args.beta, enabled=not args.no_smooth),
    )
    stats = annotate_video(
        args.input,
        args.output,
        model=args.model,
        backend=args.backend,
        detector=args.detector,
        tracker=cfg,
        csv_path=args.csv,
        json_path=args.json,
        fps_counter=not args.no_fps,
        boxes=not args.no_box,
        detector_model=args.detector_model,
        jaw=args.jaw,
        roll=args.roll,
    )
    print(
        f"{stats.frames} frames, {stats.faces / max(stats.frames, 1):.2f} faces/frame, "
        f"{stats.fps:.1f} FPS end to end ({stats.detections} detector runs) -> {args.output}"
    )
    return 0
