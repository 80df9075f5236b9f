"""Face detection for whole images and frames: where to look; landmarks always come from our models.

The default is OpenCV's YuNet (``cv2.FaceDetectorYN``, a 232 KB ONNX file found like the other
assets, :mod:`synthmarks.locate`): on the real images of ../shared it finds more faces, profiles
included, than dlib's HOG detector, in a third of its time, and gives five keypoints (eyes, nose,
mouth corners) that de-rotate the landmark crop. Without the file, dlib's HOG detector (its model
is inside the dlib wheel) with OpenCV's profile cascade as a fallback takes over, after a one-line
notice; without dlib, OpenCV's frontal + profile cascades. docs/detection.md has the measurements
(``benchmarks/bench_detect.py`` re-runs them).

Every detector's own score (YuNet's confidence, HOG's SVM margin, a cascade's stage sum) is mapped
to one face score in [0, 1]: the probability that such a detection is a face, fitted by logistic
regression on the same measurements, so ``min_score=0.5`` means the same for every detector.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import cv2
import numpy as np

from synthmarks import locate
from synthmarks.data import crop
from synthmarks.data.sample import rotate_image, rotated_size, rotation_matrix
from synthmarks.errors import SynthmarksError
from synthmarks.landmarks import bounding_box
from synthmarks.pose import wrap

METHODS = ("auto", "yunet", "dlib", "haar")

#: raw score -> face score: sigmoid(a * raw + b), the probability that a detection with that raw
#: score is a face, faces and non-faces weighted equally. Fitted by logistic regression on every
#: detection of ``benchmarks/bench_detect.py --calibrate`` (AFLW2000-3D dev, AFW, face-free
#: images; docs/detection.md): YuNet 1032 detections (554 faces), HOG 1778 (891), Haar frontal
#: 400 (393: too few non-faces for a sharp fit), Haar profile 307 (289).
CALIBRATION: dict[str, tuple[float, float]] = {
    "yunet": (9.479, -4.585),
    "dlib": (2.390, 2.141),
    "haar-frontal": (0.505, -28.122),
    "haar-profile": (1.012, -1.352),
}
#: raw scores below these never come back: face score about 0.1 for YuNet, 0.18 for HOG (the
#: lowest raw score the calibration saw)
RAW_FLOOR = {"yunet": 0.25, "dlib": -1.5}
#: longer image side each detector runs at, for still images and for video frames. HOG's window
#: is 80 px, so stills get 1280 px for the small faces of group photos; YuNet finds every
#: labelled face of ../shared/data/real-68pt at 640 px, and webcam faces at 320 px
#: (docs/detection.md).
WORK_SIZE = {
    "still": {"yunet": 640, "dlib": 1280, "haar": 1280},
    "video": {"yunet": 320, "dlib": 640, "haar": 640},
}
#: detector box -> approximate box of the 68 landmarks: centre shift and size factor (fractions
#: of the box's width and height). dlib: medians over 732 HOG detections on 1500 faces of
#: ``synthmarks synth --seed 1`` (shift 0.00, 0.07; size 0.86 x 0.92, used as 0.89 x 0.89);
#: YuNet (whose box takes in the forehead): medians over its detections of the 100 Face
#: Synthetics samples in ../shared (shift -0.005, 0.108; size 1.03 x 0.73). Both made by
#: benchmarks/fit_detector_box.py.
BOX_MAP: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "yunet": ((0.0, 0.108), (1.03, 0.73)),
    "dlib": ((0.0, 0.07), (0.89, 0.89)),
    "haar-frontal": ((0.0, 0.07), (0.89, 0.89)),
    "haar-profile": ((0.0, 0.07), (0.89, 0.89)),
}


@dataclass
class Detection:
    """A face box in image pixels (x0, y0, x1, y1), its face score in [0, 1] and, for YuNet,
    five keypoints (5, 2): the eye on the image's left, the other eye, the nose tip, the mouth
    corner on the image's left, the other corner. ``turn`` is the quarter turn (degrees,
    counter-clockwise, as :func:`~synthmarks.data.sample.rotate_image` turns) of the image copy
    the face was found in (:attr:`DetectorConfig.turns`): the face is upright in that copy, and
    "left" above means that copy's left."""

    box: np.ndarray
    score: float
    keypoints: np.ndarray | None = None
    raw_score: float = 0.0
    source: str = "dlib"  # which detector: a key of CALIBRATION and BOX_MAP
    turn: float = 0.0

    def landmark_box(self) -> np.ndarray:
        """The approximate tight box of the face's 68 landmarks, which the models crop from.

        Detector boxes sit higher than the landmarks (YuNet's takes in the forehead); the
        landmarks' own box, found in a second pass, then corrects what this rough mapping leaves.
        A face found in a turned copy is mapped in that copy's frame, where its forehead is up.
        """
        (sx, sy), (kx, ky) = BOX_MAP[self.source]
        # the bare rotation into the copy's frame (a 1 x 1 canvas has no shift); boxes follow
        # a rotation about any point alike, so the face's place is kept
        to_copy = rotation_matrix(1, 1, self.turn)[0]
        x0, y0, x1, y1 = (float(v) for v in _moved_box(self.box, to_copy))
        w, h = x1 - x0, y1 - y0
        cx, cy = (x0 + x1) / 2 + sx * w, (y0 + y1) / 2 + sy * h
        box = np.array([cx - w * kx / 2, cy - h * ky / 2, cx + w * kx / 2, cy + h * ky / 2])
        return _moved_box(box, crop.invert(to_copy)).astype(np.float32)

    @property
    def roll(self) -> float:
        """In-plane rotation of the face in degrees (eye line against the horizontal); without
        keypoints, the turn of the copy it was found in."""
        if self.keypoints is None:
            return self.turn
        (x0, y0), (x1, y1) = self.keypoints[0], self.keypoints[1]
        return math.degrees(math.atan2(y1 - y0, x1 - x0))

    @property
    def tilt(self) -> float:
        """The roll left after the turn (degrees): the keypoints' tilt in the copy the face was
        found in, where YuNet's keypoints are good (to about 35 degrees)."""
        return float(wrap(self.roll - self.turn)) if self.turn else self.roll


