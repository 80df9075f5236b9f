"""Identity-free texture banks, built once per process, that the GLSL shaders mix per sample.

Nothing here depends on a sample: per-sample appearance (skin tone, make-up, hair colour, which
noise tile and offset) is a handful of shader uniforms, so no texture is synthesised on the CPU
while generating. What is built here:

* tileable noise (blotches, mid-frequency mottling, pores, freckle dots) and strand noise (hair);
* region masks in the face UV atlas (lips, brows, beard area, eye surround, cheeks, nose,
  eyelid margins), drawn from the UV positions of the 68 landmark vertices;
* the segmentation class atlas (Face Synthetics classes) for the skin-covered parts.

The UV atlas covers u in [0, 2): tile 0 is the face, tile 1 the back of the head and neck.
Arrays are in image orientation (row 0 is v = 1); the renderer flips them on upload.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from synthmarks.landmarks import BROW_LINES
from synthmarks.synth.facemodel import PART_NAMES, FaceModel

ATLAS_H = 512
ATLAS_W = 1024  # two UV tiles

# Face Synthetics classes
BACKGROUND, SKIN, NOSE, RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW = 0, 1, 2, 3, 4, 5, 6
RIGHT_EAR, LEFT_EAR, MOUTH, TOP_LIP, BOTTOM_LIP, NECK, HAIR, BEARD = 7, 8, 9, 10, 11, 12, 13, 14
CLOTHING, GLASSES, HEADWEAR, FACEWEAR, IGNORE = 15, 16, 17, 18, 255

#: Face Synthetics' left/right classes are named from the viewer's side: its ``left_eye`` (4) is
#: the eye of points 36-41, the subject's right eye, which is x < 0 in the ICT model.
SUBJECT_RIGHT_EYE_CLASS = LEFT_EYE
SUBJECT_LEFT_EYE_CLASS = RIGHT_EYE
SUBJECT_RIGHT_BROW_CLASS = LEFT_BROW
SUBJECT_LEFT_BROW_CLASS = RIGHT_BROW
SUBJECT_RIGHT_EAR_CLASS = LEFT_EAR
SUBJECT_LEFT_EAR_CLASS = RIGHT_EAR


def _periodic_noise(
    rng: np.random.Generator, n: int, lo: float, hi: float, aniso: float = 1.0
) -> np.ndarray:
    """Tileable band-limited noise (frequencies lo..hi cycles per tile), normalised to 0..1."""
    fy = np.fft.fftfreq(n)[:, None] * n
    fx = np.fft.fftfreq(n)[None, :] * n
    f = np.sqrt((fx * aniso) ** 2 + (fy / aniso) ** 2)
    amp = np.where((f >= lo) & (f <= hi), 1.0 / np.maximum(f, 1.0), 0.0)
    spec = amp * np.exp(2j * np.pi * rng.random((n, n)))
    img = np.real(np.fft.ifft2(spec))
    img = (img - img.mean()) / (img.std() + 1e-9)
    return np.clip(0.5 + img / 6.0, 0, 1)


def _dots(rng: np.random.Generator, n: int, count: int, rmin: float, rmax: float) -> np.ndarray:
    img = np.zeros((n, n), np.float32)
    for _ in range(count):
        x, y = rng.uniform(0, n, 2)
        r = rng.uniform(rmin, rmax)
        v = rng.uniform(0.4, 1.0)
        for dx in (-n, 0, n):  # wrap so the tile stays seamless
            for dy in (-n, 0, n):
                cv2.circle(
                    img, (int(x + dx), int(y + dy)), max(1, int(r)), float(v), -1, cv2.LINE_AA
                )
    return cv2.GaussianBlur(img, (0, 0), 0.8)


def noise_bank(n: int = 512, seed: int = 1234) -> np.ndarray:
    """(n, n, 4) uint8: R blotches, G mottling, B pores, A freckle/blemish dots."""
    rng = np.random.default_rng(seed)
    r = _periodic_noise(rng, n, 1.5, 10)
    g = _periodic_noise(rng, n, 10, 60)
    b = _periodic_noise(rng, n, 90, 256)
    a = _dots(rng, n, 900, 1.0, 3.0)
    return (np.stack([r, g, b, a], -1) * 255).astype(np.uint8)


def strand_bank(n: int = 512, seed: int = 99) -> np.ndarray:
    """(n, n, 4) uint8 anisotropic noise: fine strands (R, G) and coarse clumps (B), along y."""
    rng = np.random.default_rng(seed)
    r = _periodic_noise(rng, n, 20, 256, aniso=8.0)
    g = _periodic_noise(rng, n, 8, 120, aniso=5.0)
    b = _periodic_noise(rng, n, 2, 16, aniso=3.0)
    a = _periodic_noise(rng, n, 1, 8)
    return (np.stack([r, g, b, a], -1) * 255).astype(np.uint8)


@dataclass
class AtlasMaps:
    """Region masks and seg classes in the skin UV atlas (image orientation)."""

    masks1: np.ndarray  # (H, W, 4) uint8: lips, brow offset (0.5 = on the line), brow t, beard
    masks2: np.ndarray  # (H, W, 4) uint8: eye surround, cheeks, nose, eyelid margin
    classes: np.ndarray  # (H, W) uint8 Face Synthetics class
    cm_per_uv: float


def _landmark_uv(model: FaceModel) -> np.ndarray:
    first: dict[int, int] = {}
    for r, p in enumerate(model.render_pos_index.tolist()):
        first.setdefault(p, r)
    return np.array([model.render_uv[first[int(v)]] for v in model.landmarks], np.float64)


def landmark_atlas_px(model: FaceModel) -> np.ndarray:
    """(68, 2) atlas pixel positions of the landmark vertices (tile 0): where masks are drawn."""
    return _px(_landmark_uv(model))


def _px(uv: np.ndarray) -> np.ndarray:
    return np.stack([uv[..., 0] * ATLAS_H, (1.0 - uv[..., 1]) * ATLAS_H], -1)


def _poly(img: np.ndarray, pts: np.ndarray, value: float | int) -> None:
    cv2.fillPoly(img, [np.round(pts * 4).astype(np.int32)], value, cv2.LINE_AA, shift=2)


def _polyline_field(
    shape: tuple[int, int], line: np.ndarray, reach: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signed distance (positive above, i.e. smaller row), parameter t along ``line`` (0 at its
    first point, 1 at its last, extrapolated beyond) and the unsigned distance, in pixels."""
    h, w = shape
    x0, y0 = line.min(0) - reach
    x1, y1 = line.max(0) + reach
    xs, ys = np.meshgrid(
        np.arange(max(0, int(x0)), min(w, int(x1) + 1)),
        np.arange(max(0, int(y0)), min(h, int(y1) + 1)),
    )
    p = np.stack([xs, ys], -1).astype(np.float64) + 0.5
    seg_len = np.linalg.norm(np.diff(line, axis=0), axis=1)
    cum = np.concatenate([[0], np.cumsum(seg_len)])
    total = cum[-1]
    best = np.full(xs.shape, np.inf)
    sd = np.zeros(xs.shape)
    tt = np.zeros(xs.shape)
    for k in range(len(line) - 1):
        a, b = line[k], line[k + 1]
        ab = b - a
        s = ((p - a) @ ab) / (ab @ ab)
        first, last = k == 0, k == len(line) - 2
        s_cl = np.clip(s, -np.inf if first else 0, np.inf if last else 1)
        q = a + s_cl[..., None] * ab
        d = np.linalg.norm(p - q, axis=-1)
        cross = ab[0] * (p[..., 1] - a[1]) - ab[1] * (p[..., 0] - a[0])
        better = d < best
        best = np.where(better, d, best)
        sgn = -np.sign(cross) if ab[0] >= 0 else np.sign(cross)
        sd = np.where(better, sgn * d, sd)
        tt = np.where(better, (cum[k] + s_cl * seg_len[k]) / total, tt)
    full_sd = np.full(shape, 1e3)
    full_t = np.zeros(shape)
    sl = (slice(ys[0, 0], ys[-1, 0] + 1), slice(xs[0, 0], xs[0, -1] + 1))
    full_sd[sl] = sd
    full_t[sl] = tt
    return full_sd, full_t, np.abs(full_sd)


