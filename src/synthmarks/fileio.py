"""Atomic writes: a file exists whole or not at all, so interrupted jobs never leave torn files.

Also the checks every command runs on its output paths before it starts working, so that a bad
``--out`` costs one line and no lost work: see :func:`prepare_out_dir` and
:func:`prepare_out_file`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from synthmarks.errors import SynthmarksError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; finished files get normal modes
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Strict JSON: NaN and infinities (which ``json`` would write as bare, invalid tokens) are
    written as null, so every reader can parse the file."""
    text = json.dumps(_finite(obj), indent=2, default=_json_default, allow_nan=False)
    write_text(path, text + "\n")


def write_image(path: str | os.PathLike, image_rgb: np.ndarray) -> None:
    """Write an RGB (or single-channel) uint8 image; the extension picks the codec."""
    path = Path(path)
    img = image_rgb if image_rgb.ndim == 2 else cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(path.suffix or ".png", img)
    if not ok:
        raise OSError(f"could not encode image for {path}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.tobytes())


def prepare_out_dir(path: str | os.PathLike, flag: str) -> Path:
    """Create the output folder ``path`` and prove it writable by writing a file there now."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise SynthmarksError(f"{flag} {path}: exists and is not a folder")
    why = _unwritable(path)
    if why:
        raise SynthmarksError(f"{flag} {path}: cannot write there ({why})")
    return path


def prepare_out_file(
    path: str | os.PathLike, flag: str, inputs: tuple[str | os.PathLike | None, ...] = ()
) -> Path:
    """Check that the output file ``path`` can be written (its folder is made if needed) and
    is none of ``inputs``: an output written over its own input would destroy it."""
    path = Path(path)
    if path.is_dir():
        raise SynthmarksError(f"{flag} {path}: is a folder; give a file name")
    for src in inputs:
        if src is not None and same_file(path, src):
            raise SynthmarksError(f"{flag} {path}: is an input of this command; not overwriting it")
    why = _unwritable(path.parent)
    if why:
        raise SynthmarksError(f"{flag} {path}: cannot write in {path.parent} ({why})")
    return path


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """The same file, through links and relative paths included (for files that may not exist)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def _unwritable(folder: Path) -> str | None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def _finite(o: Any) -> Any:
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_finite(v) for v in o]
    if isinstance(o, np.ndarray):
        return _finite(o.tolist())
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
