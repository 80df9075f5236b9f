"""Landmark results as JSON records and CSV rows (one row per face)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from synthmarks.landmarks import NUM_POINTS

CSV_HEADER = ["source", "frame", "face", "x0", "y0", "x1", "y1", "score", "confidence"] + [
    f"{a}{i}" for i in range(NUM_POINTS) for a in ("x", "y")
]


def face_record(face: Any) -> dict[str, Any]:
    rec = {
        "box": [round(float(v), 2) for v in face.box],
        "score": round(float(face.score), 4),
        "confidence": round(float(face.confidence), 4),
        "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in face.landmarks],
    }
    if hasattr(face, "track_id"):
        rec["track_id"] = int(face.track_id)
    return rec


def csv_rows(source: str, frame: int, faces: Sequence[Any]) -> list[list[Any]]:
    rows = []
    for i, f in enumerate(faces):
        row: list[Any] = [source, frame, getattr(f, "track_id", i)]
        row += [round(float(v), 2) for v in f.box] + [
            round(float(f.score), 4),
            round(float(f.confidence), 4),
        ]
        row += [round(float(v), 2) for v in f.landmarks.ravel()]
        rows.append(row)
    return rows
