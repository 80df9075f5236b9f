"""Dataset readers: Face Synthetics layout, iBUG .pts (300-W family) and AFLW2000-3D .mat.

All return :class:`Sample` lists with points in the OpenCV pixel convention (integer coordinates
are pixel centres, origin at the top-left pixel's centre). Every label file is checked (point
count, finite coordinates, points inside or near their image) and a bad one raises
:class:`SynthmarksError` naming the file and what is wrong, because a silent skip or a NaN would
bias every metric computed on it. ``load_dataset(..., bad=[])`` collects the bad files instead, so
``eval`` can name them all and score the rest.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from synthmarks.data.sample import Sample
from synthmarks.errors import SynthmarksError
from synthmarks.landmarks import JAW_POINTS, NUM_POINTS, NUM_POINTS_WITH_PUPILS
from synthmarks.pose import generator_to_aflw

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".JPG", ".PNG")
FORMATS = ("facesynthetics", "pts", "aflw2000")

#: iBUG .pts files count pixels from 1 (MATLAB); subtracting this gives OpenCV's convention.
PTS_ORIGIN = 1.0

#: how far outside its image a label may lie, as a fraction of the image's longer side: faces cut
#: by the border have points outside (a synthetic face of face_scale 1.5 reaches 0.37 out); a
#: point further out is a wrong label (another image's, a unit or scale error)
NEAR_IMAGE = 0.5


def find_files(root: Path, pattern: str) -> Iterator[Path]:
    """Files under ``root`` whose names match ``pattern``, following links to folders: a folder
    of links to render folders (``seed16 -> ../v3r7_seed16``, one per shard or seed) reads as
    their union without copying a face. A folder reached twice (a link loop, or two links to one
    folder) is read once, under the first of its names in sorted order."""
    seen: set[str] = set()
    for folder, dirs, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            dirs.clear()
            continue
        seen.add(real)
        dirs.sort()  # walked in name order, so which name a twice-linked folder keeps is fixed
        for name in fnmatch.filter(names, pattern):
            yield Path(folder) / name


def detect_format(root: Path) -> str:
    """Guess a folder's format from the annotation files it holds."""
    if next(find_files(root, "*_ldmks.txt"), None) is not None:
        return "facesynthetics"
    if next(find_files(root, "*.pts"), None) is not None:
        return "pts"
    if next(find_files(root, "*.mat"), None) is not None:
        return "aflw2000"
    raise SynthmarksError(
        f"{root}: no annotations found (expected *_ldmks.txt, *.pts or *.mat files)"
    )


def load_dataset(
    path: str | Path,
    format: str | None = None,
    limit: int | None = None,
    bad: list[tuple[Path, str]] | None = None,
    rotate: float = 0.0,
    start: int = 0,
) -> list[Sample]:
    """Read every labelled face under ``path`` (a folder, searched recursively, links to folders
    followed: :func:`find_files`), in file-name order; ``start`` and ``limit`` take the slice
    ``[start, start + limit)`` of that order.

    A bad label file raises :class:`SynthmarksError`; if ``bad`` is a list, each bad file is
    appended to it as (file, message) and left out instead. ``rotate`` turns every face (image
    and points) that many degrees counter-clockwise (:meth:`Sample.rotated`): rolled copies of
    a benchmark without writing any files.
    """
    if not np.isfinite(rotate):
        raise SynthmarksError(f"rotate must be a finite angle in degrees, got {rotate}")
    root = Path(path)
    if not root.exists():
        raise SynthmarksError(f"{root}: no such file or directory")
    if not root.is_dir():
        raise SynthmarksError(f"{root}: expected a dataset folder")
    fmt = format or detect_format(root)
    if fmt not in READERS:
        raise SynthmarksError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    pattern, read_one = READERS[fmt]
    files = sorted(find_files(root, pattern))
    if not files:
        raise SynthmarksError(f"{root}: no {pattern} annotation files for format {fmt!r}")
    files = files[start:] if limit is None else files[start : start + limit]
    if not files:
        raise SynthmarksError(f"{root}: no annotation files from number {start} on")
    samples = []
    for f in files:
        try:
            samples.append(check_labels(read_one(f), f))
        except SynthmarksError as exc:
            if bad is None:
                raise
            bad.append((f, str(exc)))
    return [s.rotated(rotate) for s in samples] if rotate % 360 else samples


def check_labels(sample: Sample, annotation: Path) -> Sample:
    """``sample`` if its points are finite and inside or near its image, else an error."""
    p = sample.points
    nonfinite = np.nonzero(~np.isfinite(p).all(axis=1))[0]
    if len(nonfinite):
        raise SynthmarksError(
            f"{annotation}: {len(nonfinite)} point(s) not finite (NaN or inf), "
            f"first point {nonfinite[0] + 1}"
        )
    if sample.pose is not None and not np.isfinite(sample.pose).all():
        raise SynthmarksError(f"{annotation}: pose is not finite (NaN or inf)")
    w, h = image_size(sample.image_path)
    margin = NEAR_IMAGE * max(w, h)
    far = np.nonzero(((p < -margin) | (p > np.array([w, h]) + margin)).any(axis=1))[0]
    if len(far):
        x, y = p[far[0]]
        raise SynthmarksError(
            f"{annotation}: {len(far)} point(s) far outside the {w}x{h} image, first point "
            f"{far[0] + 1} at ({x:.0f}, {y:.0f})"
        )
    return sample


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) from the image file's header, without decoding the pixels."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, UnidentifiedImageError, ValueError):
        raise SynthmarksError(f"{path}: not a readable image") from None


