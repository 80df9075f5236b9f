"""MakeHuman's hair, eyebrow and eyelash cards, carried onto the ICT head.

A card set (one hair style, one eyebrow shape, one lash set) is an OBJ of textured quads whose
texture alpha is strand coverage, tied to hm08 by its ``.mhclo``. Placed on the registered hm08
(:mod:`synthmarks.synth.register`), each card vertex is then bound to the ICT skin triangle
nearest to it: its offset from that triangle is kept in the triangle's own frame (edge, normal,
their cross product), so on every sample the card follows the deformed, posed head exactly as the
skin under it moves (identity, expression, pose), and the neutral head reproduces the card as
MakeHuman made it. Cards are shaded with the normal of the skin under them: hair lit like the
scalp it lies on, not like a flat quad.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from synthmarks.fileio import atomic_path
from synthmarks.synth.facemodel import FaceModel
from synthmarks.synth.geometry import closest_points
from synthmarks.synth.makehuman import read_mhclo, read_obj
from synthmarks.synth.register import Registration, _ict_head

#: Bumped whenever a card binding changes.
CARDS_VERSION = 1
#: Card textures are stored at most this wide (the hair textures are 2048 px).
MAX_TEXTURE = 1024


@dataclass
class CardSet:
    """One proxy bound to ICT's head."""

    kind: str  # hair, eyebrows, eyelashes
    name: str
    tri: np.ndarray  # (N, 3) ICT position-vertex indices of each card vertex's skin triangle
    bary: np.ndarray  # (N, 3) nearest point's barycentric weights
    local: np.ndarray  # (N, 3) offset in the triangle's frame (edge, normal x edge, normal)
    neutral: np.ndarray  # (N, 3) position on ICT's neutral head (cm)
    uv: np.ndarray  # (N, 2) texture coordinates (OpenGL: v up)
    tris: np.ndarray  # (F, 3) uint32 card triangles
    texture: np.ndarray  # (H, W, 4) uint8 RGBA, colour premultiplied by nothing (straight)
    mean_colour: np.ndarray  # (3,) linear mean colour of the covered texels


