"""Video sources as users name them: a camera index, a file, a URL or a device path.

Checked before OpenCV sees them: OpenCV segfaults on some bad sources (a negative camera index)
and logs noise for others; here each bad one is one clear error.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from synthmarks.errors import SynthmarksError


def parse_source(spec: str | int | Path) -> int | str:
    """A camera index (int) or a path/URL string, checked; raises on a source that cannot be."""
    text = str(spec).strip()
    if text.lstrip("+-").isdigit():
        index = int(text)
        if index < 0:
            raise SynthmarksError(f"camera index {index}: must be 0 or more")
        return index
    if "://" in text:
        return text
    path = Path(text).expanduser()
    if not path.exists():
        what = "video device" if text.startswith("/dev/") else "video file"
        raise SynthmarksError(f"{text}: no such {what}")
    if path.is_dir():
        raise SynthmarksError(f"{text}: is a folder, not a video")
    return str(path)


def open_source(spec: str | int | Path) -> cv2.VideoCapture:
    """An opened capture for ``spec`` (see :func:`parse_source`), or a one-line error."""
    source = parse_source(spec)
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # our error says it all
    try:
        cap = cv2.VideoCapture(source)
    finally:
        cv2.utils.logging.setLogLevel(level)
    if not cap.isOpened():
        if isinstance(source, int):
            raise SynthmarksError(f"no camera at index {source}")
        raise SynthmarksError(f"{source}: cannot be opened as a video")
    return cap


def is_file_source(spec: str | int | Path) -> bool:
    return isinstance(parse_source(spec), str) and Path(str(spec)).expanduser().is_file()
