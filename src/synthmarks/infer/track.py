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

from synthmarks.infer.detect import FaceDetector, iou, nms
from synthmarks.infer.landmarker import MIN_CONFIDENCE, Face, Landmarker
from synthmarks.infer.smooth import OneEuroConfig, OneEuroFilter
from synthmarks.landmarks import bounding_box
from synthmarks.pose import wrap

#: Degrees of head rotation that count as one face size when the pose is smoothed: turning the
#: head by about this much moves its landmarks by about a face width, so the points' One-Euro
#: setting (tuned in face sizes per second) smooths the pose as much as the points.
POSE_SCALE_DEG = 90.0


@dataclass
class TrackerConfig:
    redetect_every: int = 10
    min_confidence: float = 0.25  # a track ends below this landmark confidence
    new_face_confidence: float = MIN_CONFIDENCE  # a detection becomes a track from this one
    min_score: float = 0.5  # detector face score of a new face
    max_faces: int = 8
    new_face_iou: float = 0.3  # a detection overlapping a track less than this is a new face
    smoothing: OneEuroConfig = field(default_factory=OneEuroConfig)


@dataclass
class Track:
    id: int
    points: np.ndarray  # raw (unsmoothed) points of the last frame
    scores: np.ndarray  # their per-point confidences
    score: float  # the face score of the last detection that matched this track
    filter: OneEuroFilter
    smoothed: np.ndarray | None = None
    pose: np.ndarray | None = None  # (pitch, yaw, roll) degrees of the last frame, if predicted
    pose_filter: OneEuroFilter | None = None
    #: the last raw pose, unwrapped: a roll crossing +-180 continues instead of jumping by 360
    pose_unwrapped: np.ndarray | None = None

    @property
    def confidence(self) -> float:
        return float(self.scores.mean())

    @property
    def box(self) -> np.ndarray:
        return bounding_box(self.points).astype(np.float32)

    def smooth_pose(self, t: float) -> np.ndarray | None:
        """The pose of the last frame through the track's own One-Euro filter, in degrees."""
        if self.pose is None:
            return None
        raw = np.asarray(self.pose, np.float64)
        if self.pose_unwrapped is not None:
            raw = self.pose_unwrapped + wrap(raw - self.pose_unwrapped)
        self.pose_unwrapped = raw
        if self.pose_filter is None:
            self.pose_filter = OneEuroFilter(self.filter.cfg)
        out = self.pose_filter(raw[None], t, scale=POSE_SCALE_DEG)[0]
        return wrap(out).astype(np.float32)


@dataclass
class TrackedFace(Face):
    track_id: int = -1


class FaceTracker:
    """Feed frames in order with their timestamps; get back the tracked faces of each.

    Each face's ``box`` is the box of its (smoothed) landmarks and its ``score`` the face score of
    the latest detection that matched it, as in :meth:`Landmarker.detect`.
    """

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
            pts, scores, pose = self.lm.follow(frame, np.stack([tr.points for tr in self.tracks]))
            poses = [None] * len(pts) if pose is None else list(pose)
            for tr, p, s, hp in zip(self.tracks, pts, scores, poses, strict=True):
                tr.points, tr.scores, tr.pose = p, s, hp
            self.tracks = [tr for tr in self.tracks if tr.confidence >= self.cfg.min_confidence]
            self._drop_duplicates()
        if not self.tracks or self.frame_index % self.cfg.redetect_every == 0:
            self._add_new_faces(frame)
        self.frame_index += 1
        faces = []
        for tr in self.tracks:
            size = float(np.sqrt(np.prod(tr.box[2:] - tr.box[:2])))
            tr.smoothed = tr.filter(tr.points, t, scale=size)
            box = bounding_box(tr.smoothed).astype(np.float32)
            pose = tr.smooth_pose(t)
            faces.append(
                TrackedFace(box, tr.score, tr.smoothed, tr.confidence, tr.scores, pose, tr.id)
            )
        return faces

    def _add_new_faces(self, frame: np.ndarray) -> None:
        self.detections_run += 1
        new = []
        for d in self.detector.detect(frame, self.cfg.min_score):
            overlaps = [(iou(d.landmark_box(), tr.box), tr) for tr in self.tracks]
            best = max(overlaps, key=lambda o: o[0], default=(0.0, None))
            if best[1] is not None and best[0] >= self.cfg.new_face_iou:
                best[1].score = d.score  # the face seen again: its score is today's
            else:
                new.append(d)
        new = new[: max(self.cfg.max_faces - len(self.tracks), 0)]
        if not new:
            return
        for d, face in zip(new, self.lm.faces([frame], [new])[0], strict=True):
            if face.confidence >= self.cfg.new_face_confidence:
                filt = OneEuroFilter(self.cfg.smoothing)
                pc = face.point_confidence
                track = Track(next(self._ids), face.landmarks, pc, d.score, filt, pose=face.pose)
                self.tracks.append(track)
        self._drop_duplicates()

    def _drop_duplicates(self) -> None:
        """Two tracks that converged onto one face keep the more confident one."""
        keep = nms(self.tracks, 0.5, score=lambda t: t.confidence)
        self.tracks = sorted(keep, key=lambda t: t.id)
