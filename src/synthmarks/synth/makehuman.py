"""Readers for MakeHuman's CC0 assets: the hm08 base mesh, proxy meshes and ``.mhclo`` bindings.

MakeHuman's skins are painted in the UV layout of its base mesh (hm08) and every proxy (hair,
eyebrow and eyelash cards) is tied to that mesh by an ``.mhclo`` file: each proxy vertex is a
weighted sum of three base-mesh vertices plus an offset. :mod:`synthmarks.synth.register` maps the
base mesh onto the ICT-FaceKit head, after which skins and proxies follow. Units are MakeHuman's
decimetres; y is up, +z out of the face, +x the subject's left (as in ICT-FaceKit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synthmarks.errors import SynthmarksError


@dataclass
class ObjMesh:
    """A triangulated OBJ: positions, texture coordinates and per-corner indices into both."""

    v: np.ndarray  # (V, 3) float64
    vt: np.ndarray  # (T, 2) float64, v = 0 at the bottom of the image (OBJ convention)
    tri_v: np.ndarray  # (F, 3) int64 into v
    tri_vt: np.ndarray  # (F, 3) int64 into vt (-1 where the file gives none)
    tri_group: np.ndarray  # (F,) int64 into groups
    groups: list[str] = field(default_factory=list)

    def group_vertices(self, prefix: str) -> np.ndarray:
        """Indices of the vertices used by faces of groups whose name starts with ``prefix``."""
        gid = [i for i, g in enumerate(self.groups) if g.startswith(prefix)]
        return np.unique(self.tri_v[np.isin(self.tri_group, gid)])


def read_obj(path: str | Path) -> ObjMesh:
    """Read positions, UVs, faces (fan-triangulated) and groups; materials are ignored."""
    v, vt, tv, tt, tg = [], [], [], [], []
    groups: list[str] = ["default"]
    g = 0
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        raise SynthmarksError(f"{path}: cannot read ({exc.strerror})") from None
    for line in text.splitlines():
        if line.startswith("v "):
            v.append([float(x) for x in line.split()[1:4]])
        elif line.startswith("vt "):
            vt.append([float(x) for x in line.split()[1:3]])
        elif line.startswith("g "):
            name = line[2:].strip()
            if name not in groups:
                groups.append(name)
            g = groups.index(name)
        elif line.startswith("f "):
            corners = [c.split("/") for c in line.split()[1:]]
            pi = [int(c[0]) - 1 for c in corners]
            ti = [int(c[1]) - 1 if len(c) > 1 and c[1] else -1 for c in corners]
            for k in range(1, len(corners) - 1):
                tv.append([pi[0], pi[k], pi[k + 1]])
                tt.append([ti[0], ti[k], ti[k + 1]])
                tg.append(g)
    if not v or not tv:
        raise SynthmarksError(f"{path}: not a mesh (no vertices or faces)")
    return ObjMesh(
        np.asarray(v, np.float64),
        np.asarray(vt, np.float64).reshape(-1, 2),
        np.asarray(tv, np.int64),
        np.asarray(tt, np.int64),
        np.asarray(tg, np.int64),
        groups,
    )


@dataclass
class Binding:
    """An ``.mhclo`` binding: proxy vertex i = sum_k weights[i, k] * base[refs[i, k]] + offset."""

    refs: np.ndarray  # (N, 3) int64 base-mesh vertex indices
    weights: np.ndarray  # (N, 3)
    offsets: np.ndarray  # (N, 3) in the reference frame, scaled by ``scales`` per axis
    #: per axis (x, y, z): (vertex a, vertex b, reference distance) — the offset scale is the
    #: actual distance between a and b along that axis over the reference distance
    scales: list[tuple[int, int, float]]
    obj_file: str
    material: str

    def apply(self, base: np.ndarray) -> np.ndarray:
        """Proxy vertex positions on a base mesh (the reference base gives the proxy as made)."""
        s = np.array(
            [abs(base[a, k] - base[b, k]) / ref for k, (a, b, ref) in enumerate(self.scales)]
        )
        return np.einsum("nk,nkd->nd", self.weights, base[self.refs]) + self.offsets * s


def read_mhclo(path: str | Path) -> Binding:
    """Parse the header keys MakeHuman writes (obj_file, material, x/y/z_scale) and the vertex
    table after ``verts 0``. Single-reference lines (``v`` alone) bind a vertex rigidly."""
    path = Path(path)
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise SynthmarksError(f"{path}: cannot read ({exc.strerror})") from None
    head: dict[str, list[str]] = {}
    rows: list[list[float]] = []
    in_verts = False
    for line in lines:
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        numeric = parts[0].lstrip("-").isdigit()
        if not numeric:
            head[parts[0]] = parts[1:]  # header keys may also follow the table (material ...)
            if parts[0] == "verts":
                in_verts = True
            elif parts[0].endswith("_verts"):  # delete_verts: a list, not bindings
                in_verts = False
        elif in_verts and len(parts) == 9:
            rows.append([float(x) for x in parts])
        elif in_verts and len(parts) == 1:
            rows.append([float(parts[0])] * 3 + [1.0, 0.0, 0.0] + [0.0, 0.0, 0.0])
    if not rows or not all(k in head for k in ("x_scale", "y_scale", "z_scale", "obj_file")):
        raise SynthmarksError(f"{path}: not a MakeHuman .mhclo file")
    t = np.asarray(rows)
    scales = []
    for key in ("x_scale", "y_scale", "z_scale"):
        a, b, ref = head[key][:3]
        scales.append((int(a), int(b), float(ref)))
    return Binding(
        t[:, :3].astype(np.int64),
        t[:, 3:6],
        t[:, 6:9],
        scales,
        head["obj_file"][0],
        head.get("material", [""])[0],
    )
