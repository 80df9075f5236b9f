"""HDR environment maps as light and background: the photoreal look's image-based lighting.

Each map is split into a *key* (its brightest small region: the sun, a window, a studio lamp),
which becomes a directional light that casts shadows, and the rest, which lights the face through
its first nine spherical-harmonic coefficients (diffuse) and a blurred copy of itself (glossy
reflections). The same map, rotated the same way, is what the camera sees behind the head in a
share of samples, so light and background agree, as in Microsoft's Face Synthetics.

Directions: world y is up; an equirectangular pixel (u, v) in [0, 1)^2, v = 0 at the top, looks
along ``(sin t sin p, cos t, -sin t cos p)`` with ``p = (u - 0.5) 2 pi`` and ``t = v pi``.
The GLSL twin of :func:`dirs_to_uv` is ``env_uv`` in ``render.py``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from synthmarks.errors import SynthmarksError

#: Radiance above this is clamped: some half-float maps hold inf/NaN at the sun.
MAX_RADIANCE = 6.0e4
#: Pixels brighter than this share of the total (after sorting) form the key light...
KEY_SHARE = 0.35
#: ...but at most this solid angle (steradians: a disc of about 12 degrees).
KEY_MAX_SR = 0.15
#: Side (pixels) of the blurred map used for glossy reflections.
GLOSSY_W = 64


def read_hdr(path: Path) -> np.ndarray:
    """Linear RGB float32 (H, W, 3) from a Radiance .hdr (OpenCV) or OpenEXR file."""
    if path.suffix.lower() == ".exr":
        import OpenEXR

        try:
            with OpenEXR.File(str(path)) as f:
                ch = f.channels()
                if "RGB" in ch:
                    img = ch["RGB"].pixels
                else:
                    img = np.stack([ch[c].pixels for c in ("R", "G", "B")], -1)
        except Exception as exc:  # OpenEXR raises plain exceptions for unreadable files
            raise SynthmarksError(f"{path}: not a readable OpenEXR file ({exc})") from None
        img = np.asarray(img, np.float32)
    else:
        bgr = cv2.imread(str(path), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR)
        if bgr is None:
            raise SynthmarksError(f"{path}: not a readable .hdr file")
        img = bgr[..., ::-1].astype(np.float32)
    return np.clip(np.nan_to_num(img, nan=0.0, posinf=MAX_RADIANCE), 0.0, MAX_RADIANCE)


def equirect_dirs(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit directions (h, w, 3) of pixel centres and their solid angles (h, w)."""
    v = (np.arange(h) + 0.5) / h
    u = (np.arange(w) + 0.5) / w
    t = v[:, None] * np.pi
    p = (u[None, :] - 0.5) * 2 * np.pi
    d = np.stack([np.sin(t) * np.sin(p), np.cos(t) * np.ones_like(p), -np.sin(t) * np.cos(p)], -1)
    sa = (2 * np.pi / w) * (np.pi / h) * np.sin(t) * np.ones_like(p)
    return d, sa


def dirs_to_uv(d: np.ndarray) -> np.ndarray:
    """Equirectangular (u, v) of unit directions (..., 3)."""
    p = np.arctan2(d[..., 0], -d[..., 2])
    t = np.arccos(np.clip(d[..., 1], -1, 1))
    return np.stack([p / (2 * np.pi) + 0.5, t / np.pi], -1)


def sh9(d: np.ndarray) -> np.ndarray:
    """Real spherical-harmonic basis (..., 9) up to band 2."""
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    return np.stack(
        [
            0.282095 * np.ones_like(x),
            0.488603 * y,
            0.488603 * z,
            0.488603 * x,
            1.092548 * x * y,
            1.092548 * y * z,
            0.315392 * (3 * z * z - 1),
            1.092548 * x * z,
            0.546274 * (x * x - y * y),
        ],
        -1,
    )


#: Cosine-lobe convolution per band (Ramamoorthi & Hanrahan 2001): irradiance = sum A_l L_lm Y_lm.
SH_COSINE = np.array([np.pi, *[2 * np.pi / 3] * 3, *[np.pi / 4] * 5])


@dataclass
class Environment:
    """One map, split for rendering."""

    name: str
    background: np.ndarray  # (H, W, 3) float32 linear radiance
    glossy: np.ndarray  # (GLOSSY_W / 2, GLOSSY_W, 3) float32, blurred, key removed
    irradiance_sh: np.ndarray  # (9, 3): irradiance(n) = sh9(n) @ irradiance_sh, key removed
    key_dir: np.ndarray  # (3,) unit, world
    key_irradiance: np.ndarray  # (3,) on a surface facing the key
    mean_radiance: float  # luminance averaged over the sphere (key included): the exposure anchor


