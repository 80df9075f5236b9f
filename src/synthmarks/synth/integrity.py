"""Is a finished-looking sample really whole? Cheap checks that a resume runs on every sample.

A resume must not trust a file just because its name is there: a disk that filled up, a copy cut
short or a file replaced by hand leaves a sample whose four names exist and whose bytes are wrong.
Each check reads only what it needs (a PNG's header and last chunk, one small JSON, one text file),
so checking 60,000 samples costs seconds, not a re-decode of every image.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the IEND chunk: length 0, type, CRC
NUM_ROWS = 70


def png_problem(path: Path, size: int) -> str | None:
    """A PNG whose signature, size (IHDR) or final IEND chunk is wrong, or None."""
    try:
        with path.open("rb") as f:
            head = f.read(24)
            f.seek(0, 2)
            if f.tell() < len(PNG_END) + 24:
                return "truncated"
            f.seek(-len(PNG_END), 2)
            tail = f.read()
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    if head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        return "not a PNG"
    w, h = struct.unpack(">II", head[16:24])
    if (w, h) != (size, size):
        return f"{w}x{h} pixels, not {size}x{size}"
    if tail != PNG_END:
        return "truncated"
    return None


def meta_problem(path: Path) -> str | None:
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return "not valid JSON"
    if not isinstance(meta, dict) or not isinstance(meta.get("params"), dict):
        return "no parameter record"
    return None


def ldmks_problem(path: Path) -> str | None:
    try:
        rows = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
        values = [float(v) for row in rows for v in row]
    except (OSError, UnicodeDecodeError, ValueError):
        return "unreadable rows"
    if len(rows) != NUM_ROWS or any(len(r) != 2 for r in rows):
        return f"{len(rows)} rows, not {NUM_ROWS} 'x y' rows"
    if not all(math.isfinite(v) for v in values):
        return "non-finite coordinate"
    return None


def sample_problem(folder: Path, index: int, size: int) -> str | None:
    """What is wrong with sample ``index`` of a synth folder (first problem found), or None."""
    stem = folder / f"{index:06d}"
    checks = (
        (".png", lambda p: png_problem(p, size)),
        ("_seg.png", lambda p: png_problem(p, size)),
        ("_meta.json", meta_problem),
        ("_ldmks.txt", ldmks_problem),
    )
    for suffix, check in checks:
        why = check(Path(f"{stem}{suffix}"))
        if why:
            return f"{stem.name}{suffix}: {why}"
    return None