def triangle_frames(v: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """(N, 3, 3) orthonormal frames (rows: edge, normal x edge, normal) of triangles ``tri``."""
    a, b, c = v[tri[:, 0]], v[tri[:, 1]], v[tri[:, 2]]
    e = b - a
    e /= np.linalg.norm(e, axis=1, keepdims=True) + 1e-12
    n = np.cross(b - a, c - a)
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    return np.stack([e, np.cross(n, e), n], 1)


def bind(model: FaceModel, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(triangle, barycentric, local offset) of each point relative to ICT's neutral skin."""
    iv, itri = _ict_head(model)
    k, b = closest_points(iv[itri], points, k=16)
    tri = itri[k]
    base = np.einsum("nk,nkd->nd", b, iv[tri])
    local = np.einsum("nij,nj->ni", triangle_frames(iv, tri), points - base)
    return tri.astype(np.int64), b.astype(np.float32), local.astype(np.float32)


def place(vertices: np.ndarray, card: CardSet) -> np.ndarray:
    """Card vertex positions on a deformed head (``vertices``: ICT position vertices)."""
    base = np.einsum("nk,nkd->nd", card.bary, vertices[card.tri])
    return base + np.einsum("nij,ni->nj", triangle_frames(vertices, card.tri), card.local)


def _texture(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None or img.ndim != 3 or img.shape[2] != 4:
        raise ValueError(f"{path}: not an RGBA texture")
    rgba = img[..., [2, 1, 0, 3]]
    if rgba.shape[1] > MAX_TEXTURE:
        # shrink with premultiplied alpha, so transparent texels do not darken strand edges
        a = rgba[..., 3:].astype(np.float32) / 255.0
        prem = np.concatenate([rgba[..., :3] * a, a * 255.0], -1)
        k = MAX_TEXTURE / rgba.shape[1]
        small = cv2.resize(prem, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
        al = small[..., 3:] / 255.0
        rgba = np.concatenate([small[..., :3] / np.maximum(al, 1e-3), small[..., 3:]], -1)
        rgba = np.clip(rgba, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(rgba)


def _texture_file(folder: Path, name: str) -> Path | None:
    for cand in (f"{name}_diffuse.png", f"{name}.png"):
        if (folder / cand).exists():
            return folder / cand
    return None


def load_cards(
    model: FaceModel, reg: Registration, assets: Path, kind: str, names: tuple[str, ...]
) -> list[CardSet]:
    """The textured card sets of one kind found in the assets (those without a texture, like
    MakeHuman's afro01 whose texture is not public, are skipped), bound to ICT's head."""
    out = []
    root = Path(model.cache_path).parent if model.cache_path else None
    for name in names:
        folder = assets / "makehuman/proxies" / kind / name
        tex_path = _texture_file(folder, name)
        if tex_path is None or not (folder / f"{name}.mhclo").exists():
            continue
        binding = read_mhclo(folder / f"{name}.mhclo")
        mesh = read_obj(folder / binding.obj_file)
        pts = binding.apply(reg.mh_warped.astype(np.float64))
        key = f"{CARDS_VERSION}|{model.cache_path}|{float(reg.mh_warped.sum()):.6f}|{kind}/{name}"
        cache = root / f"cards_{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz" if root else None
        if cache is not None and cache.is_file():
            with np.load(cache) as z:
                tri, bary, local = z["tri"], z["bary"], z["local"]
        else:
            tri, bary, local = bind(model, pts)
            if cache is not None:
                try:
                    with atomic_path(cache) as tmp, open(tmp, "wb") as fh:
                        np.savez(fh, tri=tri, bary=bary, local=local)
                except OSError:
                    pass
        # one UV per vertex: the OBJ may give a vertex several; cards use the first
        uv = np.zeros((len(pts), 2), np.float32)
        uv[mesh.tri_v.ravel()] = mesh.vt[mesh.tri_vt.ravel()]
        tex = _texture(tex_path)
        cov = tex[..., 3] > 128
        lin = (tex[..., :3][cov].astype(np.float32) / 255.0) ** 2.2
        out.append(
            CardSet(
                kind,
                name,
                tri,
                bary,
                local,
                pts.astype(np.float32),
                uv,
                mesh.tri_v.astype(np.uint32),
                tex,
                lin.mean(0) if len(lin) else np.full(3, 0.1, np.float32),
            )
        )
    return out


def brow_centre_offsets(card: CardSet, model: FaceModel, samples: int = 6) -> np.ndarray:
    """(10,) height (cm, + up, on the neutral head) of an eyebrow card's middle above each of
    landmarks 17-26: where the ``centre`` brow convention puts the points on this card.

    The card's covered part (texture alpha >= 0.5) is sampled on a barycentric grid of every
    triangle; the middle at a landmark is the mean height of the samples within 4 mm of it
    across the face (its own side); a landmark beyond the card's end takes the nearest one's."""
    g = (
        np.array([(i, j) for i in range(samples + 1) for j in range(samples + 1 - i)], np.float64)
        / samples
    )
    bary = np.stack([g[:, 0], g[:, 1], 1 - g[:, 0] - g[:, 1]], 1)
    tri = card.tris.astype(np.int64)
    pts = np.einsum("kc,tcd->tkd", bary, card.neutral[tri].astype(np.float64)).reshape(-1, 3)
    uv = np.einsum("kc,tcd->tkd", bary, card.uv[tri].astype(np.float64)).reshape(-1, 2)
    h, w = card.texture.shape[:2]
    col = np.clip((uv[:, 0] * w).astype(int), 0, w - 1)
    row = np.clip(((1 - uv[:, 1]) * h).astype(int), 0, h - 1)
    covered = pts[card.texture[row, col, 3] >= 128]
    lm = model.neutral[model.landmarks[17:27]].astype(np.float64)
    out = np.full(10, np.nan)
    for j, p in enumerate(lm):
        near = covered[
            (np.abs(covered[:, 0] - p[0]) < 0.4) & (np.sign(covered[:, 0]) == np.sign(p[0]))
        ]
        if len(near):
            out[j] = near[:, 1].mean() - p[1]
    for side in (range(0, 5), range(5, 10)):  # fill the ends from the nearest known point
        idx = np.array(side)
        known = idx[np.isfinite(out[idx])]
        if len(known) == 0:
            out[idx] = 0.0
            continue
        for j in idx[~np.isfinite(out[idx])]:
            out[j] = out[known[np.argmin(np.abs(known - j))]]
    return out
