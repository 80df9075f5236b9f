"""Mesh geometry shared by the scene, the registration and the cards: vertex normals, nearest
points on triangles, similarity fits. Plain numpy/scipy, no rendering."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree


def vertex_normals(v: np.ndarray, tris: np.ndarray) -> np.ndarray:
    fn = np.cross(v[tris[:, 1]] - v[tris[:, 0]], v[tris[:, 2]] - v[tris[:, 0]])
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, tris[:, k], fn)
    return n / (np.linalg.norm(n, axis=1, keepdims=True) + 1e-12)


def closest_points(
    tris: np.ndarray, pts: np.ndarray, k: int = 12, pt_normals: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For each point, the nearest of ``tris`` (F, 3, 3) and the barycentric weights of the
    nearest point on it. Candidates are the ``k`` triangles with the nearest centroids; each is
    solved exactly (projection clamped onto the triangle's edges). With ``pt_normals``, triangles
    facing away from a point's normal are skipped: the inside of the lips is near the outside
    but is not the same surface."""
    tree = cKDTree(tris.mean(1))
    tri_n = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    _, cand = tree.query(pts, k=min(k, len(tris)))
    cand = cand.reshape(len(pts), -1)
    best_d = np.full(len(pts), np.inf)
    best_t = np.zeros(len(pts), np.int64)
    best_b = np.zeros((len(pts), 3))
    for j in range(cand.shape[1]):
        t = cand[:, j]
        b = _closest_on_triangle(tris[t], pts)
        q = np.einsum("nk,nkd->nd", b, tris[t])
        d = np.linalg.norm(q - pts, axis=1)
        if pt_normals is not None:
            d[(tri_n[t] * pt_normals).sum(1) <= 0] = np.inf
        better = d < best_d
        best_d[better], best_t[better], best_b[better] = d[better], t[better], b[better]
    return best_t, best_b


def _closest_on_triangle(tri: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Barycentric weights of the point of each triangle nearest to each p (vectorised)."""
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    ab, ac = b - a, c - a
    n = np.cross(ab, ac)
    nn = np.maximum((n * n).sum(1), 1e-20)
    ap = p - a
    # barycentrics of the projection onto the plane
    v = (np.cross(ap, ac) * n).sum(1) / nn
    w = (np.cross(ab, ap) * n).sum(1) / nn
    u = 1 - v - w
    bary = np.stack([u, v, w], 1)
    inside = (bary >= 0).all(1)
    if inside.all():
        return bary
    # outside: the nearest point is on one of the three edges
    best = np.full(len(p), np.inf)
    out = bary.copy()
    for i, j in ((0, 1), (1, 2), (2, 0)):
        e0, e1 = tri[:, i], tri[:, j]
        e = e1 - e0
        s = np.clip(((p - e0) * e).sum(1) / np.maximum((e * e).sum(1), 1e-20), 0, 1)
        q = e0 + s[:, None] * e
        d = ((q - p) ** 2).sum(1)
        better = (d < best) & ~inside
        bb = np.zeros((len(p), 3))
        bb[np.arange(len(p)), i] = 1 - s
        bb[np.arange(len(p)), j] += s
        out[better] = bb[better]
        best = np.where(better, d, best)
    return out


def umeyama(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity (scale, rotation, translation) taking ``src`` onto ``dst`` in least squares,
    for points of any dimension (rows); a reflection is never chosen."""
    ms, md = src.mean(0), dst.mean(0)
    a, b = src - ms, dst - md
    u, s, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.eye(src.shape[1])
    d[-1, -1] = np.sign(np.linalg.det(u @ vt))
    r = u @ d @ vt
    scale = float((s * np.diag(d)).sum() / (a * a).sum() * len(src))
    return scale, r, md - scale * r @ ms
