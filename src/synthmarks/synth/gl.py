"""Mesh and OpenGL helpers that depend on nothing else of synth: the scene, the renderer and the
registration of the MakeHuman head all use them, so they live below all three (no import cycle)."""

from __future__ import annotations

import numpy as np

from synthmarks.errors import SynthmarksError


def vertex_normals(v: np.ndarray, tris: np.ndarray) -> np.ndarray:
    fn = np.cross(v[tris[:, 1]] - v[tris[:, 0]], v[tris[:, 2]] - v[tris[:, 0]])
    n = np.zeros_like(v)
    for k in range(3):
        np.add.at(n, tris[:, k], fn)
    return n / (np.linalg.norm(n, axis=1, keepdims=True) + 1e-12)


def create_context():
    """A headless OpenGL 3.3 context: EGL first (Mesa llvmpipe or a GPU), else the default."""
    import moderngl

    errors = []
    for kw in ({"backend": "egl"}, {}):
        try:
            return moderngl.create_standalone_context(require=330, **kw)
        except Exception as exc:  # moderngl raises plain Exception for a missing backend
            errors.append(f"{kw or 'default'}: {exc}")
    raise SynthmarksError("no OpenGL 3.3 context (tried EGL and the default): " + "; ".join(errors))
