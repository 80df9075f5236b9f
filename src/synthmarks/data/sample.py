"""The one record every reader returns, whatever the dataset's format."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from synthmarks.errors import SynthmarksError


@dataclass
class Sample:
    """One labelled face.

    points are float32 (N, 2) image pixel coordinates (x, y) with N = 68 or 70 (pupils last);
    pose is (pitch, yaw, roll) in degrees, AFLW2000-3D's convention (:mod:`synthmarks.pose`),
    when the dataset knows it; visibility is (N,) bool; jaws holds the 17 jaw points under each
    convention ("xray", "outline") when the labels carry both (the generator's meta.json);
    rotations are the in-plane turns (degrees, counter-clockwise in the picture) applied on top of
    the image file, in order, by :meth:`rotated`: the points and jaws already follow them (the
    pose does not), and :meth:`load_image` applies them to the pixels.
    """

    image_path: Path
    points: np.ndarray
    pose: np.ndarray | None = None
    visibility: np.ndarray | None = None
    seg_path: Path | None = None
    jaws: dict[str, np.ndarray] | None = None
    rotations: tuple[float, ...] = ()

    @property
    def name(self) -> str:
        return self.image_path.stem

    @property
    def yaw(self) -> float | None:
        return None if self.pose is None else float(self.pose[1])

    @property
    def rotate_deg(self) -> float:
        """The sample's total in-plane turn against its image file (degrees, counter-clockwise)."""
        return float(sum(self.rotations))

    def load_image(self) -> np.ndarray:
        image = read_image(self.image_path)
        for deg in self.rotations:
            image = rotate_image(image, deg)
        return image

    def rotated(self, deg: float) -> Sample:
        """This face turned ``deg`` degrees counter-clockwise in the picture (``np.rot90``'s
        direction for +90), image and points together, on a canvas grown to hold the whole
        turned image, so a benchmark can ask how a model copes with rolled faces. Multiples of 90
        are exact (``np.rot90``, no resampling). The jaws turn with the points; the pose stays
        the face's pose in the unturned picture (so yaw bins and the 99-degree rule of pose
        scoring mean what they mean upright: ``eval`` turns predictions back,
        :func:`synthmarks.pose.rotate_pose`); ``seg_path`` stays the unturned file."""
        from PIL import Image

        with Image.open(self.image_path) as im:
            w, h = im.size
        for prior in self.rotations:
            w, h = rotated_size(w, h, prior)
        matrix, _ = rotation_matrix(w, h, deg)

        def turn(pts: np.ndarray) -> np.ndarray:
            pts = np.asarray(pts, np.float64)
            return (pts @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)

        jaws = {k: turn(v) for k, v in self.jaws.items()} if self.jaws else self.jaws
        return replace(
            self,
            points=turn(self.points),
            jaws=jaws,
            rotations=(*self.rotations, float(deg)),
        )


def _quarter_turns(deg: float) -> int | None:
    """k when ``deg`` is k quarter turns (mod 4), else None."""
    k = float(deg) / 90.0
    return int(round(k)) % 4 if abs(k - round(k)) < 1e-9 else None


def rotated_size(w: int, h: int, deg: float) -> tuple[int, int]:
    """(width, height) of the canvas that holds a ``w`` x ``h`` image turned by ``deg``."""
    k = _quarter_turns(deg)
    if k is not None:
        return (h, w) if k % 2 else (w, h)
    a = np.deg2rad(deg)
    c, s = abs(np.cos(a)), abs(np.sin(a))
    return int(np.ceil(w * c + h * s - 1e-6)), int(np.ceil(w * s + h * c - 1e-6))


def rotation_matrix(w: int, h: int, deg: float) -> tuple[np.ndarray, tuple[int, int]]:
    """2x3 matrix taking pixels of a ``w`` x ``h`` image to the turned, grown canvas, and that
    canvas's (width, height). Pixel centres are at integers, so the image centre is at
    ((w - 1) / 2, (h - 1) / 2) and lands on the new canvas's centre; for quarter turns the
    matrix is exact integers (+90: (x, y) -> (y, w - 1 - x), as ``np.rot90`` moves pixels)."""
    nw, nh = rotated_size(w, h, deg)
    k = _quarter_turns(deg)
    if k is not None:
        c, s = [(1, 0), (0, 1), (-1, 0), (0, -1)][k]
    else:
        a = np.deg2rad(deg)
        c, s = float(np.cos(a)), float(np.sin(a))
    lin = np.array([[c, s], [-s, c]], np.float64)  # counter-clockwise in a y-down picture
    t = np.array([(nw - 1) / 2, (nh - 1) / 2]) - lin @ np.array([(w - 1) / 2, (h - 1) / 2])
    return np.hstack([lin, t[:, None]]), (nw, nh)


def rotate_image(image: np.ndarray, deg: float) -> np.ndarray:
    """``image`` turned ``deg`` degrees counter-clockwise on a grown canvas (black corners):
    ``np.rot90`` for quarter turns, bilinear resampling otherwise (see :func:`rotation_matrix`)."""
    k = _quarter_turns(deg)
    if k is not None:
        return np.ascontiguousarray(np.rot90(image, k))
    h, w = image.shape[:2]
    matrix, size = rotation_matrix(w, h, deg)
    return cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0)


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as RGB uint8 (H, W, 3); a missing or corrupt file is a user error."""
    path = Path(path)
    if not path.is_file():
        raise SynthmarksError(f"{path}: image not found")
    data = np.fromfile(path, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise SynthmarksError(f"{path}: not a readable image (corrupt or unsupported format)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