def read_facesynthetics(ldmks_path: Path) -> Sample:
    """``NNNNNN_ldmks.txt`` (70 rows "x y") beside ``NNNNNN.png`` and ``NNNNNN_seg.png``.

    An optional ``NNNNNN_meta.json`` (written by ``synthmarks synth``) adds pose (converted from
    the generator's rotation order to AFLW2000-3D's, :func:`synthmarks.pose.generator_to_aflw`),
    visibility and both jaw conventions (``jaws``).
    """
    stem = ldmks_path.name[: -len("_ldmks.txt")]
    image_path = ldmks_path.with_name(stem + ".png")
    points = _load_rows(ldmks_path)
    if len(points) not in (NUM_POINTS, NUM_POINTS_WITH_PUPILS):
        raise SynthmarksError(f"{ldmks_path}: expected 70 (or 68) points, found {len(points)}")
    _require_image(image_path, ldmks_path)
    seg_path = ldmks_path.with_name(stem + "_seg.png")
    pose = visibility = jaws = None
    meta_path = ldmks_path.with_name(stem + "_meta.json")
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text())
        except (OSError, ValueError) as exc:
            raise SynthmarksError(f"{meta_path}: unreadable metadata ({exc})") from None
        if "pose_deg" in meta:
            pose = generator_to_aflw(np.asarray(meta["pose_deg"], dtype=np.float64))
        if "visibility" in meta:
            visibility = np.asarray(meta["visibility"], dtype=bool)[: len(points)]
        if "jaws" in meta:
            try:
                jaws = {k: np.asarray(meta["jaws"][k], np.float32) for k in ("xray", "outline")}
            except (KeyError, TypeError, ValueError):
                raise SynthmarksError(f"{meta_path}: malformed 'jaws'") from None
            if any(v.shape != (JAW_POINTS, 2) for v in jaws.values()):
                raise SynthmarksError(f"{meta_path}: 'jaws' must hold 17 points per convention")
    seg = seg_path if seg_path.is_file() else None
    return Sample(image_path, points, pose, visibility, seg, jaws)


def read_pts(pts_path: Path) -> Sample:
    """An iBUG ``.pts`` file (``version``, ``n_points``, ``{``, rows, ``}``) beside its image."""
    try:
        lines = [ln.strip() for ln in pts_path.read_text().splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise SynthmarksError(f"{pts_path}: unreadable ({exc})") from None
    header = {}
    rows: list[str] = []
    in_body = False
    for ln in lines:
        if ln == "{":
            in_body = True
        elif ln == "}":
            in_body = False
        elif in_body:
            rows.append(ln)
        elif ":" in ln:
            key, value = ln.split(":", 1)
            header[key.strip()] = value.strip()
    try:
        points = np.array([[float(v) for v in r.split()] for r in rows], dtype=np.float32)
    except ValueError:
        raise SynthmarksError(f"{pts_path}: malformed point row (expected two numbers)") from None
    if points.ndim != 2 or points.shape[1:] != (2,) or len(points) != NUM_POINTS:
        raise SynthmarksError(f"{pts_path}: expected 68 points, found {len(points)}")
    declared = header.get("n_points")
    if declared is not None and declared != str(len(points)):
        raise SynthmarksError(f"{pts_path}: header says {declared} points, file has {len(points)}")
    image_path = _find_image_beside(pts_path)
    return Sample(image_path, points - PTS_ORIGIN)


def read_aflw2000(mat_path: Path) -> Sample:
    """AFLW2000-3D: ``pt3d_68`` (3 x 68: x, y, z), ``Pose_Para`` (pitch, yaw, roll, radians)."""
    from scipy.io import loadmat

    try:
        mat = loadmat(str(mat_path))
    except Exception as exc:  # scipy raises several unrelated types for a bad file
        raise SynthmarksError(f"{mat_path}: not a readable .mat file ({exc})") from None
    if "pt3d_68" not in mat:
        raise SynthmarksError(f"{mat_path}: no pt3d_68 field (is this an AFLW2000-3D annotation?)")
    pt = np.asarray(mat["pt3d_68"], dtype=np.float32)
    if pt.shape[0] < 2 or pt.shape[-1] != NUM_POINTS:
        raise SynthmarksError(f"{mat_path}: pt3d_68 has shape {pt.shape}, expected (3, 68)")
    points = np.ascontiguousarray(pt[:2].T)
    pose = None
    if "Pose_Para" in mat:
        pose = np.degrees(np.asarray(mat["Pose_Para"], dtype=np.float32).ravel()[:3])
    image_path = _find_image_beside(mat_path)
    return Sample(image_path, points, pose)


READERS: dict[str, tuple[str, Callable[[Path], Sample]]] = {
    "facesynthetics": ("*_ldmks.txt", read_facesynthetics),
    "pts": ("*.pts", read_pts),
    "aflw2000": ("*.mat", read_aflw2000),
}


def _load_rows(path: Path) -> np.ndarray:
    try:
        rows = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
        points = np.array([[float(a), float(b)] for a, b in rows], dtype=np.float32)
    except (OSError, UnicodeDecodeError) as exc:
        raise SynthmarksError(f"{path}: unreadable ({exc})") from None
    except ValueError:
        raise SynthmarksError(f"{path}: malformed row (expected 'x y' per line)") from None
    return points.reshape(-1, 2)


def _find_image_beside(annotation: Path) -> Path:
    for suffix in IMAGE_SUFFIXES:
        candidate = annotation.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    raise SynthmarksError(
        f"{annotation}: no image beside it (looked for {', '.join(IMAGE_SUFFIXES[:5])})"
    )


def _require_image(image_path: Path, annotation: Path) -> None:
    if not image_path.is_file():
        raise SynthmarksError(f"{annotation}: its image {image_path.name} is missing")
