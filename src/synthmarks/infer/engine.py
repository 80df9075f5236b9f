"""The crop-predict engine: face boxes in, 68 points in image pixels and their confidence out.

Every prediction takes the same four steps: crop each face box to the model's square input, run
the model (a :mod:`~synthmarks.infer.runtime` runner), map the points back to image pixels, and
score them. They are written once, here, for all three users: ``Landmarker`` (the public API),
``synthmarks eval`` (through ``Landmarker``) and the trainer's per-epoch validation (which crops
its dev set once and calls :meth:`CropEngine.run` and :meth:`CropEngine.to_image` every epoch), so
the dev NME that training logs is the NME that ``eval`` reports.

A crop may be cut at any in-plane angle (``Crops.angles``, degrees, the face's eye-line roll:
:func:`synthmarks.infer.landmarker.eye_roll`), so a rolled face reaches the model upright; the way
back turns the points with it. Angle 0 is the plain box crop, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from synthmarks.data import crop
from synthmarks.landmarks import flip_permutation
from synthmarks.pose import flip_pose, rotate_pose


@dataclass
class Crops:
    """Face crops as the model sees them, and the squares that map its points back."""

    images: np.ndarray  # (B, S, S, 3) uint8
    centres: np.ndarray  # (B, 2) image pixels
    sides: np.ndarray  # (B,) image pixels
    angles: np.ndarray | None = None  # (B,) degrees the crop is turned by; None: all 0

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: slice) -> Crops:
        angles = None if self.angles is None else self.angles[index]
        return Crops(self.images[index], self.centres[index], self.sides[index], angles)


class CropEngine:
    """Crop -> runner -> map back, batched, for any runner (PyTorch or ONNX Runtime).

    ``flip_tta`` also runs each crop mirrored and averages the two predictions (the mirrored one
    relabelled with the flip permutation): 0.17 NME points better on the AFLW2000-3D dev split
    (4.92 -> 4.75 %) for twice the model time (docs/experiments.md), so it is an option, not the
    default.
    """

    def __init__(self, runner: Any, flip_tta: bool = False) -> None:
        self.runner = runner
        self.flip_tta = flip_tta
        self.input_size = int(runner.meta["input_size"])
        self.crop_scale = float(runner.meta["crop_scale"])

    def crop(
        self, images: list[np.ndarray], boxes: np.ndarray, angles: np.ndarray | None = None
    ) -> Crops:
        """The crops of (B, 4) face boxes (x0, y0, x1, y1): squares ``crop_scale`` times each
        box's longer side, centred on it (:func:`synthmarks.data.crop.box_square`), turned by
        ``angles`` (B,) degrees where given, so a face rolled by that much comes out upright.
        A box for a turned crop gives its centre in the image and its size in the face's own
        frame (:func:`synthmarks.infer.landmarker.frame_box`); for quarter turns an image box
        serves as is, the square's side being its longer one either way."""
        s = self.input_size
        centres, sides = crop.box_square(boxes, self.crop_scale)
        turn = None if angles is None else np.asarray(angles, np.float64).reshape(-1)
        if turn is not None and not turn.any():
            turn = None  # the plain crop, exactly as training validation cuts it
        batch = np.empty((len(images), s, s, 3), np.uint8)
        for i, img in enumerate(images):
            a = 0.0 if turn is None else float(turn[i])
            batch[i] = crop.warp(img, crop.crop_matrix(centres[i], sides[i], s, a), s)
        return Crops(batch, centres, sides, turn)

    def run(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(B, S, S, 3) uint8 crops -> points (B, N, 2) in [0, 1] crop units, scores (B, N) and
        pose (B, 3) radians or None (a model without a pose head)."""
        if not self.flip_tta:
            pts, scores, pose = self._call(images)
            return pts, np.asarray(scores, np.float32), pose
        b = len(images)
        pts, scores, pose = self._call(np.concatenate([images, images[:, :, ::-1]]))
        perm = flip_permutation(pts.shape[1])
        mirrored = pts[b:, perm]
        mirrored[..., 0] = 1.0 - mirrored[..., 0]  # crop units: pixel p <-> (p + 0.5) / S
        if pose is not None:  # the mirrored crops' pose, mirrored back
            pose = (pose[:b] + flip_pose(pose[b:])) / 2
        scores = np.asarray((scores[:b] + scores[b:, perm]) / 2, np.float32)
        return (pts[:b] + mirrored) / 2, scores, pose

    def _call(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The runner's (points, scores, pose); a runner written before pose existed returns
        (points, scores) and keeps working."""
        out = self.runner(images)
        return out[0], out[1], out[2] if len(out) > 2 else None

    @staticmethod
    def to_image(points01: np.ndarray, crops: Crops) -> np.ndarray:
        """Points in [0, 1] crop units -> image pixels (float32), turned back by each crop's
        angle: the inverse of :func:`synthmarks.data.crop.crop_matrix`."""
        if crops.angles is None:
            return crop.from_unit_square(points01, crops.centres, crops.sides)
        a = np.deg2rad(crops.angles)
        c, s = np.cos(a)[:, None], np.sin(a)[:, None]
        u = (np.asarray(points01, np.float64) - 0.5) * crops.sides[:, None, None]
        x = c * u[..., 0] - s * u[..., 1]
        y = s * u[..., 0] + c * u[..., 1]
        return (crops.centres[:, None, :] + np.stack([x, y], -1)).astype(np.float32)

    def predict_all(
        self, images: list[np.ndarray], boxes: np.ndarray, angles: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Points (B, N, 2) in image pixels, per-point confidences (B, N) in [0, 1] and head pose
        (B, 3) in degrees (pitch, yaw, roll; None without a pose head), from crops turned by
        ``angles`` (degrees) where given. A turned crop sees the head rolled by its angle, so
        its pose is turned back into the image's (:func:`synthmarks.pose.rotate_pose`)."""
        crops = self.crop(images, boxes, angles)
        pts01, scores, pose = self.run(crops.images)
        pose_deg = None if pose is None else np.degrees(pose).astype(np.float32)
        if pose_deg is not None and crops.angles is not None:
            pose_deg = np.stack(
                [rotate_pose(p, float(a)) for p, a in zip(pose_deg, crops.angles, strict=True)]
            )
        return self.to_image(pts01, crops), scores, pose_deg

    def predict_with_scores(
        self, images: list[np.ndarray], boxes: np.ndarray, angles: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points (B, N, 2) in image pixels and per-point confidences (B, N) in [0, 1], from
        crops turned by ``angles`` (degrees) where given."""
        pts, scores, _ = self.predict_all(images, boxes, angles)
        return pts, scores

    def predict_batch(self, images: list[np.ndarray], boxes: np.ndarray) -> np.ndarray:
        return self.predict_with_scores(images, boxes)[0]
