"""Any image a user holds -> the RGB uint8 (H, W, 3) array the models and detectors take.

Accepted: a path, a PIL image, or a numpy array that is grayscale (H, W) or (H, W, 1), colour
(H, W, 3) or with alpha (H, W, 4), 8- or 16-bit or float in [0, 1]. Arrays are RGB unless the
caller says ``color="bgr"`` (what ``cv2.imread`` returns): channel order cannot be told from the
pixels, so it is the caller's to state, once, on the Landmarker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

COLORS = ("rgb", "bgr")


def to_rgb(image: Any, color: str = "rgb") -> np.ndarray:
    """The image as a C-contiguous RGB uint8 (H, W, 3) array (the input itself when it is one)."""
    if color not in COLORS:
        raise ValueError(f"color must be 'rgb' or 'bgr', not {color!r}")
    if isinstance(image, str | Path):
        from synthmarks.data.sample import read_image

        return read_image(image)
    if _is_pil(image):
        return _from_pil(image)
    if not isinstance(image, np.ndarray):
        raise ValueError(
            f"an image must be a path, a PIL image or a numpy array, not {type(image).__name__}"
        )
    arr = _to_uint8(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim == 2:
        return cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or min(arr.shape[:2]) < 1:
        raise ValueError(f"an image array must be (H, W), (H, W, 3) or (H, W, 4), not {arr.shape}")
    if arr.shape[2] == 4:  # alpha is dropped: a face behind transparency is still a face
        code = cv2.COLOR_BGRA2RGB if color == "bgr" else cv2.COLOR_RGBA2RGB
        return cv2.cvtColor(np.ascontiguousarray(arr), code)
    if color == "bgr":
        return cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(arr)


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.uint16:
        return (arr >> 8).astype(np.uint8)
    if arr.dtype.kind == "f":
        return (np.clip(np.nan_to_num(arr), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    raise ValueError(f"image arrays must be uint8, uint16 or float in [0, 1], not {arr.dtype}")


def _is_pil(image: Any) -> bool:
    """True for a PIL image, without importing PIL (it is not a dependency)."""
    return any(c.__module__.startswith("PIL.") and c.__name__ == "Image" for c in type(image).mro())


def _from_pil(image: Any) -> np.ndarray:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16/32-bit grey: keep the range
        arr = np.asarray(image)
        top = max(65535, int(arr.max()))
        return to_rgb((arr.astype(np.float32) / top).clip(0, 1))
    return np.ascontiguousarray(np.asarray(image.convert("RGB")))