def build_atlas(model: FaceModel, vertices: np.ndarray | None = None) -> AtlasMaps:
    """Draw the region masks and class atlas from the landmark vertices' UVs."""
    v3 = model.neutral if vertices is None else vertices
    L = landmark_atlas_px(model)
    shape = (ATLAS_H, ATLAS_W)
    eye_dist_px = np.linalg.norm(L[45] - L[36])
    eye_dist_cm = float(np.linalg.norm(v3[model.landmarks[45]] - v3[model.landmarks[36]]))
    cm_per_px = eye_dist_cm / eye_dist_px
    cm_per_uv = cm_per_px * ATLAS_H

    # --- lips
    lips = np.zeros(shape, np.float32)
    _poly(lips, L[48:60], 1.0)
    lips = cv2.GaussianBlur(lips, (0, 0), 1.2)

    # --- brows: signed offset (cm) from the landmark line and t from inner (0) to outer (1) end
    brow_off = np.full(shape, 1e3)
    brow_t = np.zeros(shape)
    for idx in BROW_LINES:
        sd, t, d = _polyline_field(shape, L[idx], reach=40)
        closer = d < np.abs(brow_off)
        brow_off = np.where(closer, sd, brow_off)
        brow_t = np.where(closer, t, brow_t)
    brow_off_cm = brow_off * cm_per_px
    brow_enc = np.clip(0.5 + brow_off_cm / 4.0, 0, 1)  # +-2 cm range
    brow_t_enc = np.clip((brow_t + 0.25) / 1.5, 0, 1)

    # --- beard area: below a line ear -> cheek -> nose wing -> under the nose, minus the lips
    beard = np.zeros(shape, np.float32)
    cheek_r = 0.5 * (L[1] + L[31]) + [0, 0.1 * eye_dist_px]
    cheek_l = 0.5 * (L[15] + L[35]) + [0, 0.1 * eye_dist_px]
    under_nose = L[33] + [0, 0.12 * eye_dist_px]
    top = np.array(
        [
            L[0] + [0, 0.25 * eye_dist_px],
            cheek_r,
            L[31] + [0, 0.2 * eye_dist_px],
            under_nose,
            L[35] + [0, 0.2 * eye_dist_px],
            cheek_l,
            L[16] + [0, 0.25 * eye_dist_px],
        ]
    )
    bottom_y = ATLAS_H - 1
    outline = np.vstack([top, [[top[-1, 0], bottom_y], [top[0, 0], bottom_y]]])
    _poly(beard, outline, 1.0)
    lip_hole = np.zeros(shape, np.float32)
    _poly(lip_hole, L[48:60], 1.0)
    lip_hole = cv2.dilate(lip_hole, np.ones((3, 3), np.uint8))
    beard = np.clip(beard - lip_hole, 0, 1)
    beard = cv2.GaussianBlur(beard, (0, 0), 0.06 * eye_dist_px)

    # --- eye surround (eyeshadow), eyelid margins (eyeliner)
    surround = np.zeros(shape, np.float32)
    margin = np.zeros(shape, np.float32)
    for eye, brow in (
        (list(range(36, 42)), list(range(17, 22))),
        (list(range(42, 48)), list(range(22, 27))),
    ):
        upper = L[eye[:4]]
        br = L[brow][::-1] if eye[0] == 36 else L[brow][::-1]
        mid = 0.55 * upper.mean(0) + 0.45 * br.mean(0)
        poly = np.vstack(
            [
                upper,
                [
                    L[eye[3]] + (mid - upper.mean(0)) * 0.6,
                    mid,
                    L[eye[0]] + (mid - upper.mean(0)) * 0.6,
                ],
            ]
        )
        _poly(surround, poly, 1.0)
        cv2.polylines(
            margin,
            [np.round(L[eye] * 4).astype(np.int32)],
            True,
            1.0,
            max(1, int(0.03 * eye_dist_px)),
            cv2.LINE_AA,
            shift=2,
        )
    surround = cv2.GaussianBlur(surround, (0, 0), 0.08 * eye_dist_px)
    margin = cv2.GaussianBlur(margin, (0, 0), 0.6)

    # --- cheeks (blush), nose (redness and class)
    yy, xx = np.mgrid[0:ATLAS_H, 0:ATLAS_W].astype(np.float32)
    cheeks = np.zeros(shape, np.float32)
    for a, b in ((2, 31), (14, 35)):
        c = 0.55 * L[a] + 0.45 * L[b] - [0, 0.2 * eye_dist_px]
        cheeks += np.exp(-((xx - c[0]) ** 2 + (yy - c[1]) ** 2) / (2 * (0.22 * eye_dist_px) ** 2))
    half = 0.16 * eye_dist_px
    wing = 0.12 * eye_dist_px
    nose_poly = np.array(
        [
            L[27] + [-half, -0.05 * eye_dist_px],
            L[31] + [-wing, 0],
            L[31] + [0, 0.06 * eye_dist_px],
            L[33] + [0, 0.07 * eye_dist_px],
            L[35] + [0, 0.06 * eye_dist_px],
            L[35] + [wing, 0],
            L[27] + [half, -0.05 * eye_dist_px],
        ]
    )
    nose = np.zeros(shape, np.float32)
    _poly(nose, nose_poly, 1.0)
    nose_soft = cv2.GaussianBlur(nose, (0, 0), 0.05 * eye_dist_px)

    # --- classes
    classes = np.full(shape, SKIN, np.uint8)
    # neck: below the jaw line in tile 0, and the low part of tile 1 (from 3D height)
    jaw = L[2:15]
    neck_poly = np.vstack([jaw, [[jaw[-1, 0], bottom_y + 2], [jaw[0, 0], bottom_y + 2]]])
    cv2.fillPoly(classes, [np.round(neck_poly).astype(np.int32)], NECK)
    uv = model.render_uv
    tri = model.triangles
    part = model.triangle_part
    pos = v3[model.render_pos_index]
    cen = pos[tri].mean(1)
    head = part == PART_NAMES.index("head_neck")
    face = part == PART_NAMES.index("face")
    ear = (
        face
        & (np.abs(cen[:, 0]) > 6.2)
        & (cen[:, 1] > -3.5)
        & (cen[:, 1] < 5.5)
        & (cen[:, 2] < 3.8)
    )
    low_neck = head & (cen[:, 1] < -8.5) & (cen[:, 2] > -6.0)
    for mask, cls_fn in (
        (low_neck, lambda x: NECK),
        (ear, lambda x: SUBJECT_RIGHT_EAR_CLASS if x < 0 else SUBJECT_LEFT_EAR_CLASS),
    ):
        for t_i in np.flatnonzero(mask):
            pts = _px(uv[tri[t_i]])
            cv2.fillConvexPoly(
                classes,
                np.round(pts * 4).astype(np.int32),
                cls_fn(cen[t_i, 0]),
                cv2.LINE_8,
                shift=2,
            )
    classes[nose > 0.5] = NOSE
    top_lip = np.zeros(shape, np.float32)
    _poly(top_lip, np.vstack([L[48:55], L[[64, 63, 62, 61, 60]]]), 1.0)
    bottom_lip = np.zeros(shape, np.float32)
    _poly(bottom_lip, np.vstack([L[54:60], L[[48, 60, 67, 66, 65, 64]]]), 1.0)
    classes[bottom_lip > 0.5] = BOTTOM_LIP
    classes[top_lip > 0.5] = TOP_LIP

    def u8(a: np.ndarray) -> np.ndarray:
        return np.clip(a * 255 + 0.5, 0, 255).astype(np.uint8)

    masks1 = np.stack([u8(lips), u8(brow_enc), u8(brow_t_enc), u8(beard)], -1)
    masks2 = np.stack([u8(surround), u8(np.clip(cheeks, 0, 1)), u8(nose_soft), u8(margin)], -1)
    return AtlasMaps(masks1, masks2, classes, cm_per_uv)
