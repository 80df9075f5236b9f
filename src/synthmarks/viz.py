"""Pictures people look at: landmarks drawn on faces, contact sheets, side-by-side comparisons."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from synthmarks.landmarks import NUM_POINTS, SEGMENTS

GREEN = (40, 220, 60)
RED = (235, 50, 40)
YELLOW = (250, 210, 30)


def draw_landmarks(
    image_rgb: np.ndarray,
    points: np.ndarray,
    color: tuple[int, int, int] = GREEN,
    radius: int | None = None,
    lines: bool = True,
    visibility: np.ndarray | None = None,
) -> np.ndarray:
    """Return a copy of ``image_rgb`` with the face drawn: contours joined, points as dots.

    Dots are sized by the face (its landmarks' box), not the image, so a small face in a large
    photo stays readable and a large one is not drawn with specks. Points marked invisible are
    drawn hollow so occlusion labels can be checked by eye.
    """
    out = np.ascontiguousarray(image_rgb.copy())
    if out.ndim == 2:
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2RGB)
    r = radius if radius is not None else max(1, round(face_size(points) / 80))
    shift = 4  # sub-pixel drawing: OpenCV takes fixed-point coordinates with this many bits
    pts = np.round(np.asarray(points, dtype=np.float64) * (1 << shift)).astype(np.int64)
    if lines and len(points) >= NUM_POINTS:
        thick = max(1, r // 2)
        for a, b in SEGMENTS:
            cv2.line(out, tuple(pts[a]), tuple(pts[b]), color, thick, cv2.LINE_AA, shift)
    for i, p in enumerate(pts):
        filled = visibility is None or bool(visibility[i])
        cv2.circle(out, tuple(p), r << shift, color, -1 if filled else 1, cv2.LINE_AA, shift)
    return out


def face_size(points: np.ndarray) -> float:
    """sqrt(w * h) of the points' box: the length drawing scales with."""
    pts = np.asarray(points, np.float64)
    span = pts.max(axis=0) - pts.min(axis=0)
    return float(np.sqrt(max(span[0], 1.0) * max(span[1], 1.0)))


def put_text(
    image: np.ndarray, text: str, org: tuple[int, int], scale: float, color: tuple[int, int, int]
) -> None:
    """Text with a dark outline, readable on any background; ``scale`` is OpenCV's font scale."""
    thick = max(1, round(scale * 2))
    for c, t in (((0, 0, 0), thick + 2), (color, thick)):
        cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, c, t, cv2.LINE_AA)


def add_legend(
    sheet: np.ndarray, entries: Sequence[tuple[tuple[int, int, int], str]], note: str = ""
) -> np.ndarray:
    """The sheet with a strip above it saying what each colour means (and a note after)."""
    h = 28
    strip = np.full((h, sheet.shape[1], 3), 24, np.uint8)
    x = 8
    for color, label in [*entries, (None, note)]:
        if color is not None:
            cv2.circle(strip, (x + 6, h // 2), 6, color, -1, cv2.LINE_AA)
            x += 18
        put_text(strip, label, (x, h // 2 + 6), 0.5, (255, 255, 255))
        x += cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)[0][0] + 24
    return np.concatenate([strip, sheet])


def fit_square(image_rgb: np.ndarray, size: int) -> np.ndarray:
    """Letterbox an image into a ``size`` x ``size`` tile, keeping its aspect ratio."""
    h, w = image_rgb.shape[:2]
    s = size / max(h, w)
    resized = cv2.resize(
        image_rgb,
        (max(1, round(w * s)), max(1, round(h * s))),
        interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
    )
    tile = np.zeros((size, size, 3), np.uint8)
    y0, x0 = (size - resized.shape[0]) // 2, (size - resized.shape[1]) // 2
    tile[y0 : y0 + resized.shape[0], x0 : x0 + resized.shape[1]] = resized
    return tile


def contact_sheet(
    images: Sequence[np.ndarray],
    cols: int,
    labels: Sequence[str] | None = None,
    tile: int = 192,
) -> np.ndarray:
    """Tile images (letterboxed to ``tile`` px) into a grid, with an optional caption on each."""
    if not images:
        raise ValueError("contact_sheet needs at least one image")
    rows = (len(images) + cols - 1) // cols
    sheet = np.full((rows * tile, cols * tile, 3), 24, np.uint8)
    for i, img in enumerate(images):
        t = fit_square(img if img.ndim == 3 else cv2.cvtColor(img, cv2.COLOR_GRAY2RGB), tile)
        if labels is not None and labels[i]:
            put_text(t, str(labels[i]), (4, tile - 6), tile / 480, (255, 255, 255))
        r, c = divmod(i, cols)
        sheet[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = t
    return sheet


def draw_faces(
    image_rgb: np.ndarray, faces: Sequence, fps: float | None = None, boxes: bool = True
) -> np.ndarray:
    """Draw each face's landmarks (and box, with its confidence), sized by the face, plus an FPS
    counter sized by the image."""
    out = image_rgb
    for f in faces:
        out = draw_landmarks(out, f.landmarks, GREEN)
        if boxes:
            size = face_size(f.landmarks)
            x0, y0, x1, y1 = (int(round(v)) for v in f.box)
            thick = max(1, round(size / 150))
            cv2.rectangle(out, (x0, y0), (x1, y1), YELLOW, thick, cv2.LINE_AA)
            scale = float(np.clip(size / 300, 0.35, 3.0))
            put_text(out, f"{f.confidence:.2f}", (x0, max(12, y0 - 4 * thick)), scale, YELLOW)
    if out is image_rgb:
        out = image_rgb.copy()
    if fps is not None:
        scale = max(0.5, min(out.shape[:2]) / 700)
        put_text(out, f"{fps:.0f} FPS", (8, round(30 * scale)), scale, YELLOW)
    return out
