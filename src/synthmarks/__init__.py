"""synthmarks: 68-point facial landmarks learned from synthetic faces alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from synthmarks.version import __version__

if TYPE_CHECKING:
    from synthmarks.infer.landmarker import Face, Landmarker

__all__ = ["Face", "Landmarker", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `synthmarks --help` and light modules don't pay for torch/onnxruntime imports.
    if name in ("Landmarker", "Face"):
        from synthmarks.infer import landmarker

        return getattr(landmarker, name)
    raise AttributeError(f"module 'synthmarks' has no attribute {name!r}")