@dataclass
class DetectorConfig:
    """``method``: auto (YuNet when its file is found, else dlib HOG, else Haar), yunet, dlib
    (HOG, with the Haar profile cascade when HOG finds nothing) or haar; ``model``: the YuNet
    file (else found as :func:`synthmarks.locate.find` says)."""

    method: str = "auto"
    model: str | None = None
    purpose: str = "video"  # or "still": picks the default work size
    work_size: int | None = None  # longer image side the detector runs at (None: WORK_SIZE)
    min_score: float = 0.5
    min_face: int = 40  # smallest face for the Haar cascades, in work-size pixels
    profile_fallback: bool = True
    #: also run on the image turned by 90, 180 and 270 degrees (4x the detector time): the
    #: detectors find few faces on their side or upside down (docs/experiments.md, "Any
    #: in-plane rotation")
    turns: bool = False
    #: the face score a detection of a turned copy needs (at least ``min_score``): three more
    #: looks at an image are three more chances of a false face. In turned copies, the 60 dev
    #: photos' faces scored 0.95 or more, the face-free images' false ones 0.55-0.76
    #: (docs/experiments.md, "Photos, through the detector")
    turn_min_score: float = 0.8
    calibration: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(CALIBRATION))
    raw_floor: dict[str, float] = field(default_factory=lambda: dict(RAW_FLOOR))


_notified: set[str] = set()


def notice(message: str) -> None:
    """One line on stderr, once per process: a fallback the user should know about."""
    if message not in _notified:
        _notified.add(message)
        print(f"synthmarks: {message}", file=sys.stderr)


