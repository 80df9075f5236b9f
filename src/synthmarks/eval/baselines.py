"""Other people's landmarkers, scored and timed beside synthmarks on identical inputs.

Optional: each is used only when its package is installed. dlib works in the main environment
(``pip install dlib-bin face_recognition_models``); MediaPipe needs the separate compare
environment (``make compare-env``, docs/comparison.md), because mediapipe 0.10.21, the last
release with its models inside the wheel, needs numpy < 2. Nothing here imports either package
until a method is loaded, so listing what is available costs nothing and never fails.

Each method gets the crop or box that suits it best, so a comparison never handicaps it:
dlib's 68-point shape predictor was trained on boxes from dlib's own HOG detector, so it gets the
ground-truth landmark box mapped back to a HOG-style box (the inverse of
:meth:`Detection.landmark_box`); MediaPipe gets the square crop synthmarks models get around
the same box and finds the face in it with its own detector.
"""

from __future__ import annotations

import importlib.util
import sys
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from synthmarks.errors import SynthmarksError

if TYPE_CHECKING:
    from synthmarks.eval.mediapipe_map import FaceMeshRunner

NAMES = ("dlib", "mediapipe")


def available() -> list[str]:
    """The comparison methods that can be loaded here, without importing any of them."""
    return [n for n in NAMES if _installed(n)]


def _installed(name: str) -> bool:
    if name == "dlib":
        return bool(importlib.util.find_spec("dlib")) and _dlib_model_path() is not None
    if name == "mediapipe":
        return _mediapipe_face_mesh_files() is not None
    return False


def load(name: str) -> DlibShapePredictor | MediaPipeFaceMesh:
    if name == "dlib":
        return DlibShapePredictor()
    if name == "mediapipe":
        return MediaPipeFaceMesh()
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
            raise SynthmarksError(
                "dlib's 68-point model is missing (pip install face_recognition_models)"
            )
        import dlib

        from synthmarks.infer.detect import BOX_MAP

        self._dlib = dlib
        self._predictor = dlib.shape_predictor(str(path))
        self._box_map = BOX_MAP["dlib"]

    def detector_box(self, box: np.ndarray) -> np.ndarray:
        """Inverse of Detection.landmark_box: the HOG-style box that the landmarks came from."""
        (sx, sy), (kx, ky) = self._box_map
        x0, y0, x1, y1 = (float(v) for v in box)
        w, h = (x1 - x0) / kx, (y1 - y0) / ky
        cx = (x0 + x1) / 2 - sx * w
        cy = (y0 + y1) / 2 - sy * h
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])

    def predict_batch(self, images: list[np.ndarray], boxes: np.ndarray) -> np.ndarray:
        out = np.zeros((len(images), 68, 2), np.float32)
        for i, (img, box) in enumerate(zip(images, boxes, strict=True)):
            x0, y0, x1, y1 = (int(round(v)) for v in self.detector_box(box))
            shape = self._predictor(img, self._dlib.rectangle(x0, y0, x1, y1))
            out[i] = [(p.x, p.y) for p in shape.parts()]
        return out


def _mediapipe_face_mesh_files() -> Path | None:
    """The installed mediapipe package folder, if it holds the legacy Face Mesh solution and its
    models (0.10.21 and earlier; later wheels ship neither). Found without importing mediapipe,
    which is slow and, next to numpy 2, may not import at all."""
    try:
        spec = importlib.util.find_spec("mediapipe")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    needed = (
        "python/solutions/face_mesh.py",
        "modules/face_detection/face_detection_short_range.tflite",
        "modules/face_landmark/face_landmark_with_attention.tflite",
    )
    return root if all((root / f).is_file() for f in needed) else None


class MediaPipeFaceMesh:
    """MediaPipe Face Mesh (Kartynnik et al., 2019, with the attention-mesh refinement of eyes,
    lips and irises) read as 68 iBUG points through the map fitted on synthetic faces in
    :mod:`synthmarks.eval.mediapipe_map`.

    The mesh has no output for "no face": when MediaPipe's own detector finds nothing in the crop
    there is no natural fallback, so that face is predicted as the mean shape in the box (the
    table's floor, so a miss is scored as about the failure it is). ``misses`` counts them, and
    one line on stderr gives the total when the adapter is closed or garbage-collected, which
    ``synthmarks eval`` does as soon as it moves on to the next model.
    """

    def __init__(self, mapping: str | Path | None = None) -> None:
        if _mediapipe_face_mesh_files() is None:
            raise SynthmarksError(
                "mediapipe 0.10.21 (the last release with Face Mesh models in the wheel) is not "
                "installed; it needs numpy < 2, so use the compare environment: make compare-env "
                "(docs/comparison.md)"
            )
        from synthmarks.eval.mediapipe_map import FaceMeshRunner, load_mapping
        from synthmarks.models.reference import MeanShape

        self.mapping = load_mapping(mapping)
        self._runner = FaceMeshRunner(self.mapping.crop_scale, self.mapping.crop_size)
        self._fallback = MeanShape.from_spec("mean-shape")
        self._counts = {"faces": 0, "misses": 0}
        self._finalizer = weakref.finalize(self, _close_face_mesh, self._runner, self._counts)

    @property
    def faces(self) -> int:
        """Faces predicted so far."""
        return self._counts["faces"]

    @property
    def misses(self) -> int:
        """Faces in whose crop MediaPipe found no face, predicted as the mean shape instead."""
        return self._counts["misses"]

    def predict_batch(self, images: list[np.ndarray], boxes: np.ndarray) -> np.ndarray:
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        out = np.zeros((len(images), 68, 2), np.float32)
        missed = []
        for i, (img, box) in enumerate(zip(images, boxes, strict=True)):
            mesh = self._runner.run(img, box)
            if mesh is None:
                missed.append(i)
            else:
                out[i] = self.mapping.apply(mesh)
        if missed:
            out[missed] = self._fallback.predict_batch([images[i] for i in missed], boxes[missed])
        self._counts["faces"] += len(images)
        self._counts["misses"] += len(missed)
        return out

    def close(self) -> None:
        """Free MediaPipe's graph and print the miss count (once; later calls do nothing)."""
        self._finalizer()


def _close_face_mesh(runner: FaceMeshRunner, counts: dict[str, int]) -> None:
    """Finaliser of :class:`MediaPipeFaceMesh`; holds no reference to the adapter itself."""
    runner.close()
    if counts["misses"]:
        print(
            f"mediapipe: no face found in {counts['misses']} of {counts['faces']} crops; "
            "the mean shape in the box was predicted for those",
            file=sys.stderr,
        )
