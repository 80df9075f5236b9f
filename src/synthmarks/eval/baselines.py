"""Other people's landmarkers, scored and timed beside synthmarks on identical inputs.

Optional: each is used only when its package is installed (``pip install synthmarks[compare]``).
dlib's 68-point shape predictor was trained on boxes from dlib's own HOG detector, so it gets the
ground-truth landmark box mapped back to a HOG-style box (the inverse of
:meth:`FaceDetector.landmark_box`); anything else would handicap it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from synthmarks.errors import SynthmarksError

NAMES = ("dlib",)


def available() -> list[str]:
    return [n for n in NAMES if _installed(n)]


def _installed(name: str) -> bool:
    if name == "dlib":
        return bool(importlib.util.find_spec("dlib")) and _dlib_model_path() is not None
    return False


def load(name: str) -> DlibShapePredictor:
    if name == "dlib":
        return DlibShapePredictor()
    raise SynthmarksError(f"unknown comparison method {name!r} (choose from {', '.join(NAMES)})")


def _dlib_model_path() -> Path | None:
    """shape_predictor_68_face_landmarks.dat, shipped by the face_recognition_models package."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "models" / "shape_predictor_68_face_landmarks.dat"
    return path if path.is_file() else None


class DlibShapePredictor:
    """dlib's ensemble-of-regression-trees 68-point predictor (Kazemi & Sullivan, 2014)."""

    def __init__(self) -> None:
        if not importlib.util.find_spec("dlib"):
            raise SynthmarksError("dlib is not installed (pip install dlib-bin)")
        path = _dlib_model_path()
        if path is None:
            raise SynthmarksError("dlib's 68-point model is missing "
                                  "(pip install face_recognition_models)")
        import dlib

        from synthmarks.infer.detect import DetectorConfig

        self._dlib = dlib
        self._predictor = dlib.shape_predictor(str(path))
        self._cfg = DetectorConfig()

    def detector_box(self, box: np.ndarray) -> np.ndarray:
        """Inverse of FaceDetector.landmark_box: the HOG-style box that the landmarks came from."""
        x0, y0, x1, y1 = (float(v) for v in box)
        w, h = (x1 - x0) / self._cfg.box_scale, (y1 - y0) / self._cfg.box_scale
        cx = (x0 + x1) / 2 - self._cfg.box_shift[0] * w
        cy = (y0 + y1) / 2 - self._cfg.box_shift[1] * h
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])

    def predict_batch(self, images: list[np.ndarray], boxes: np.ndarray) -> np.ndarray:
        out = np.zeros((len(images), 68, 2), np.float32)
        for i, (img, box) in enumerate(zip(images, boxes, strict=True)):
            x0, y0, x1, y1 = (int(round(v)) for v in self.detector_box(box))
            shape = self._predictor(img, self._dlib.rectangle(x0, y0, x1, y1))
            out[i] = [(p.x, p.y) for p in shape.parts()]
        return out
