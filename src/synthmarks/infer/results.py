"""One result schema for ``predict`` and ``video``: a JSON record per face, a CSV row per face.

Every face carries the same fields wherever it comes from: ``box`` is the tight box of its 68
landmarks, ``score`` the face detector's face score in [0, 1] (the same scale for every
detector), ``confidence`` the landmark model's mean per-point confidence, ``point_confidence``
the 68 of them, and ``pose`` (pitch, yaw, roll in degrees) when the model predicts it. Each
image or video also names its size and the model (name and version) that made the points.
CSV column names are unique, so ``csv.DictReader`` keeps every one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from synthmarks.landmarks import NUM_POINTS

POSE = ("pitch", "yaw", "roll")
CSV_HEADER = (
    ["source", "frame", "face", "width", "height", "model", "model_version"]
    + ["box_x0", "box_y0", "box_x1", "box_y1", "score", "confidence", *POSE]
    + [f"{a}{i}" for i in range(NUM_POINTS) for a in ("x", "y")]
    + [f"c{i}" for i in range(NUM_POINTS)]
)


def _r(values: Any, digits: int) -> list[float]:
    return [round(float(v), digits) for v in values]


def face_record(face: Any, index: int) -> dict[str, Any]:
    """A face as JSON: ``face`` is its index in the image, or its track id in a video."""
    pose = getattr(face, "pose", None)
    conf = getattr(face, "point_confidence", None)
    return {
        "face": int(getattr(face, "track_id", index)),
        "box": _r(face.box, 2),
        "score": round(float(face.score), 4),
        "confidence": round(float(face.confidence), 4),
        "landmarks": [_r(p, 2) for p in face.landmarks],
        "point_confidence": None if conf is None else _r(conf, 4),
        "pose": None if pose is None else dict(zip(POSE, _r(pose, 2), strict=True)),
    }


def model_fields(landmarker: Any) -> dict[str, str]:
    return {"model": landmarker.name, "model_version": landmarker.version}


def image_record(
    source: str, size: tuple[int, int], faces: Sequence[Any], model: dict[str, str]
) -> dict[str, Any]:
    """One image (or frame): its size (width, height), the model, and its faces."""
    return {
        "source": source,
        "width": int(size[0]),
        "height": int(size[1]),
        **model,
        "faces": [face_record(f, i) for i, f in enumerate(faces)],
    }


def csv_rows(record: dict[str, Any], frame: int = 0) -> list[list[Any]]:
    """CSV rows (in :data:`CSV_HEADER` order) of an :func:`image_record`."""
    head = [record["source"], frame]
    size_model = [record["width"], record["height"], record["model"], record["model_version"]]
    rows = []
    for f in record["faces"]:
        pose = f["pose"] or {}
        conf = f["point_confidence"] or [""] * NUM_POINTS
        row = [*head, f["face"], *size_model, *f["box"], f["score"], f["confidence"]]
        row += [pose.get(k, "") for k in POSE]
        row += [v for p in f["landmarks"] for v in p] + list(conf)
        rows.append(row)
    return rows


def write_csv(path: str | Path, rows: list[list[Any]]) -> None:
    from synthmarks.fileio import write_text

    buf = io.StringIO()
    csv.writer(buf).writerows([CSV_HEADER, *rows])
    write_text(path, buf.getvalue())
