"""2-D occluders over the face (hand-like blobs, objects, textured patches) and camera effects.

Real test photos have hands, microphones, hair and cups in front of faces; a model that has only
seen clean faces invents landmarks under them. Occluders are drawn after rendering, so they come
with an exact alpha mask: points under it are marked invisible and their seg pixels become 255
(ignore: Face Synthetics has no class for such objects).
"""

from __future__ import annotations

import cv2
import numpy as np

from synthmarks.synth.backgrounds import BackgroundBank


def _hand(rng: np.random.Generator, size: int, centre: np.ndarray, scale: float) -> np.ndarray:
    """Alpha of a palm with four or five fingers, at any orientation."""
    m = np.zeros((size, size), np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    palm = scale * np.array([0.45, 0.5])
    c = tuple(int(v) for v in centre)
    cv2.ellipse(m, c, (int(palm[0]), int(palm[1])), np.degrees(ang), 0, 360, 1.0, -1, cv2.LINE_AA)
    n = int(rng.integers(4, 6))
    for k in range(n):
        off = (k - (n - 1) / 2) * scale * 0.22
        length = scale * rng.uniform(0.55, 0.9)
        bend = rng.uniform(-0.25, 0.25)
        base = rot @ np.array([off, -palm[1] * 0.7])
        tip = rot @ np.array([off + bend * length, -palm[1] * 0.7 - length])
        cv2.line(
            m,
            (int(centre[0] + base[0]), int(centre[1] + base[1])),
            (int(centre[0] + tip[0]), int(centre[1] + tip[1])),
            1.0,
            max(2, int(scale * 0.17)),
            cv2.LINE_AA,
        )
    return m


def _polygon(rng: np.random.Generator, size: int, centre: np.ndarray, scale: float) -> np.ndarray:
    m = np.zeros((size, size), np.float32)
    k = int(rng.integers(3, 9))
    ang = np.sort(rng.uniform(0, 2 * np.pi, k))
    r = scale * rng.uniform(0.4, 1.0, k)
    pts = np.stack([centre[0] + r * np.cos(ang), centre[1] + r * np.sin(ang)], 1)
    cv2.fillPoly(m, [pts.astype(np.int32)], 1.0, cv2.LINE_AA)
    return m


def _bar(rng: np.random.Generator, size: int, centre: np.ndarray, scale: float) -> np.ndarray:
    m = np.zeros((size, size), np.float32)
    ang = rng.uniform(0, np.pi)
    d = np.array([np.cos(ang), np.sin(ang)]) * scale * rng.uniform(1.0, 3.0)
    a, b = centre - d, centre + d
    cv2.line(
        m,
        tuple(int(v) for v in a),
        tuple(int(v) for v in b),
        1.0,
        max(2, int(scale * rng.uniform(0.1, 0.4))),
        cv2.LINE_AA,
    )
    return m


def draw_occluders(
    image: np.ndarray, rng: np.random.Generator, count: int, box: np.ndarray, bank: BackgroundBank
) -> tuple[np.ndarray, np.ndarray]:
    """Composite ``count`` occluders near the face box; returns the image and the total alpha."""
    size = image.shape[0]
    total = np.zeros(image.shape[:2], np.float32)
    x0, y0, x1, y1 = box
    face = max(x1 - x0, y1 - y0, 8.0)
    for _ in range(count):
        centre = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
        edge = rng.integers(4)
        # come in from outside the face half of the time, as hands and objects do
        if rng.random() < 0.5:
            centre[edge % 2] = (x0, y0, x1, y1)[edge] + rng.normal(0, face * 0.1)
        scale = face * rng.uniform(0.15, 0.45)
        kind = rng.choice(["hand", "polygon", "bar"], p=[0.45, 0.35, 0.2])
        alpha = {"hand": _hand, "polygon": _polygon, "bar": _bar}[kind](rng, size, centre, scale)
        alpha = cv2.GaussianBlur(alpha, (0, 0), 0.6)
        if kind == "hand" or rng.random() < 0.3:
            tone = np.array([0.85, 0.64, 0.52]) * (
                np.array([0.2, 0.16, 0.13]) / 0.85
            ) ** rng.uniform(0, 1)
            tex = np.ones_like(image) * tone.astype(np.float32)
            shade = cv2.GaussianBlur(alpha, (0, 0), scale * 0.25)
            tex *= (0.55 + 0.45 * shade / max(shade.max(), 1e-6))[..., None]
        elif rng.random() < 0.6:
            tex = bank.random_crop(rng, size)
        else:
            tex = np.ones_like(image) * rng.uniform(0, 1, 3).astype(np.float32)
        a = alpha[..., None]
        image = image * (1 - a) + tex * a
        total = np.maximum(total, alpha)
    return image, total


def camera_effects(image: np.ndarray, fx: dict) -> np.ndarray:
    """Blur, sensor noise, tone, saturation, vignette, greyscale and JPEG compression."""
    rng = np.random.default_rng(fx["seed"])
    img = image.astype(np.float32, copy=False)
    if fx["blur"] > 0.05:
        img = cv2.GaussianBlur(img, (0, 0), fx["blur"])
    if fx["vignette"] > 0:
        h = img.shape[0]
        r = (np.arange(h, dtype=np.float32) / h - 0.5) ** 2
        img = img * (1 - fx["vignette"] * 2 * (r[:, None] + r[None, :]))[..., None]
    grey = img.mean(-1, keepdims=True)
    img = grey + (img - grey) * (0.0 if fx["grey"] else fx["saturation"])
    img = img + rng.standard_normal(img.shape, dtype=np.float32) * np.float32(fx["noise"])
    out = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    # tone curve through a lookup table: a per-pixel pow() costs more than everything else here
    lut = (255 * (np.arange(256) / 255.0) ** fx["gamma"] + 0.5).astype(np.uint8)
    out = cv2.LUT(out, lut)
    if fx["jpeg"]:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(fx["jpeg"])])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    return out
