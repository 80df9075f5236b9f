"""A headless OpenGL 3.3 context (moderngl on EGL): what the renderer and the UV-space bakes
draw with."""

from __future__ import annotations

from synthmarks.errors import SynthmarksError


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
