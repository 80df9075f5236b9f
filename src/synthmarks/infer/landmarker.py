"""The public API: ``Landmarker(model).predict(image, box) -> (68, 2)`` in image pixels.

A Landmarker holds a :class:`~synthmarks.infer.engine.CropEngine` (crop each face box to the
model's square input, run the model, map the points back) and a face detector. ``model`` is a
checkpoint (.pt), an exported .onnx file, ``"mean-shape"`` / ``"mean-shape:PATH"`` (the reference
floor), or None for the released model shipped in the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthmarks.errors import SynthmarksError
from synthmarks.infer.engine import CropEngine
from synthmarks.landmarks import NUM_POINTS, bounding_box

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEFAULT_CHECKPOINT = ASSETS / "synthmarks-default.pt"
DEFAULT_ONNX = ASSETS / "synthmarks-default.onnx"
#: what may run a model (see :class:`Landmarker`)
BACKENDS = ("auto", "onnx", "torch")
#: longer image side the face detector of :meth:`Landmarker.detect` works at
STILL_DETECT_SIZE = 1280


@dataclass
class Face:
    """One face found in an image: its box, the detector's score, 68 points and their confidence."""

    box: np.ndarray  # (4,) x0, y0, x1, y1
    score: float
    landmarks: np.ndarray  # (68, 2) float32 image pixels
    confidence: float  # mean per-point confidence of the landmark model, in [0, 1]


class Landmarker:
    """68-point landmarks for faces in RGB uint8 images.

    ``backend`` says what runs the model: ``"auto"`` follows the file (ONNX Runtime for .onnx,
    PyTorch for .pt; for the released model, ONNX Runtime when installed), ``"torch"``, or
    ``"onnx"``, which for a .pt checkpoint exports it in memory first (a few seconds, once; a file
    made by ``synthmarks export`` loads in a fraction of that). ``threads`` sets ONNX Runtime's
    threads (1 is fastest for one face at a time on a laptop CPU); PyTorch keeps the process's own
    setting, which a library object has no business changing. ``detector`` picks the face
    detector of :meth:`detect` (auto, dlib or haar; see :mod:`synthmarks.infer.detect`);
    ``flip_tta`` averages each face with its mirror image (more accurate, twice the model time).
    """

    def __init__(
        self,
        model: str | Path | None = None,
        backend: str = "auto",
        threads: int | None = 1,
        detector: str = "auto",
        flip_tta: bool = False,
    ) -> None:
        self.predictor = _load(model, backend, threads)
        if flip_tta:
            if not isinstance(self.predictor, CropEngine):
                raise SynthmarksError(f"{model}: flip_tta needs a neural model")
            self.predictor.flip_tta = True
        self.name = str(model) if model is not None else "synthmarks-default"
        self.detector_method = detector
        self._detector: Any = None

    @property
    def detector(self) -> Any:
        """The face detector used by :meth:`detect`, made on first use."""
        if self._detector is None:
            from synthmarks.infer.detect import DetectorConfig, FaceDetector

            # Still images get a 1280 px working size: faces in group photos are small
            # (real-68pt recall 0.885 vs 0.654 at 640, 48 vs 19 ms per image,
            # benchmarks/bench_detect.py); video keeps 640 px and tracks between detections.
            self._detector = FaceDetector(
                DetectorConfig(method=self.detector_method, work_size=STILL_DETECT_SIZE)
            )
        return self._detector

    def predict(self, image: np.ndarray, box: np.ndarray | tuple) -> np.ndarray:
        """(68, 2) float32 points in image pixels for one face box (x0, y0, x1, y1)."""
        return self.predict_batch([image], np.asarray(box, np.float32)[None])[0]

    def predict_batch(self, images: list[np.ndarray], boxes: np.ndarray | list) -> np.ndarray:
        """(B, 68, 2) for B (image, box) pairs; images may repeat (several faces in one picture)."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        if len(images) != len(boxes):
            raise ValueError(f"{len(images)} images but {len(boxes)} boxes")
        for img in images:
            _check_image(img)
        if not len(images):
            return np.zeros((0, NUM_POINTS, 2), np.float32)
        return self.predictor.predict_batch(list(images), boxes)[:, :NUM_POINTS]

    def predict_with_confidence(
        self, images: list[np.ndarray], boxes: np.ndarray | list
    ) -> tuple[np.ndarray, np.ndarray]:
        """(B, 68, 2) points and (B,) face confidences: the mean of the per-point scores
        (1.0 for models without scores, like the mean shape)."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        if not len(boxes):
            return np.zeros((0, NUM_POINTS, 2), np.float32), np.zeros(0, np.float32)
        if hasattr(self.predictor, "predict_with_scores"):
            pts, scores = self.predictor.predict_with_scores(list(images), boxes)
            return pts[:, :NUM_POINTS], scores[:, :NUM_POINTS].mean(axis=1)
        pts = self.predictor.predict_batch(list(images), boxes)[:, :NUM_POINTS]
        return pts, np.ones(len(pts), np.float32)

    def refine(
        self, images: list[np.ndarray], boxes: np.ndarray | list, passes: int = 2
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predict from rough boxes, then again from the box of the predicted points: the second
        crop matches what the model was trained on, whatever box the first came from."""
        pts, conf = self.predict_with_confidence(images, boxes)
        for _ in range(passes - 1):
            pts, conf = self.predict_with_confidence(images, [bounding_box(p) for p in pts])
        return pts, conf

    def detect(self, image: np.ndarray) -> list[Face]:
        """Every face in an RGB uint8 image, largest first; no face is an empty list."""
        _check_image(image)
        dets = self.detector.detect(image)
        if not dets:
            return []
        boxes = np.stack([self.detector.landmark_box(d.box) for d in dets])
        pts, conf = self.refine([image] * len(dets), boxes)
        return [Face(d.box, d.score, p, float(c)) for d, p, c in zip(dets, pts, conf, strict=True)]


def _check_image(image: np.ndarray) -> None:
    if (
        not isinstance(image, np.ndarray)
        or image.dtype != np.uint8
        or image.ndim != 3
        or image.shape[2] != 3
    ):
        raise ValueError("images must be RGB uint8 arrays of shape (H, W, 3)")


def _load(model: str | Path | None, backend: str, threads: int | None) -> Any:
    if backend not in BACKENDS:
        raise SynthmarksError(f"unknown backend {backend!r} ({', '.join(BACKENDS)})")
    if isinstance(model, str) and model.startswith("mean-shape"):
        from synthmarks.models.reference import MeanShape

        return MeanShape.from_spec(model)
    if model is None:
        onnx = backend == "onnx" or (backend == "auto" and _has_onnxruntime())
        model = DEFAULT_ONNX if onnx else DEFAULT_CHECKPOINT
        if not Path(model).is_file():
            raise SynthmarksError(f"{model}: the released model is missing from this install")
    path = Path(model)
    if not path.is_file():
        raise SynthmarksError(f"{path}: model file not found")
    from synthmarks.infer.runtime import OnnxRunner, TorchRunner

    if path.suffix == ".onnx":
        if backend == "torch":
            raise SynthmarksError(f"{path}: an ONNX file needs the onnx backend")
        return CropEngine(OnnxRunner(path, threads))
    if backend == "onnx":  # asked for: export the checkpoint in memory
        from synthmarks.infer.export import onnx_bytes

        torch_runner = TorchRunner.load(path)
        model_bytes = onnx_bytes(torch_runner.model, torch_runner.meta)
        return CropEngine(OnnxRunner(model_bytes, threads, torch_runner.meta))
    return CropEngine(TorchRunner.load(path))


def _has_onnxruntime() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True