def split_environment(name: str, img: np.ndarray) -> Environment:
    small = cv2.resize(img, (128, 64), interpolation=cv2.INTER_AREA)
    d, sa = equirect_dirs(64, 128)
    lum = small @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    power = lum * sa
    order = np.argsort(power.ravel())[::-1]
    cum = np.cumsum(power.ravel()[order]) / max(power.sum(), 1e-12)
    cum_sa = np.cumsum(sa.ravel()[order])
    n_key = int(np.searchsorted(cum, KEY_SHARE)) + 1
    n_key = max(1, min(n_key, int(np.searchsorted(cum_sa, KEY_MAX_SR)) + 1))
    key = np.zeros(lum.size, bool)
    key[order[:n_key]] = True
    key = key.reshape(lum.shape)
    # the key's radiance above the level of its surroundings becomes the directional light
    floor = float(np.percentile(lum[~key], 99)) if (~key).any() else 0.0
    excess = np.clip(small - floor, 0, None) * key[..., None]
    key_irr = (excess * sa[..., None]).sum((0, 1))
    w = (excess @ np.array([0.2126, 0.7152, 0.0722], np.float32)) * sa
    kd = (d * w[..., None]).sum((0, 1))
    kd = kd / (np.linalg.norm(kd) + 1e-12) if w.sum() > 0 else np.array([0.0, 1.0, 0.0])
    rest = small - excess
    coeff = np.einsum("hwk,hwc,hw->kc", sh9(d), rest, sa)
    glossy = cv2.GaussianBlur(
        cv2.resize(rest, (GLOSSY_W, GLOSSY_W // 2), interpolation=cv2.INTER_AREA), (0, 0), 1.5
    )
    return Environment(
        name=name,
        background=img.astype(np.float32),
        glossy=glossy.astype(np.float32),
        irradiance_sh=(coeff * SH_COSINE[:, None]).astype(np.float32),
        key_dir=kd.astype(np.float32),
        key_irradiance=key_irr.astype(np.float32),
        mean_radiance=float((lum * sa).sum() / sa.sum()),
    )


def white_radiance(env: Environment, rot: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Luminance a white diffuse surface with each camera-space normal shows under ``env``
    turned by ``rot`` (SH light plus the key, unshadowed): what a camera meters on."""
    n = normals @ rot.T  # into the map's frame, as the shader's env_rot * N
    irr = np.maximum(sh9(n) @ env.irradiance_sh, 0.0)
    irr += np.maximum(n @ env.key_dir, 0.0)[:, None] * env.key_irradiance
    return (irr @ np.array([0.2126, 0.7152, 0.0722], np.float32)) / np.pi


class HdriBank:
    """Every environment map under ``<assets>/hdri`` (.hdr and .exr), split for rendering."""

    def __init__(self, assets: Path, max_width: int = 1024):
        files = sorted(
            p for p in (assets / "hdri").rglob("*") if p.suffix.lower() in (".hdr", ".exr")
        )
        if not files:
            raise SynthmarksError(f"{assets / 'hdri'}: no .hdr or .exr environment maps")
        self.envs: list[Environment] = []
        for f in files:
            img = read_hdr(f)
            if img.shape[1] > max_width:
                k = max_width / img.shape[1]
                img = cv2.resize(img, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
            rel = f.relative_to(assets / "hdri").as_posix()
            self.envs.append(split_environment(rel, img))
        self.names = [e.name for e in self.envs]

    def __len__(self) -> int:
        return len(self.envs)


def env_rotation(yaw_deg: float, tilt_deg: float) -> np.ndarray:
    """Camera-to-world rotation of a sample's environment: turned about the vertical, tipped a
    little about the camera's x axis (a camera held slightly up or down)."""
    y, t = np.radians([yaw_deg, tilt_deg])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])
    return ry @ rx


#: Grid step (pixels) of the background's direction lookup; see :func:`background`.
BG_STEP = 8


@functools.lru_cache(maxsize=4)
def _grid_lookup(size: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``size`` x ``size`` pixels falls on an ``n`` x ``n`` grid whose first and
    last samples sit on the first and last pixel centres (cv2.remap maps)."""
    t = np.arange(size, dtype=np.float32) * np.float32((n - 1) / (size - 1))
    return np.ascontiguousarray(np.broadcast_to(t, (size, size))), np.ascontiguousarray(
        np.broadcast_to(t[:, None], (size, size))
    )


def background(
    env: Environment, rot: np.ndarray, f: float, cx: float, cy: float, size: int, exposure: float
) -> np.ndarray:
    """What the pinhole camera (focal ``f`` px, principal point cx, cy) sees of the rotated map:
    linear radiance times exposure, (size, size, 3) float32.

    The pixel -> map lookup is smooth, so it is computed on a grid of every ``BG_STEP``-th pixel
    and interpolated (a tenth of the trigonometry per pixel); the map's u is unwrapped around the
    view's centre first, so the interpolation never crosses the map's seam (a view spans less
    than half the map's width, and the camera never looks near a pole)."""
    n = size // BG_STEP + 2
    g = np.arange(n, dtype=np.float32) * (size - 1) / (n - 1)
    xs, ys = np.meshgrid(g, g)
    d = np.stack([(xs - cx) / f, -(ys - cy) / f, -np.ones_like(xs)], -1)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    uv = dirs_to_uv(d @ rot.T.astype(np.float32))
    centre = uv[n // 2, n // 2, 0]
    uv[..., 0] = centre + (uv[..., 0] - centre + 0.5) % 1.0 - 0.5
    mx, my = _grid_lookup(size, n)
    uv = cv2.remap(uv.astype(np.float32), mx, my, cv2.INTER_LINEAR)
    h, w = env.background.shape[:2]
    mx = (uv[..., 0] * w - 0.5) % w
    my = np.clip(uv[..., 1] * h - 0.5, 0, h - 1)
    bg = cv2.remap(env.background, mx, my, cv2.INTER_LINEAR, cv2.BORDER_WRAP)
    return bg * np.float32(exposure)
