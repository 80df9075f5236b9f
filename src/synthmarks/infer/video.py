"""The video pipeline: decode, detect/track, landmarks, smoothing, draw, encode."""

from __future__ import annotations

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
from synthmarks.infer.results import csv_rows, image_record, model_fields, write_csv
from synthmarks.infer.smooth import OneEuroConfig
from synthmarks.infer.sources import open_source
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


def annotate_video(
    src: str | int | Path,
    dst: Path,
    model: str | None = None,
    backend: str = "auto",
    detector: str = "auto",
    tracker: TrackerConfig | None = None,
    csv_path: Path | None = None,
    json_path: Path | None = None,
    draw: bool = True,
    fps_counter: bool = True,
    boxes: bool = True,
    detector_model: str | None = None,
    progress: bool = True,
    jaw: str | None = None,
    roll: str = "auto",
    detect_turns: bool = False,
) -> VideoStats:
    """Annotate ``src`` (a file, URL, device path or camera index) into ``dst`` (written
    atomically); returns frame, face and timing counts. ``jaw`` and ``roll`` as ``Landmarker``
    takes them; ``detect_turns`` as :attr:`DetectorConfig.turns`, off here (unlike
    ``Landmarker.detect``): each detector run would take 4-5x as long, and a tracked face that
    turns is followed by the roll search anyway; only faces on their side when they first
    appear need it."""
    suffix = dst.suffix.lower()
    if suffix not in FOURCC:
        raise SynthmarksError(f"{dst}: output must be one of {', '.join(FOURCC)}")
    fileio.prepare_out_file(dst, "output", (src,))  # before the work, which a late error loses
    if csv_path:
        fileio.prepare_out_file(csv_path, "--csv", (src, dst))
    if json_path:
        fileio.prepare_out_file(json_path, "--json", (src, dst, csv_path))
    cap = open_source(src)
    fps_in = cap.get(cv2.CAP_PROP_FPS) or 30.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    ok, frame = cap.read()
    if not ok:
        raise SynthmarksError(f"{src}: no frames could be decoded")
    lm = Landmarker(model, backend=backend, jaw=jaw, roll=roll)
    cfg = DetectorConfig(method=detector, model=detector_model, purpose="video", turns=detect_turns)
    track = FaceTracker(lm, FaceDetector(cfg), tracker)
    h, w = frame.shape[:2]
    source, model_info = str(src), model_fields(lm)
    records: list[dict[str, Any]] = []
    rows: list[list[Any]] = []
    faces_seen = 0
    with fileio.atomic_path(dst) as tmp:
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*FOURCC[suffix]), fps_in, (w, h))
        if not writer.isOpened():
            raise SynthmarksError(f"{dst}: cannot write a video here")
        start = time.perf_counter()
        index = 0
        with tqdm(total=total, desc="video", unit="frame", disable=not progress) as bar:
            while ok:
                rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
                faces = track.update(rgb, index / fps_in)
                faces_seen += len(faces)
                if draw:
                    fps = (index + 1) / max(time.perf_counter() - start, 1e-9)
                    out = viz.draw_faces(rgb, faces, fps=fps if fps_counter else None, boxes=boxes)
                    writer.write(cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
                if json_path or csv_path:
                    rec = image_record(source, (w, h), faces, model_info)
                    records.append({"frame": index, "faces": rec["faces"]})
                    rows += csv_rows(rec, index)
                index += 1
                bar.update()
                ok, frame = cap.read()
        seconds = time.perf_counter() - start
        writer.release()
    cap.release()
    if json_path:
        head = {"source": source, "fps": fps_in, "width": w, "height": h, **model_info}
        fileio.write_json(json_path, {**head, "frames": records})
    if csv_path:
        write_csv(csv_path, rows)
    return VideoStats(index, faces_seen, seconds, track.detections_run)


def noisy_frames(image: np.ndarray, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` copies of a still image, each with fresh camera-like noise (Gaussian, sigma 3
    grey levels): what a webcam sends of a face that does not move, to measure jitter on."""
    rng = np.random.default_rng(seed)
    return [
        np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8)
        for _ in range(count)
    ]


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
