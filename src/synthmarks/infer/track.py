"""Landmark tracking for video: crop each frame from the last frame's points, detect only now
and then.

Running the detector on every frame costs more than the landmark model, and its boxes wobble; a
face seen in the last frame is best cropped from its own landmarks. The detector runs every
``redetect_every`` frames (to pick up new faces) and whenever no face is tracked; a track ends when
the model's confidence drops (the face left, or the crop lost it).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from synthmarks.infer.detect import FaceDetector, iou
from synthmarks.infer.landmarker import Face, Landmarker
from synthmarks.infer.smooth import OneEuroConfig, OneEuroFilter
from synthmarks.landmarks import bounding_box


@dataclass
class TrackerConfig:
    redetect_every: int = 10
    min_confidence: float = 0.25
    max_faces: int = 8
    new_face_iou: float = 0.3  # a detection overlapping a track less than this is a new face
    smoothing: OneEuroConfig = field(default_factory=OneEuroConfig)


@dataclass
class Track:
    id: int
    points: np.ndarray  # raw (unsmoothed) points of the last frame
    confidence: float
    score: float
    filter: OneEuroFilter
    smoothed: np.ndarray | None = None

    @property
    def box(self) -> np.ndarray:
        return bounding_box(self.points).astype(np.float32)


@dataclass
class TrackedFace(Face):
    track_id: int = -1


class FaceTracker:
    """Feed frames in order with their timestamps; get back the tracked faces of each."""

    def __init__(
        self,
        landmarker: Landmarker,
        detector: FaceDetector | None = None,
        cfg: TrackerConfig | None = None,
    ) -> None:
        self.lm = landmarker
        self.detector = detector or FaceDetector()
        self.cfg = cfg or TrackerConfig()
        self.tracks: list[Track] = []
        self.frame_index = 0
        self.detections_run = 0
        self._ids = itertools.count()

    def update(self, frame: np.ndarray, t: float) -> list[TrackedFace]:
        if self.tracks:
            pts, conf = self.lm.predict_with_confidence(
                [frame] * len(self.tracks), [tr.box for tr in self.tracks]
            )
            for tr, p, c in zip(self.tracks, pts, conf, strict=True):
                tr.points, tr.confidence = p, float(c)
            self.tracks = [tr for tr in self.tracks if tr.confidence >= self.cfg.min_confidence]
            self._drop_duplicates()
        if not self.tracks or self.frame_index % self.cfg.redetect_every == 0:
            self._add_new_faces(frame)
        self.frame_index += 1
        faces = []
        for tr in self.tracks:
            box = tr.box
            tr.smoothed = tr.filter(tr.points, t, scale=float(np.sqrt(np.prod(box[2:] - box[:2]))))
            faces.append(TrackedFace(box, tr.score, tr.smoothed, tr.confidence, tr.id))
        return faces

    def _add_new_faces(self, frame: np.ndarray) -> None:
        self.detections_run += 1
        dets = self.detector.detect(frame)
        room = self.cfg.max_faces - len(self.tracks)
        new = [
            d
            for d in dets
            if all(
                iou(self.detector.landmark_box(d.box), tr.box) < self.cfg.new_face_iou
                for tr in self.tracks
            )
        ][: max(room, 0)]
        if not new:
            return
        boxes = np.stack([self.detector.landmark_box(d.box) for d in new])
        pts, conf = self.lm.refine([frame] * len(new), boxes)
        for d, p, c in zip(new, pts, conf, strict=True):
            if c >= self.cfg.min_confidence:
                self.tracks.append(
                    Track(next(self._ids), p, float(c), d.score, OneEuroFilter(self.cfg.smoothing))
                )
        self._drop_duplicates()

    def _drop_duplicates(self) -> None:
        """Two tracks that converged onto one face keep the more confident one."""
        keep: list[Track] = []
        for tr in sorted(self.tracks, key=lambda t: -t.confidence):
            if all(iou(tr.box, k.box) < 0.5 for k in keep):
                keep.append(tr)
        self.tracks = sorted(keep, key=lambda t: t.id)
