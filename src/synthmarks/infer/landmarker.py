"""The public API: ``Landmarker(model).predict(image, box) -> (68, 2)`` in image pixels.

A Landmarker holds a :class:`~synthmarks.infer.engine.CropEngine` (crop each face box to the
model's square input, run the model, map the points back) and a face detector. ``model`` is a
checkpoint (.pt), an exported .onnx file, ``"mean-shape"`` / ``"mean-shape:PATH"`` (the reference
floor), or the name of a model shipped in the package (:data:`RELEASED`); None is ``"default"``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from synthmarks.errors import SynthmarksError, SynthmarksWarning
from synthmarks.infer.engine import CropEngine
from synthmarks.infer.images import COLORS, to_rgb
from synthmarks.landmarks import JAWS, NUM_POINTS, OutputLayout, bounding_box
from synthmarks.pose import wrap

ASSETS = Path(__file__).resolve().parent.parent / "assets"
#: the models shipped in the package, by name, like yolo's sizes: ``default``, the fast student
#: (what ``Landmarker()`` loads; per face no slower than dlib's predictor), and ``large``, the
#: teacher it learns from (more accurate, about 3x the model time; ONNX only, since an
#: inference install has no PyTorch: its checkpoint is in the repository's checkpoints/v3/)
RELEASED = {"default": "synthmarks-default", "large": "synthmarks-large"}
DEFAULT_CHECKPOINT = ASSETS / "synthmarks-default.pt"
DEFAULT_ONNX = ASSETS / "synthmarks-default.onnx"
#: what may run a model (see :class:`Landmarker`)
BACKENDS = ("auto", "onnx", "torch")
#: landmark confidence below which a detection is not taken for a face; it belongs to the
#: released model's confidence scale, so it is re-chosen with each release: over every YuNet
#: detection of ``benchmarks/bench_detect.py --calibrate`` (docs/detection.md) it drops the same
#: 2.3 % of faces as 0.42 did for 0.1.0, and keeps 12.8 % of non-faces (13.4) with 0.2.0; with
#: 0.3.0 the same 2.3 % of faces and 11.9 % of non-faces, so it stays; with 0.4.0 2.5 % (one face
#: more of 554) and 12.1 %, where 0.39 would keep 14.6 % of non-faces: it stays; with 0.5.0
#: 2.5 % and 10.7 %, so it stays; with 0.6.0 2.2 % and 6.1 %, with 0.6.1 2.3 % and 8.6 %, with
#: 0.7.0 2.5 % and 8.6 %: it stays
MIN_CONFIDENCE = 0.40
#: how much surer than ``min_confidence`` a face found only in a quarter-turned copy of the image
#: must be (0.48 at the default): the turned looks add hands, knees and necklines that YuNet takes
#: for faces; with the model before (0.1.0) three such came through at 0.44-0.47 on the 26
#: real-68pt photos, while 177 of the 180 faces found on 60 AFLW2000-3D dev photos turned by 90 /
#: 180 / 270 degrees scored 0.50 or more; with 0.2.0, a pair of hands at 0.43 (0.39 with 0.3.0)
TURNED_CONFIDENCE_MARGIN = 0.08
#: faces tilted more than this (degrees: the detector's eye keypoints, then the predicted eyes)
#: are cut out upright; a round figure, not fitted by a script (docs/detection.md, "Tilted
#: faces"; tests/infer/test_detect.py checks the gain at a 50 degree tilt)
UPRIGHT_ROLL = 15.0
#: what ``roll`` may be (see :class:`Landmarker`)
ROLLS = ("auto", "none")
#: a first pass less confident than this (mean point confidence) tries the other quarter turns;
#: chosen, with the rule of :meth:`Landmarker._search_quarters`, on 400 synthetic faces of a seed
#: never trained on and Face Synthetics 100 (docs/experiments.md, "Any in-plane rotation"), then
#: lowered from 0.6, which searched half of all upright faces: on seed 11's faces 0.55 scores as
#: 0.6 did at every quarter turn with both released models, 0.5 does not (docs/experiments.md,
#: "What an application pays")
ROLL_SEARCH_CONFIDENCE = 0.55
#: between two unsure turns, the weight of the second look's drift (mean point move over the box
#: side) against the summed confidences: a wrong turn's points do not make a box the model then
#: agrees with, so they move. 4 was chosen on the same two synthetic sets as the threshold, for
#: the released model and the v3 stages alike (docs/experiments.md, "Any in-plane rotation")
ROLL_DRIFT_WEIGHT = 4.0
#: a face whose surest turn is less sure than this keeps its first pass: the model makes sense
#: of no turn, and picking one is a coin toss (Face Synthetics 000081 with v3's stage 4: 0.17-0.27
#: at every turn, 27 % NME upright, 73 % turned upside down). The lowest round value that keeps
#: it; higher ones also keep faces whose right turn is merely unsure (docs/experiments.md)
ROLL_MIN_TURN_CONFIDENCE = 0.25


@dataclass
class Face:
    """One face found in an image.

    ``box`` is the tight box of the 68 landmarks (x0, y0, x1, y1), the same box in every output;
    ``score`` the face detector's face score in [0, 1] (the same scale for every detector,
    :mod:`synthmarks.infer.detect`); ``confidence`` the landmark model's mean per-point confidence
    and ``point_confidence`` the 68 of them, in [0, 1]; ``pose`` (pitch, yaw, roll) in degrees for
    models that predict it, else None.
    """

    box: np.ndarray  # (4,) x0, y0, x1, y1
    score: float
    landmarks: np.ndarray  # (68, 2) float32 image pixels
    confidence: float
    point_confidence: np.ndarray | None = None  # (68,) float32
    pose: np.ndarray | None = None


class Landmarker:
    """68-point landmarks for faces in images.

    Images may be paths, PIL images or numpy arrays (grey, RGB, RGBA; 8- or 16-bit), RGB unless
    ``color="bgr"`` (arrays from ``cv2.imread``). ``backend`` says what runs the model: ``"auto"``
    follows the file (ONNX Runtime for .onnx, PyTorch for .pt; for the released model, ONNX Runtime
    when installed), ``"torch"``, or ``"onnx"``, which for a .pt checkpoint exports it in memory
    first (a few seconds, once; a file made by ``synthmarks export`` loads in a fraction of that).
    ``threads`` sets ONNX Runtime's threads (1 is fastest for one face at a time on a laptop CPU);
    PyTorch keeps the process's own setting, which a library object has no business changing.
    ``detector`` picks the face detector of :meth:`detect` (auto, yunet, dlib or haar;
    ``detector_model`` is the YuNet file, else found as :func:`synthmarks.locate.find` says);
    ``flip_tta`` averages each face with its mirror image (more accurate, twice the model time).
    ``jaw`` picks the jaw points 0-16: ``"outline"`` (the visible face outline, as 300-W, dlib
    and MediaPipe draw it and a person expects on a turned face) or ``"xray"`` (the true jaw
    line, AFLW2000-3D's and Face Synthetics'). The default, None, is the outline where the model
    has an outline head and its x-ray jaw otherwise, quietly; asking a model without one (the
    released model before v3) for ``"outline"`` warns once and gives the x-ray jaw. :attr:`jaw`
    says which is returned.
    Models with a pose head also give each face's head pose (:meth:`pose`, :attr:`Face.pose`).

    ``roll="auto"`` finds faces at any in-plane rotation (upside down, on their side), at the
    cost of extra model passes for the faces whose first pass is unsure or tilted
    (:meth:`_locate`); ``roll="none"`` is one pass at the box's (or detector's) orientation.
    ``detect_turns`` also runs :meth:`detect`'s face detector on the image turned by 90, 180
    and 270 degrees (:attr:`DetectorConfig.turns`), which finds far more faces on their side or
    upside down for 4-5x the detector time; the default, None, is on with ``roll="auto"``.
    """

    def __init__(
        self,
        model: str | Path | None = None,
        backend: str = "auto",
        threads: int | None = 1,
        detector: str = "auto",
        flip_tta: bool = False,
        color: str = "rgb",
        detector_model: str | Path | None = None,
        jaw: str | None = None,
        roll: str = "auto",
        detect_turns: bool | None = None,
    ) -> None:
        if color not in COLORS:
            raise SynthmarksError(f"color must be 'rgb' or 'bgr', not {color!r}")
        if jaw is not None and jaw not in JAWS:
            raise SynthmarksError(f"jaw must be 'outline' or 'xray', not {jaw!r}")
        if roll not in ROLLS:
            raise SynthmarksError(f"roll must be 'auto' or 'none', not {roll!r}")
        self.roll = roll
        self.detect_turns = roll == "auto" if detect_turns is None else detect_turns
        self.predictor = _load(model, backend, threads)
        #: what the model outputs (scheme points, outline jaw, pose)
        self.layout = _layout(self.predictor)
        #: the jaw convention of points 0-16 in every result
        self.jaw = jaw or ("outline" if self.layout.outline_jaw else "xray")
        if self.jaw == "outline" and not self.layout.outline_jaw:
            warnings.warn(
                f"{model_name(model)} has no outline jaw; points 0-16 are the x-ray jaw "
                "(pass jaw='xray' to say so)",
                SynthmarksWarning,
                stacklevel=2,
            )
            self.jaw = "xray"
        if flip_tta:
            if not isinstance(self.predictor, CropEngine):
                raise SynthmarksError(f"{model}: flip_tta needs a neural model")
            self.predictor.flip_tta = True
        self.name = model_name(model)
        self.version = model_version(model)
        self.color = color
        self.detector_method = detector
        self.detector_model = None if detector_model is None else str(detector_model)
        self._detector: Any = None

    @property
    def detector(self) -> Any:
        """The face detector used by :meth:`detect`, made on first use."""
        if self._detector is None:
            from synthmarks.infer.detect import DetectorConfig, FaceDetector

            self._detector = FaceDetector(
                DetectorConfig(
                    method=self.detector_method,
                    model=self.detector_model,
                    purpose="still",
                    turns=self.detect_turns,
                )
            )
        return self._detector

    def image(self, image: Any) -> np.ndarray:
        """Any accepted image as the RGB uint8 (H, W, 3) array the model sees."""
        return to_rgb(image, self.color)

    def predict(self, image: Any, box: np.ndarray | tuple) -> np.ndarray:
        """(68, 2) float32 points in image pixels for one face box (x0, y0, x1, y1)."""
        return self.predict_batch([image], np.asarray(box, np.float32)[None])[0]

    def predict_batch(self, images: list[Any], boxes: np.ndarray | list) -> np.ndarray:
        """(B, 68, 2) for B (image, box) pairs; images may repeat (several faces in one picture)."""
        return self.predict_with_scores(images, boxes)[0]

    def predict_with_scores(
        self, images: list[Any], boxes: np.ndarray | list
    ) -> tuple[np.ndarray, np.ndarray]:
        """(B, 68, 2) points and (B, 68) per-point confidences in [0, 1] (all 1.0 for models
        without scores, like the mean shape)."""
        return self._predict(_as_rgb_list(images, self.color), boxes)

    def predict_all(
        self, images: list[Any], boxes: np.ndarray | list
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(B, 68, 2) points, (B, 68) per-point confidences and (B, 3) head pose in degrees
        (pitch, yaw, roll; AFLW2000-3D's signs, :mod:`synthmarks.pose`), None for a model without
        a pose head."""
        return self._predict_all(_as_rgb_list(images, self.color), boxes)

    def follow(
        self, image: Any, points: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """:meth:`predict_all` for faces known from the frame before (video tracks; ``points``
        (B, 68, 2) from that frame): each is cut at the quarter turn nearest its eye line, with
        the eye-line re-cut but without the quarter-turn search, whose answer the track already
        holds. Searching again on every frame cost 3-6 more passes per face wherever the model
        is under ``ROLL_SEARCH_CONFIDENCE``, as the released model was on half of upright real
        faces at 0.6 (``synthmarks bench``: 28 video FPS with the search, 48-55 without)."""
        points = np.asarray(points, np.float32).reshape(-1, NUM_POINTS, 2)
        turn = self.roll == "auto" and isinstance(self.predictor, CropEngine)
        angles = np.array([wrap(90.0 * round(eye_roll(p) / 90.0)) if turn else 0.0 for p in points])
        boxes = [frame_box(p, a) for p, a in zip(points, angles, strict=True)]
        rgb = to_rgb(image, self.color)
        pts, scores, _, pose = self._locate([rgb] * len(points), boxes, angles, search=False)
        return pts, scores, pose

    def pose(self, image: Any, box: np.ndarray | tuple) -> np.ndarray:
        """(3,) head pose of one face box in degrees: pitch (positive looks up), yaw (positive
        turns the face towards image left), roll (positive turns it clockwise in the picture)."""
        if not self.layout.pose:
            raise SynthmarksError(f"{self.name}: this model has no pose head")
        pose = self.predict_all([image], np.asarray(box, np.float32)[None])[2]
        assert pose is not None
        return pose[0]

    def _predict(
        self, rgb: list[np.ndarray], boxes: np.ndarray | list
    ) -> tuple[np.ndarray, np.ndarray]:
        pts, scores, _ = self._predict_all(rgb, boxes)
        return pts, scores

    def _predict_all(
        self, rgb: list[np.ndarray], boxes: np.ndarray | list
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        pts, scores, _, pose = self._locate(rgb, boxes)
        return pts, scores, pose

    def _pass(
        self, rgb: list[np.ndarray], boxes: np.ndarray, angles: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """One model pass over crops turned by ``angles`` (degrees; models without crops, like
        the mean shape, only ever see angle 0): points with the asked jaw, confidences, and the
        head pose in the image's frame (None without a pose head)."""
        if isinstance(self.predictor, CropEngine):
            pts, scores, pose = self.predictor.predict_all(rgb, boxes, angles)
            pts = self.layout.with_jaw(pts, self.jaw)[:, :NUM_POINTS]
            scores = self.layout.with_jaw(scores[..., None], self.jaw)[:, :NUM_POINTS, 0]
            return pts, scores, pose
        if hasattr(self.predictor, "predict_with_scores"):
            pts, scores = self.predictor.predict_with_scores(rgb, boxes)
            return pts[:, :NUM_POINTS], scores[:, :NUM_POINTS], None
        pts = self.predictor.predict_batch(rgb, boxes)[:, :NUM_POINTS]
        return pts, np.ones(pts.shape[:2], np.float32), None

    def _locate(
        self,
        rgb: list[np.ndarray],
        boxes: np.ndarray | list,
        angles: np.ndarray | None = None,
        passes: int = 1,
        search: bool = True,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
        """Points (B, 68, 2), per-point confidences (B, 68), the crop angles used (B,) and the
        head pose (B, 3) in degrees (None without a pose head): the one routine behind boxes
        (``predict``, ``eval``) and detections (``detect``).

        ``passes`` > 1 predicts again from the box of the points (in the face's frame). With
        ``roll="auto"`` a face is also found at any in-plane rotation: a first pass at
        ``angles`` (the detector's roll, or 0), refined as asked; faces under
        ``ROLL_SEARCH_CONFIDENCE`` are tried at the other three quarter turns in one batch and
        the surest turn kept (:meth:`_search_quarters`). The refined pass stands for its turn,
        so a detector's rough box does not make upright faces look unsure (on 60 dev photos,
        ``detect`` upright: 4.98 % against 4.97 % with ``roll="none"``, 5.82 % when the search
        ran before the refinement). Last, a face whose predicted eye line is more than
        ``UPRIGHT_ROLL`` degrees off its crop's is cut again at that line, and the new answer
        kept where the model is at least as sure of it. ``search=False`` skips the quarter turns
        (:meth:`follow`: a tracked face's turn is known)."""
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        if len(rgb) != len(boxes):
            raise ValueError(f"{len(rgb)} images but {len(boxes)} boxes")
        n = len(boxes)
        angles = np.zeros(n) if angles is None else np.array(angles, np.float64).reshape(n)
        if not n:
            empty = np.zeros((0, NUM_POINTS), np.float32)
            pose0 = np.zeros((0, 3), np.float32) if self.layout.pose else None
            return np.zeros((0, NUM_POINTS, 2), np.float32), empty, angles, pose0
        turns = self.roll == "auto" and isinstance(self.predictor, CropEngine)
        pts, scores, pose = self._pass(rgb, boxes, angles)
        pts, scores, pose = self._repeat(rgb, pts, scores, pose, angles, passes)
        if turns and search:
            # the refined pass stands for the first turn (a detector's rough box makes it
            # unsure); the other turns are cut from the given boxes
            before = angles.copy()
            self._search_quarters(rgb, boxes, angles, pts, scores, pose)
            moved = np.flatnonzero(angles != before)
            if len(moved) and passes > 1:
                sub = [rgb[k] for k in moved]
                sub_pose = None if pose is None else pose[moved]
                pts[moved], scores[moved], sub_pose = self._repeat(
                    sub, pts[moved], scores[moved], sub_pose, angles[moved], passes
                )
                if pose is not None:
                    pose[moved] = sub_pose
        if turns:
            eyes = np.array([eye_roll(p) for p in pts])
            again = np.flatnonzero(np.abs(wrap(eyes - angles)) > UPRIGHT_ROLL)
            if len(again):
                sub = [rgb[k] for k in again]
                fb = np.stack([frame_box(pts[k], eyes[k]) for k in again])
                p2, s2, h2 = self._pass(sub, fb, eyes[again])
                p2, s2, h2 = self._repeat(sub, p2, s2, h2, eyes[again], passes)
                # a profile's eye line is short and noisy: a re-cut the model is less sure of
                # than the crop it came from is not taken
                better = s2.mean(axis=1) >= scores[again].mean(axis=1)
                k = again[better]
                pts[k], scores[k], angles[k] = p2[better], s2[better], eyes[k]
                if pose is not None and h2 is not None:
                    pose[k] = h2[better]
        return pts, scores, angles, pose

    def _repeat(
        self,
        rgb: list[np.ndarray],
        pts: np.ndarray,
        scores: np.ndarray,
        pose: np.ndarray | None,
        angles: np.ndarray,
        passes: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Passes 2..``passes``: each from the box of the last points, at the same angles."""
        for _ in range(passes - 1):
            boxes = np.stack([frame_box(p, a) for p, a in zip(pts, angles, strict=True)])
            pts, scores, pose = self._pass(rgb, boxes, angles)
        return pts, scores, pose

    def _search_quarters(
        self,
        rgb: list[np.ndarray],
        boxes: np.ndarray,
        angles: np.ndarray,
        pts: np.ndarray,
        scores: np.ndarray,
        pose: np.ndarray | None,
    ) -> None:
        """Where the first pass is unsure, try the other three quarter turns (one batch for all
        such faces). A turn at least ``ROLL_SEARCH_CONFIDENCE`` sure is taken, as a first pass
        that sure would have been; otherwise the two most confident turns get a second pass
        from the box of each one's points and the larger sum of the two confidences, less
        ``ROLL_DRIFT_WEIGHT`` times how far the second pass moved the points, wins (the winner
        keeps its first-pass points). The rule is the same whichever turn came first, so
        a face turned by a quarter gets the answer it gets upright, except a face that no turn
        makes ``ROLL_MIN_TURN_CONFIDENCE`` sure: it keeps its first pass. Updates the arrays in
        place.

        Why the second look: a hard profile, upright, can be less confident than a wrong turn's
        first pass, but the wrong turn's points do not make a face box the model then agrees
        with. On 400 synthetic faces (seed 3) the upright cost of the search falls from 0.36
        NME points (first-pass confidence alone) to 0.20, on Face Synthetics 100 from 0.47 to 0
        (docs/experiments.md, "Any in-plane rotation")."""
        conf = scores.mean(axis=1)
        low = np.flatnonzero(conf < ROLL_SEARCH_CONFIDENCE)
        if not len(low):
            return
        k = np.repeat(low, 3)
        turned = angles[k] + np.tile([90.0, 180.0, 270.0], len(low))
        p3, s3, h3 = self._pass([rgb[i] for i in k], boxes[k], turned)
        # candidates per face: the first pass (column 0) and its three turns
        cand_p = np.concatenate([pts[low, None], p3.reshape(len(low), 3, *p3.shape[1:])], 1)
        cand_s = np.concatenate([scores[low, None], s3.reshape(len(low), 3, -1)], 1)
        cand_a = np.concatenate([angles[low, None], turned.reshape(len(low), 3)], 1)
        c1 = cand_s.mean(axis=2)
        top2 = np.argsort(-c1, axis=1, kind="stable")[:, :2]  # (F, 2)
        pick = top2[:, 0].copy()
        best = c1[np.arange(len(low)), pick]
        # no turn the model makes sense of: the first pass stands (a coin toss otherwise)
        pick[best < ROLL_MIN_TURN_CONFIDENCE] = 0
        # a sure turn is taken as a sure first pass is; only unsure ones get the second pass
        unsure = np.flatnonzero(
            (best < ROLL_SEARCH_CONFIDENCE) & (best >= ROLL_MIN_TURN_CONFIDENCE)
        )
        if len(unsure):
            rows = np.repeat(unsure, 2)
            cols = top2[unsure].reshape(-1)
            two_a = cand_a[rows, cols]
            two_p = cand_p[rows, cols]
            fb = np.stack([frame_box(p, a) for p, a in zip(two_p, two_a, strict=True)])
            p2, s2, _ = self._pass([rgb[low[r]] for r in rows], fb, two_a)
            c2 = s2.mean(axis=1).reshape(len(unsure), 2)
            drift = point_drift(two_p, p2, fb).reshape(-1, 2)
            # two looks at each turn, summed, less how far the second look moved the points
            both = c1[unsure[:, None], top2[unsure]] + c2 - ROLL_DRIFT_WEIGHT * drift
            pick[unsure] = top2[unsure, both.argmax(axis=1)]
        for j, i in enumerate(low):
            col = int(pick[j])
            if col == 0:
                continue  # the first pass stands
            # the turn's first pass, from the given box: a face turned by a quarter then gets
            # exactly the answer it gets upright
            pts[i], scores[i], angles[i] = cand_p[j, col], cand_s[j, col], wrap(cand_a[j, col])
            if pose is not None and h3 is not None:
                pose[i] = h3[3 * j + col - 1]

    def predict_with_confidence(
        self, images: list[Any], boxes: np.ndarray | list
    ) -> tuple[np.ndarray, np.ndarray]:
        """(B, 68, 2) points and (B,) face confidences: the mean of the per-point scores."""
        pts, scores = self.predict_with_scores(images, boxes)
        return pts, scores.mean(axis=1)

    def refine(
        self, images: list[Any], boxes: np.ndarray | list, passes: int = 2
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predict from rough boxes, then again from the box of the predicted points: the second
        crop matches what the model was trained on, whatever box the first came from.
        Returns points (B, 68, 2) and per-point confidences (B, 68)."""
        pts, scores, _ = self._refine(_as_rgb_list(images, self.color), boxes, passes)
        return pts, scores

    def _refine(
        self, rgb: list[np.ndarray], boxes: np.ndarray | list, passes: int = 2
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        pts, scores, _, pose = self._locate(rgb, boxes, None, passes)
        return pts, scores, pose

    def detect(
        self, image: Any, min_score: float = 0.5, min_confidence: float = MIN_CONFIDENCE
    ) -> list[Face]:
        """Every face in an image, largest first; no face is an empty list.

        A face needs a detector score >= ``min_score`` and a landmark confidence >=
        ``min_confidence``: the landmark model, which has seen only faces, rejects most of what
        a detector mistakes for one (docs/detection.md)."""
        return self.detect_batch([image], min_score, min_confidence)[0]

    def detect_batch(
        self, images: list[Any], min_score: float = 0.5, min_confidence: float = MIN_CONFIDENCE
    ) -> list[list[Face]]:
        """:meth:`detect` for several images, with one landmark-model batch for all their faces."""
        rgb = _as_rgb_list(images, self.color)
        dets = [self.detector.detect(img, min_score) for img in rgb]
        turned = min_confidence + TURNED_CONFIDENCE_MARGIN
        faces = [
            [
                f
                for f, d in zip(fs, ds, strict=True)
                if f.confidence >= (turned if d.turn else min_confidence)
            ]
            for fs, ds in zip(self.faces(rgb, dets), dets, strict=True)
        ]
        return [_once(fs) for fs in faces] if self.detector.cfg.turns else faces

    def faces(self, images: list[np.ndarray], detections: list[list[Any]]) -> list[list[Face]]:
        """Landmarks for given detections (one list per RGB image), none dropped.

        A face tilted by more than ``UPRIGHT_ROLL`` degrees by its detector keypoints' eye line
        (YuNet's are good to about 35 degrees) is cut out at that angle, so the model sees it as
        it saw its training faces; one found in a turned copy of the image is cut at that turn
        (plus its tilt there), so its first pass is near upright; with ``roll="auto"``,
        :meth:`_locate` then turns it further where the model's own answer says so."""
        jobs = [
            (i, img, d)
            for i, (img, ds) in enumerate(zip(images, detections, strict=True))
            for d in ds
        ]
        out: list[list[Face]] = [[] for _ in images]
        if not jobs:
            return out
        tilts = np.array([d.tilt for _, _, d in jobs], np.float64)
        turns = np.array([d.turn for _, _, d in jobs], np.float64)
        angles = turns + np.where(np.abs(tilts) > UPRIGHT_ROLL, tilts, 0.0)
        boxes = np.stack([d.landmark_box() for *_, d in jobs])
        pts, scores, _, pose = self._locate([img for _, img, _ in jobs], boxes, angles, passes=2)
        poses = [None] * len(jobs) if pose is None else list(pose)
        for (i, _, d), p, s, hp in zip(jobs, pts, scores, poses, strict=True):
            box = bounding_box(p).astype(np.float32)
            out[i].append(Face(box, d.score, p, float(s.mean()), s, hp))
        return out


def point_drift(before: np.ndarray, after: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(B,) mean distance each face's points moved between two passes, over the side (square
    root of the area) of the box the second pass was cut from: how little a model agrees with
    its own answer, the roll search's tie-breaker."""
    side = np.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    return np.linalg.norm(after - before, axis=2).mean(axis=1) / side


def eye_roll(points: np.ndarray) -> float:
    """In-plane rotation of a face in degrees: its eye line (centres of 36-41, 42-47) against the
    horizontal, the same measure as :attr:`Detection.roll`."""
    (x0, y0), (x1, y1) = points[36:42].mean(axis=0), points[42:48].mean(axis=0)
    return float(np.degrees(np.arctan2(y1 - y0, x1 - x0)))


def frame_box(points: np.ndarray, roll: float) -> np.ndarray:
    """The box of the points in a frame turned by ``roll`` degrees (the face's own, for its
    roll), centred where it lies in the image: what a turned crop is cut from
    (:meth:`CropEngine.crop`)."""
    if roll == 0.0:
        return bounding_box(points).astype(np.float32)
    centre = points.mean(axis=0)
    to_up = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(roll), 1.0)
    box = bounding_box(points @ to_up[:, :2].T + to_up[:, 2])
    mid = cv2.invertAffineTransform(to_up) @ np.append((box[:2] + box[2:]) / 2, 1.0)
    half = (box[2:] - box[:2]) / 2
    return np.concatenate([mid - half, mid + half]).astype(np.float32)


def released(model: str | Path | None) -> str | None:
    """The shipped model's name ``model`` stands for (None for the default), else None."""
    if model is None:
        return "default"
    return model if isinstance(model, str) and model in RELEASED else None


def model_name(model: str | Path | None) -> str:
    """What results call the model: its file name, the mean-shape spec, or the released one's."""
    name = released(model)
    if name is not None:
        return RELEASED[name]
    return str(model) if str(model).startswith("mean-shape") else Path(str(model)).name


def model_version(model: str | Path | None) -> str:
    """The package version for the released models and the mean shape; for a model file, the
    first 12 hex digits of its sha256 (two files of one name are told apart)."""
    from synthmarks.locate import sha256_of
    from synthmarks.version import __version__

    if released(model) is not None or str(model).startswith("mean-shape"):
        return __version__
    return sha256_of(Path(str(model)))[:12]


def released_file(name: str, backend: str) -> Path:
    """The shipped file of released model ``name`` that ``backend`` runs: the .onnx for ONNX
    Runtime (``auto`` when it is installed), else the .pt, which only the default ships."""
    onnx = backend == "onnx" or (backend == "auto" and _has_onnxruntime())
    path = ASSETS / f"{RELEASED[name]}.{'onnx' if onnx else 'pt'}"
    if path.is_file():
        return path
    if not onnx and (ASSETS / f"{RELEASED[name]}.onnx").is_file():
        raise SynthmarksError(
            f"{name}: this released model ships for ONNX Runtime only (backend 'onnx'); "
            "its PyTorch checkpoint is in the repository (checkpoints/README.md)"
        )
    raise SynthmarksError(f"{path}: the released model {name!r} is missing from this install")


def _once(faces: list[Face]) -> list[Face]:
    """One face per place, the best-scored, in the given order. Two copies of an image can see a
    face with boxes too unlike for the detector's suppression (YuNet's takes in the forehead,
    which is on a different side in each; on 60 dev photos turned by 45 degrees, one face in
    60), but the landmarks put both on the face; 0.5 is kept apart from different faces."""
    from synthmarks.infer.detect import nms

    kept = {id(f) for f in nms(faces, 0.5)}
    return [f for f in faces if id(f) in kept]


def _as_rgb_list(images: list[Any], color: str) -> list[np.ndarray]:
    return [to_rgb(img, color) for img in images]


def _load(model: str | Path | None, backend: str, threads: int | None) -> Any:
    if backend not in BACKENDS:
        raise SynthmarksError(f"unknown backend {backend!r} ({', '.join(BACKENDS)})")
    if isinstance(model, str) and model.startswith("mean-shape"):
        from synthmarks.models.reference import MeanShape

        return MeanShape.from_spec(model)
    name = released(model)
    path = released_file(name, backend) if name is not None else Path(str(model))
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


def _layout(predictor: Any) -> OutputLayout:
    """The output layout a loaded model declares (``outputs`` in its metadata; plain if none)."""
    meta = getattr(getattr(predictor, "runner", None), "meta", None) or {}
    return OutputLayout.from_json(meta.get("outputs"), int(meta.get("num_points", NUM_POINTS)))


def _has_onnxruntime() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True
