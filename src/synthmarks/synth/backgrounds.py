"""Backgrounds: real photographs (public-domain/CC0 images shipped with scikit-image, plus any
folder the user gives) and procedural patterns, and the environment colours they imply.

scikit-image images used (licences as stated in ``skimage.data``'s docstrings): brick, grass,
gravel (CC0, cc0textures.com); cat/chelsea, coffee, horse, clock (CC0 / public domain by their
photographers); coins, immunohistochemistry (no known copyright restrictions); hubble_deep_field,
rocket (NASA / SpaceX, public domain); retina, cell (CC0). ``astronaut`` and ``camera`` are left
out on purpose: they show real, unlabelled faces.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from synthmarks.errors import SynthmarksError

SKIMAGE_IMAGES = (
    "brick",
    "grass",
    "gravel",
    "chelsea",
    "coffee",
    "horse",
    "clock",
    "coins",
    "immunohistochemistry",
    "hubble_deep_field",
    "rocket",
    "retina",
    "cell",
)
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def _as_rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, -1)
    img = img[..., :3]
    if img.dtype != np.uint8:
        img = np.clip(img * (255.0 if img.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    return img


def _shrink(img: np.ndarray, max_side: int = 640) -> np.ndarray:
    h, w = img.shape[:2]
    k = max_side / max(h, w)
    if k < 1:
        img = cv2.resize(img, (int(w * k), int(h * k)), interpolation=cv2.INTER_AREA)
    return img


class BackgroundBank:
    """The photos a worker draws backgrounds (and occluder textures) from."""

    def __init__(self, folder: str | Path | None = None, max_files: int = 2000):
        self.images: list[np.ndarray] = []
        self.files: list[Path] = []
        try:
            import skimage.data as skd

            for name in SKIMAGE_IMAGES:
                fn = getattr(skd, name, None)
                if fn is None:
                    continue
                try:
                    self.images.append(_shrink(_as_rgb(np.asarray(fn()))))
                except Exception:  # an image needing a download (pooch) is simply skipped
                    continue
        except ImportError:
            pass
        if folder is not None:
            root = Path(folder)
            if not root.is_dir():
                raise SynthmarksError(f"--backgrounds {root}: not a folder")
            self.files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTS)
            self.files = self.files[:max_files]
            if not self.files:
                raise SynthmarksError(f"--backgrounds {root}: no images (.jpg, .png, ...) inside")
        self._cache: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.images) + len(self.files)

    def photo(self, k: int) -> np.ndarray:
        if k < len(self.images):
            return self.images[k]
        k -= len(self.images)
        if k not in self._cache:
            data = np.fromfile(self.files[k], np.uint8)
            img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
            if (
                img is None
            ):  # unreadable user file: fall back to a built-in photo, deterministically
                return self.images[k % max(1, len(self.images))]
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[k] = _shrink(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        return self._cache[k]

    def random_crop(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """A random crop of a random photo, resized to ``size`` square, float32 0..1."""
        if len(self) == 0:
            return procedural(rng, size)
        img = self.photo(int(rng.integers(len(self))))
        h, w = img.shape[:2]
        side = int(min(h, w) * rng.uniform(0.35, 1.0))
        y0 = int(rng.integers(0, h - side + 1))
        x0 = int(rng.integers(0, w - side + 1))
        crop = cv2.resize(
            img[y0 : y0 + side, x0 : x0 + side], (size, size), interpolation=cv2.INTER_AREA
        )
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        out = crop.astype(np.float32) / 255.0
        out = out * rng.uniform(0.6, 1.2, 3).astype(np.float32) ** 0.5
        return np.clip(out, 0, 1)


def procedural(rng: np.random.Generator, size: int) -> np.ndarray:
    """Gradients, smooth noise, stripes and blobs: cheap, varied, face-free backgrounds."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    c0, c1 = rng.uniform(0, 1, (2, 3)).astype(np.float32) ** 1.5
    ang = rng.uniform(0, 2 * np.pi)
    t = np.clip((np.cos(ang) * xx + np.sin(ang) * yy + 0.5) / 1.5 + 0.0, 0, 1)[..., None]
    img = c0 * (1 - t) + c1 * t
    kind = rng.integers(4)
    if kind == 1:  # smooth noise
        small = rng.uniform(0, 1, (int(rng.integers(3, 12)),) * 2 + (3,)).astype(np.float32)
        img = 0.5 * img + 0.5 * cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    elif kind == 2:  # stripes
        f = rng.uniform(4, 30)
        a2 = rng.uniform(0, np.pi)
        s = (np.sin((np.cos(a2) * xx + np.sin(a2) * yy) * f * np.pi) > 0)[..., None]
        img = np.where(s, img, img * rng.uniform(0.4, 0.9))
    elif kind == 3:  # blobs (bokeh-like)
        for _ in range(int(rng.integers(5, 30))):
            col = tuple(float(c) for c in rng.uniform(0, 1, 3))
            cv2.circle(
                img,
                (int(rng.integers(size)), int(rng.integers(size))),
                int(rng.integers(size // 30 + 1, size // 5 + 2)),
                col,
                -1,
                cv2.LINE_AA,
            )
        img = cv2.GaussianBlur(img, (0, 0), size / 100)
    img += rng.normal(0, 0.02, img.shape).astype(np.float32)
    return np.clip(img, 0, 1).astype(np.float32)


def environment(bg: np.ndarray, strength: float) -> dict[str, list[float]]:
    """Sky and ground colours for hemispheric ambient light, taken from the background."""
    h = bg.shape[0]
    top = bg[: h // 3].reshape(-1, 3).mean(0) ** 2.2
    bottom = bg[2 * h // 3 :].reshape(-1, 3).mean(0) ** 2.2
    neutral = np.array([0.55, 0.55, 0.55])
    sky = neutral * (1 - strength) + top / max(top.mean(), 1e-3) * 0.55 * strength
    ground = 0.6 * (neutral * (1 - strength) + bottom / max(bottom.mean(), 1e-3) * 0.55 * strength)
    return {"sky": [float(v) for v in sky], "ground": [float(v) for v in ground]}
