"""The video pipeline: decode, detect/track, landmarks, smoothing, draw, encode."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from synthmarks import fileio, viz
from synthmarks.errors import SynthmarksError
from synthmarks.infer.detect import DetectorConfig, FaceDetector
from synthmarks.infer.landmarker import Landmarker
from synthmarks.infer.results import CSV_HEADER, csv_rows, face_record
from synthmarks.infer.smooth import OneEuroConfig
from synthmarks.infer.track import FaceTracker, TrackerConfig

FOURCC = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "mp4v", ".mov": "mp4v"}


@dataclass
class VideoStats:
    frames: int
    faces: int
    seconds: float
    detections: int

    @property
    def fps(self) -> float:
        return self.frames / max(self.seconds, 1e-9)


def open_video(path: Path) -> cv2.VideoCapture:
    if not path.is_file():
        raise SynthmarksError(f"{path}: no such video file")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise SynthmarksError(f"{path}: cannot be opened as a video")
    return cap


def annotate_video(
    src: Path,
    dst: Path,
    model: str | None = None,
    backend: str = "auto",
    detector: str = "auto",
    tracker: TrackerConfig | None = None,
    csv_path: Path | None = None,
    json_path: Path | None = None,
    draw: bool = True,
) -> VideoStats:
    """Annotate ``src`` into ``dst`` (written atomically); returns frame, face and timing counts."""
    suffix = dst.suffix.lower()
    if suffix not in FOURCC:
        raise SynthmarksError(f"{dst}: output must be one of {', '.join(FOURCC)}")
    fileio.prepare_out_file(dst, "output", (src,))  # before the work, which a late error loses
    if csv_path:
        fileio.prepare_out_file(csv_path, "--csv", (src, dst))
    if json_path:
        fileio.prepare_out_file(json_path, "--json", (src, dst, csv_path))
    cap = open_video(src)
    fps_in = cap.get(cv2.CAP_PROP_FPS) or 30.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    ok, frame = cap.read()
    if not ok:
        raise SynthmarksError(f"{src}: no frames could be decoded")
    lm = Landmarker(model, backend=backend)
    track = FaceTracker(lm, FaceDetector(DetectorConfig(method=detector)), tracker)
    records: list[dict[str, Any]] = []
    rows: list[list[Any]] = []
    h, w = frame.shape[:2]
    faces_seen = 0
    with fileio.atomic_path(dst) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*FOURCC[suffix]), fps_in, (w, h))
        if not writer.isOpened():
            raise SynthmarksError(f"{dst}: cannot write a video here")
        start = time.perf_counter()
        index = 0
        with tqdm(total=total, desc="video", unit="frame") as bar:
            while ok:
                rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                faces = track.update(rgb, index / fps_in)
                faces_seen += len(faces)
                if draw:
                    elapsed = time.perf_counter() - start
                    out = viz.draw_faces(rgb, faces, fps=(index + 1) / max(elapsed, 1e-9))
                    writer.write(cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
                if json_path:
                    records.append({"frame": index, "faces": [face_record(f) for f in faces]})
                if csv_path:
                    rows += csv_rows(src.name, index, faces)
                index += 1
                bar.update()
                ok, frame = cap.read()
        seconds = time.perf_counter() - start
        writer.release()
    cap.release()
    if json_path:
        fileio.write_json(json_path, {"video": str(src), "fps": fps_in, "frames": records})
    if csv_path:
        buf = io.StringIO()
        csv.writer(buf).writerows([CSV_HEADER, *rows])
        fileio.write_text(csv_path, buf.getvalue())
    return VideoStats(index, faces_seen, seconds, track.detections_run)


def still_jitter(
    frames: list[np.ndarray],
    box: np.ndarray,
    lm: Landmarker,
    smoothing: OneEuroConfig,
    fps: float = 30.0,
) -> float:
    """Jitter of a face tracked through (near-)identical frames from a starting box, as the tracker
    follows it (each crop from the last frame's points), with the given smoothing."""
    from synthmarks.infer.smooth import OneEuroFilter, jitter
    from synthmarks.landmarks import bounding_box

    filt = OneEuroFilter(smoothing)
    pts, raw = [], None
    for i, f in enumerate(frames):
        raw = lm.predict(f, box if raw is None else bounding_box(raw))
        b = bounding_box(raw)
        pts.append(filt(raw, i / fps, scale=float(np.sqrt((b[2] - b[0]) * (b[3] - b[1])))))
    b = bounding_box(pts[0])
    return jitter(np.stack(pts), float(np.sqrt((b[2] - b[0]) * (b[3] - b[1]))))
