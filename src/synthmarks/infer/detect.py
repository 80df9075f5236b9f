"""Face detection for whole images and frames, offline from a plain install.

Chosen by measurement on the real images of ../shared/data (docs/detection.md has the table and
``benchmarks/bench_detect.py`` re-measures it): dlib's HOG detector (its weights are inside the
dlib wheel) finds most frontal faces in a few ms; OpenCV's profile-face Haar cascade, run in both
orientations only when HOG finds nothing, adds many of the profiles HOG misses. Without dlib,
OpenCV's frontal + profile cascades are used: lower recall and slower. Landmarks always come from
synthmarks' own models; a detector only says where to look.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from synthmarks.errors import SynthmarksError


@dataclass
class Detection:
    box: np.ndarray  # (4,) x0, y0, x1, y1 in image pixels
    score: float


@dataclass
class DetectorConfig:
    """``method``: auto (dlib+haar-profile if dlib is installed, else haar), dlib, or haar."""

    method: str = "auto"
    work_size: int = 640  # longer image side the detector runs at
    min_face: int = 40  # smallest face, in work-size pixels
    profile_fallback: bool = True
    #: detector box -> approximate landmark box: centre shift (fractions of the box size, x and y)
    #: and size factor; see ``landmark_box``. Medians over 732 dlib detections on 1500 faces of
    #: ``synthmarks synth --seed 1`` (landmark box vs HOG box: shift 0.00, 0.07; size 0.86 x 0.92),
    #: made by benchmarks/fit_detector_box.py.
    box_shift: tuple[float, float] = (0.0, 0.07)
    box_scale: float = 0.89


def _has_dlib() -> bool:
    try:
        import dlib  # noqa: F401
    except ImportError:
        return False
    return True


class FaceDetector:
    def __init__(self, cfg: DetectorConfig | None = None) -> None:
        self.cfg = cfg or DetectorConfig()
        method = self.cfg.method
        if method == "auto":
            method = "dlib" if _has_dlib() else "haar"
        if method not in ("dlib", "haar"):
            raise SynthmarksError(f"unknown detector {method!r} (auto, dlib or haar)")
        if method == "dlib" and not _has_dlib():
            raise SynthmarksError("detector 'dlib' needs the dlib package (pip install dlib-bin)")
        self.method = method
        self._hog = None
        if method == "dlib":
            import dlib

            self._hog = dlib.get_frontal_face_detector()
        root = cv2.data.haarcascades
        self._frontal = cv2.CascadeClassifier(root + "haarcascade_frontalface_alt2.xml")
        self._profile = cv2.CascadeClassifier(root + "haarcascade_profileface.xml")
        if self._profile.empty() or self._frontal.empty():
            raise SynthmarksError(
                "OpenCV's Haar cascades are missing (opencv-python-headless<5 ships them)"
            )

    def detect(self, image_rgb: np.ndarray) -> list[Detection]:
        """All faces, largest first."""
        gray = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY)
        scale = min(1.0, self.cfg.work_size / max(gray.shape))
        small = (
            cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            if scale < 1
            else gray
        )
        found: list[Detection] = []
        if self._hog is not None:
            rects, scores, _ = self._hog.run(small, 0, 0.0)
            found = [
                Detection(
                    np.array([r.left(), r.top(), r.right(), r.bottom()], np.float32), float(s)
                )
                for r, s in zip(rects, scores, strict=True)
            ]
        else:
            found = self._cascade(self._frontal, small, 1.0)
        if not found and self.cfg.profile_fallback:
            found = self._cascade(self._profile, small, 0.5) + self._cascade(
                self._profile, small[:, ::-1], 0.5, mirrored=True
            )
        for d in found:
            d.box /= scale
        return sorted(_nms(found), key=lambda d: -float(np.prod(d.box[2:] - d.box[:2])))

    def landmark_box(self, box: np.ndarray) -> np.ndarray:
        """Map a detector box to the tight box of the 68 landmarks that the models crop from.

        Detector boxes sit higher and tighter than the jaw line; the landmarks' own box, found in
        a second pass, then corrects what this rough mapping leaves.
        """
        x0, y0, x1, y1 = (float(v) for v in box)
        w, h = x1 - x0, y1 - y0
        cx = (x0 + x1) / 2 + self.cfg.box_shift[0] * w
        cy = (y0 + y1) / 2 + self.cfg.box_shift[1] * h
        hw, hh = w * self.cfg.box_scale / 2, h * self.cfg.box_scale / 2
        return np.array([cx - hw, cy - hh, cx + hw, cy + hh], np.float32)

    def _cascade(
        self, cascade: cv2.CascadeClassifier, gray: np.ndarray, score: float, mirrored: bool = False
    ) -> list[Detection]:
        gray = np.ascontiguousarray(gray)
        rects = cascade.detectMultiScale(gray, 1.15, 3, minSize=(self.cfg.min_face,) * 2)
        w = gray.shape[1]
        out = []
        for x, y, bw, bh in rects if len(rects) else []:
            x0 = w - x - bw if mirrored else x
            out.append(Detection(np.array([x0, y, x0 + bw, y + bh], np.float32), score))
        return out


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
    return float(inter / union) if union > 0 else 0.0


def _nms(dets: list[Detection], thr: float = 0.3) -> list[Detection]:
    keep: list[Detection] = []
    for d in sorted(dets, key=lambda d: -d.score):
        if all(iou(d.box, k.box) < thr for k in keep):
            keep.append(d)
    return keep
