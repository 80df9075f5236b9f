"""The one record every reader returns, whatever the dataset's format."""

from __future__ import annotations

from dataclasses import dataclass
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
    convention ("xray", "outline") when the labels carry both (the generator's meta.json).
    """

    image_path: Path
    points: np.ndarray
    pose: np.ndarray | None = None
    visibility: np.ndarray | None = None
    seg_path: Path | None = None
    jaws: dict[str, np.ndarray] | None = None

    @property
    def name(self) -> str:
        return self.image_path.stem

    @property
    def yaw(self) -> float | None:
        return None if self.pose is None else float(self.pose[1])

    def load_image(self) -> np.ndarray:
        return read_image(self.image_path)


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
