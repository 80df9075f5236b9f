"""The crop-predict engine: face boxes in, 68 points in image pixels and their confidence out.

Every prediction takes the same four steps: crop each face box to the model's square input, run
the model (a :mod:`~synthmarks.infer.runtime` runner), map the points back to image pixels, and
score them. They are written once, here, for all three users: ``Landmarker`` (the public API),
``synthmarks eval`` (through ``Landmarker``) and the trainer's per-epoch validation (which crops
its dev set once and calls :meth:`CropEngine.run` and :meth:`CropEngine.to_image` every epoch), so
the dev NME that training logs is the NME that ``eval`` reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from synthmarks.data import crop
from synthmarks.landmarks import flip_permutation


@dataclass
class Crops:
    """Face crops as the model sees them, and the squares that map its points back."""

    images: np.ndarray  # (B, S, S, 3) uint8
    centres: np.ndarray  # (B, 2) image pixels
    sides: np.ndarray  # (B,) image pixels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: slice) -> Crops:
        return Crops(self.images[index], self.centres[index], self.sides[index])


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

    def crop(self, images: list[np.ndarray], boxes: np.ndarray) -> Crops:
        """The crops of (B, 4) face boxes (x0, y0, x1, y1): squares ``crop_scale`` times each
        box's longer side, centred on it (:func:`synthmarks.data.crop.box_square`)."""
        s = self.input_size
        centres, sides = crop.box_square(boxes, self.crop_scale)
        batch = np.empty((len(images), s, s, 3), np.uint8)
        for i, img in enumerate(images):
            batch[i] = crop.warp(img, crop.crop_matrix(centres[i], sides[i], s), s)
        return Crops(batch, centres, sides)

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
        if pose is not None:  # a mirror keeps pitch and negates yaw and roll (synthmarks.pose)
            pose = (pose[:b] + pose[b:] * np.array([1.0, -1.0, -1.0], np.float32)) / 2
        scores = np.asarray((scores[:b] + scores[b:, perm]) / 2, np.float32)
        return (pts[:b] + mirrored) / 2, scores, pose

    def _call(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The runner's (points, scores, pose); a runner written before pose existed returns
        (points, scores) and keeps working."""
        out = self.runner(images)
        return out[0], out[1], out[2] if len(out) > 2 else None

    @staticmethod
    def to_image(points01: np.ndarray, crops: Crops) -> np.ndarray:
        """Points in [0, 1] crop units -> image pixels (float32)."""
        return crop.from_unit_square(points01, crops.centres, crops.sides)

    def predict_all(
        self, images: list[np.ndarray], boxes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Points (B, N, 2) in image pixels, per-point confidences (B, N) in [0, 1] and head pose
        (B, 3) in degrees (pitch, yaw, roll; None without a pose head). The crop is not rotated,
        so the crop's pose is the image's."""
        crops = self.crop(images, boxes)
        pts01, scores, pose = self.run(crops.images)
        pose_deg = None if pose is None else np.degrees(pose).astype(np.float32)
        return self.to_image(pts01, crops), scores, pose_deg

    def predict_with_scores(
        self, images: list[np.ndarray], boxes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points (B, N, 2) in image pixels and per-point confidences (B, N) in [0, 1]."""
        pts, scores, _ = self.predict_all(images, boxes)
        return pts, scores

    def predict_batch(self, images: list[np.ndarray], boxes: np.ndarray) -> np.ndarray:
        return self.predict_with_scores(images, boxes)[0]
