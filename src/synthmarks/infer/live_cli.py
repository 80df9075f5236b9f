"""``synthmarks live``: webcam landmarks in a window, with the FPS.

The window is a Tk window (Python's standard GUI toolkit), so it works with the headless OpenCV
build that the package installs; OpenCV only reads the camera.
"""

from __future__ import annotations

import argparse
import os

from synthmarks.infer.predict_cli import add_drawing_arguments, add_model_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--camera", default="0", help="camera index, /dev/videoN, video file or URL (default 0)"
    )
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--no-smooth", action="store_true")
    add_model_arguments(p)
    add_drawing_arguments(p, fps=True)


def run(args: argparse.Namespace) -> int:
    import collections
    import time

    import cv2

    from synthmarks import viz
    from synthmarks.errors import SynthmarksError
    from synthmarks.infer.detect import DetectorConfig, FaceDetector
    from synthmarks.infer.landmarker import Landmarker
    from synthmarks.infer.smooth import OneEuroConfig
    from synthmarks.infer.sources import open_source, parse_source
    from synthmarks.infer.track import FaceTracker, TrackerConfig

    parse_source(args.camera)  # a bad source is the first thing to hear about
    if os.name != "nt" and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise SynthmarksError("no display to show the video on (DISPLAY is not set)")
    try:
        import tkinter as tk

        from PIL import Image, ImageTk
    except ImportError as exc:
        raise SynthmarksError(
            f"live needs Tk and Pillow for its window ({exc.name} missing)"
        ) from None
    cap = open_source(args.camera)
    cap.set(cv2.CAP_PROP_FRAME_WIDTH, args.width)
    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, args.height)
    lm = Landmarker(args.model, backend=args.backend, jaw=args.jaw, roll=args.roll)
    detector = DetectorConfig(method=args.detector, model=args.detector_model, purpose="video")
    tracker = FaceTracker(
        lm,
        FaceDetector(detector),
        TrackerConfig(
            min_score=args.min_score, smoothing=OneEuroConfig(enabled=not args.no_smooth)
        ),
    )
    try:
        root = tk.Tk()
    except tk.TclError as exc:
        cap.release()
        raise SynthmarksError(f"cannot open a window ({exc})") from None
    root.title("synthmarks live (q or Esc to quit)")
    label = tk.Label(root)
    label.pack()
    root.bind("<Key>", lambda e: root.destroy() if e.keysym in ("q", "Escape") else None)
    start = time.perf_counter()
    stamps: collections.deque[float] = collections.deque(maxlen=30)
    failure: list[str] = []

    def step() -> None:
        ok, frame = cap.read()
        if not ok:
            failure.append(f"{args.camera}: no more frames")
            root.destroy()
            return
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        faces = tracker.update(rgb, time.perf_counter() - start)
        stamps.append(time.perf_counter())
        fps = (len(stamps) - 1) / max(stamps[-1] - stamps[0], 1e-6) if len(stamps) > 1 else None
        drawn = viz.draw_faces(rgb, faces, fps=None if args.no_fps else fps, boxes=not args.no_box)
        photo = ImageTk.PhotoImage(Image.fromarray(drawn))
        label.configure(image=photo)
        label.image = photo  # Tk keeps no reference of its own
        root.after(1, step)

    root.after(0, step)
    try:
        root.mainloop()
    finally:
        cap.release()
    if failure:
        raise SynthmarksError(failure[0])
    return 0