def _has_dlib() -> bool:
    try:
        import dlib  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_method(method: str, model: str | None = None) -> tuple[str, str | None]:
    """(method, YuNet path) after ``auto`` has looked for the YuNet file, dlib and OpenCV."""
    if method not in METHODS:
        raise SynthmarksError(f"unknown detector {method!r} ({', '.join(METHODS)})")
    if method in ("auto", "yunet"):
        path = locate.find(locate.YUNET, model)
        if path is not None:
            return "yunet", str(path)
        if method == "yunet":
            raise SynthmarksError(
                "the YuNet face detector was not found: run `synthmarks download yunet`, pass "
                f"--detector-model PATH or set {locate.YUNET.env}"
            )
        fallback = "dlib HOG" if _has_dlib() else "OpenCV Haar cascades"
        notice(
            f"YuNet face detector not found (`synthmarks download yunet` fetches it); "
            f"using {fallback}, which misses more faces"
        )
        return ("dlib" if _has_dlib() else "haar"), None
    if method == "dlib" and not _has_dlib():
        raise SynthmarksError("detector 'dlib' needs the dlib package (pip install dlib-bin)")
    return method, None


class FaceDetector:
    def __init__(self, cfg: DetectorConfig | None = None) -> None:
        self.cfg = cfg or DetectorConfig()
        self.method, model_path = resolve_method(self.cfg.method, self.cfg.model)
        if self.cfg.purpose not in WORK_SIZE:
            raise SynthmarksError(f"detector purpose {self.cfg.purpose!r}: still or video")
        self.work_size = self.cfg.work_size or WORK_SIZE[self.cfg.purpose][self.method]
        self._yunet = self._hog = None
        if self.method == "yunet":
            try:
                self._yunet = cv2.FaceDetectorYN.create(
                    model_path, "", (320, 320), self.cfg.raw_floor["yunet"], 0.3, 5000
                )
            except cv2.error:
                raise SynthmarksError(f"{model_path}: not a YuNet ONNX model") from None
        elif self.method == "dlib":
            import dlib

            self._hog = dlib.get_frontal_face_detector()
        root = cv2.data.haarcascades
        self._frontal = cv2.CascadeClassifier(root + "haarcascade_frontalface_alt2.xml")
        self._profile = cv2.CascadeClassifier(root + "haarcascade_profileface.xml")
        if self.method != "yunet" and (self._profile.empty() or self._frontal.empty()):
            raise SynthmarksError(
                "OpenCV's Haar cascades are missing (opencv-python-headless<5 ships them)"
            )

    def detect(self, image_rgb: np.ndarray, min_score: float | None = None) -> list[Detection]:
        """All faces of an RGB uint8 image with a face score >= ``min_score`` (default: the
        config's), largest first. With ``turns`` the image's quarter-turned copies are searched
        too and each face is kept once, from the copy that scores it best (:func:`nms`)."""
        threshold = self.cfg.min_score if min_score is None else min_score
        scale = min(1.0, self.work_size / max(image_rgb.shape[:2]))
        small = (
            cv2.resize(image_rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            if scale < 1
            else image_rgb
        )
        found = self._found(small, threshold)
        if self.cfg.turns:  # the small image turned: a full-size photo is slow to turn
            h, w = small.shape[:2]
            floor = max(threshold, self.cfg.turn_min_score)
            for turn in (90.0, 180.0, 270.0):
                seen = self._found(rotate_image(small, turn), floor)
                found += _turned_back([d for d in seen if d.score >= floor], turn, w, h)
        kept = [_scaled(d, scale) for d in nms(found) if d.score >= threshold]
        return sorted(kept, key=lambda d: -float(np.prod(d.box[2:] - d.box[:2])))

    def _found(self, small: np.ndarray, threshold: float) -> list[Detection]:
        """Every detection of an image at work size, scored, in its pixels, before non-maximum
        suppression."""
        if self._yunet is not None:
            return self._scored(self._run_yunet(small))
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        found = self._scored(
            self._run_hog(gray)
            if self._hog is not None
            else self._cascade(self._frontal, gray, "haar-frontal")
        )
        if self.cfg.profile_fallback and not any(d.score >= threshold for d in found):
            found += self._scored(self._profiles(gray))
        return found

    def profiles(self, image_rgb: np.ndarray) -> list[Detection]:
        """The profile cascade alone, both ways round, scored, none dropped (for calibration)."""
        scale = min(1.0, self.work_size / max(image_rgb.shape[:2]))
        small = cv2.resize(image_rgb, None, fx=scale, fy=scale) if scale < 1 else image_rgb
        found = self._scored(self._profiles(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)))
        return [_scaled(d, scale) for d in found]

    def _profiles(self, gray: np.ndarray) -> list[Detection]:
        return self._cascade(self._profile, gray, "haar-profile") + self._cascade(
            self._profile, gray[:, ::-1], "haar-profile", mirrored=True
        )

    def _scored(self, found: list[Detection]) -> list[Detection]:
        """Detections with their face scores (see CALIBRATION)."""
        for d in found:
            a, b = self.cfg.calibration[d.source]
            d.score = float(1 / (1 + math.exp(-(a * d.raw_score + b))))
        return found

    def _run_yunet(self, rgb: np.ndarray) -> list[Detection]:
        h, w = rgb.shape[:2]
        self._yunet.setInputSize((w, h))
        _, rows = self._yunet.detect(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        out = []
        for r in rows if rows is not None else []:
            x, y, bw, bh = (float(v) for v in r[:4])
            box = np.array([x, y, x + bw, y + bh], np.float32)
            kps = np.asarray(r[4:14], np.float32).reshape(5, 2)
            out.append(Detection(box, 0.0, kps, float(r[14]), "yunet"))
        return out

    def _run_hog(self, gray: np.ndarray) -> list[Detection]:
        rects, scores, _ = self._hog.run(gray, 0, self.cfg.raw_floor["dlib"])
        return [
            Detection(
                np.array([r.left(), r.top(), r.right(), r.bottom()], np.float32),
                0.0,
                None,
                s,
                "dlib",
            )
            for r, s in zip(rects, scores, strict=True)
        ]

    def _cascade(
        self, cascade: cv2.CascadeClassifier, gray: np.ndarray, source: str, mirrored: bool = False
    ) -> list[Detection]:
        gray = np.ascontiguousarray(gray)
        rects, _, weights = cascade.detectMultiScale3(
            gray, 1.15, 3, minSize=(self.cfg.min_face,) * 2, outputRejectLevels=True
        )
        w = gray.shape[1]
        out = []
        for (x, y, bw, bh), s in zip(rects, np.ravel(weights), strict=True) if len(rects) else []:
            x0 = w - x - bw if mirrored else x
            box = np.array([x0, y, x0 + bw, y + bh], np.float32)
            out.append(Detection(box, 0.0, None, float(s), source))
        return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
    return float(inter / union) if union > 0 else 0.0


def _scaled(d: Detection, scale: float) -> Detection:
    """A detection of an image shrunk by ``scale``, in the image's pixels."""
    d.box /= scale
    if d.keypoints is not None:
        d.keypoints /= scale
    return d


def _moved_box(box: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """A box (x0, y0, x1, y1) through a quarter-turn matrix, as a box again."""
    return bounding_box(crop.apply(matrix, np.reshape(box, (2, 2))))


def _turned_back(found: list[Detection], turn: float, w: int, h: int) -> list[Detection]:
    """Detections of a ``w`` x ``h`` image's copy turned by ``turn`` degrees, moved back into
    the image (exactly: the inverse quarter turn of :func:`rotation_matrix`)."""
    back, _ = rotation_matrix(*rotated_size(w, h, turn), -turn)
    for d in found:
        d.box = _moved_box(d.box, back).astype(np.float32)
        if d.keypoints is not None:
            d.keypoints = crop.apply(back, d.keypoints)
        d.turn = turn
    return found


class Boxed(Protocol):
    """What :func:`nms` sorts out: a detection, or a face."""

    box: np.ndarray
    score: float


T = TypeVar("T", bound=Boxed)


def nms(found: list[T], thr: float = 0.3, score: Callable[[T], float] | None = None) -> list[T]:
    """The best-scored of each group of boxes that overlap by ``thr`` (IoU) or more: anything
    with a ``box`` and a ``score`` (detections, or faces), or scored by ``score`` (tracks, by
    their landmark confidence)."""
    keep: list[T] = []
    for d in sorted(found, key=lambda d: -(d.score if score is None else score(d))):
        if all(iou(d.box, k.box) < thr for k in keep):
            keep.append(d)
    return keep
