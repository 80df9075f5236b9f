"""The ICT Face Model Light: read it from its upstream forms once, then load a compact cache.

The upstream model is 160 OBJ files (about 390 MB unpacked). Parsing them takes seconds, so the
first use converts them into one uncompressed ``.npz`` (neutral mesh, identity and expression
deltas, UVs, triangles, part ranges, landmark vertices) that later runs memory-map in well under a
second. The cache key includes the source's path, size and mtime so a changed source is re-read.

Accepted sources: the ``FaceXModel`` folder (or a folder holding it), the GitHub zip archive of the
ICT-FaceKit repository (``ICT-FaceKit-master/FaceXModel/...``) and the ``.tar.xz`` that the
project's
shared folder holds (``FaceXModel/...`` plus ``README.md``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tarfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthmarks.errors import SynthmarksError
from synthmarks.fileio import atomic_path
from synthmarks.locate import default_cache_dir

#: Bumped whenever the cache layout or its derived arrays change.
CACHE_VERSION = 3

#: Public archive of the upstream repository (MIT licence), fetched only on explicit request.
DOWNLOAD_URL = "https://github.com/ICT-VGL/ICT-FaceKit/archive/refs/heads/master.zip"
DOWNLOAD_NAME = "ICT-FaceKit-master.zip"
SHARED_NAME = "ICT-FaceKit-FaceXModel.tar.xz"

NUM_VERTICES = 26719
NUM_IDENTITIES = 100

#: Vertex ranges [start, stop) of the model's geometry parts (the README's topology table).
PARTS: dict[str, tuple[int, int]] = {
    "face": (0, 9409),
    "head_neck": (9409, 11248),
    "mouth_socket": (11248, 13294),
    "eye_socket_left": (13294, 13678),
    "eye_socket_right": (13678, 14062),
    "gums_tongue": (14062, 17039),
    "teeth": (17039, 21451),
    "eyeball_left": (21451, 23021),
    "eyeball_right": (23021, 24591),
    "lacrimal_left": (24591, 24795),
    "lacrimal_right": (24795, 24999),
    "eye_blend_left": (24999, 25023),
    "eye_blend_right": (25023, 25047),
    "eye_occlusion_left": (25047, 25199),
    "eye_occlusion_right": (25199, 25351),
    "eyelashes_left": (25351, 26035),
    "eyelashes_right": (26035, 26719),
}
#: Iris vertex ranges inside the eyeballs (the README's eyeball table).
IRIS: dict[str, tuple[int, int]] = {"left": (22221, 23021), "right": (23791, 24591)}

#: Landmark vertices as listed in the README, used when the README is missing from a source.
README_LANDMARKS_FALLBACK_KEY = "idx_to_landmark_verts"


@dataclass
class FaceModel:
    """Arrays of the morphable model; positions in centimetres, y up, z towards the viewer.

    ``tri_pos`` indexes ``neutral`` (position vertices) while ``tri_uv`` indexes ``uv``; the
    renderer unifies the pairs into ``render_pos_index``/``render_uv`` once, so per sample only the
    blended positions are gathered.
    """

    neutral: np.ndarray  # (V, 3) float32
    identity: np.ndarray  # (100, V, 3) float32 deltas from neutral
    expression: np.ndarray  # (53, V, 3) float32 deltas from neutral
    expression_names: list[str]
    render_pos_index: np.ndarray  # (R,) int32: render vertex -> position vertex
    render_uv: np.ndarray  # (R, 2) float32
    triangles: np.ndarray  # (F, 3) int32 into render vertices
    triangle_part: np.ndarray  # (F,) int8 index into PART_NAMES
    landmarks: np.ndarray  # (68,) int64 vertex indices (iBUG order)
    jaw_right_ext: np.ndarray  # README's "right extended jawline" vertices
    jaw_left_ext: np.ndarray
    source: str
    #: The converted cache this model was loaded from (derived data may be cached beside it).
    cache_path: str = ""

    @property
    def num_vertices(self) -> int:
        return int(self.neutral.shape[0])

    def part_slice(self, name: str) -> slice:
        a, b = PARTS[name]
        return slice(a, b)

    def vertices(self, identity: np.ndarray, expression: np.ndarray) -> np.ndarray:
        """Blend the mesh: neutral + identity modes + (sparse) expression shapes."""
        n = self.neutral.size
        flat = identity.astype(np.float32) @ self.identity.reshape(len(self.identity), n)
        v = self.neutral + flat.reshape(-1, 3)
        for k in np.flatnonzero(expression):  # sparse mixes: a few shapes, no gather copy
            v += np.float32(expression[k]) * self.expression[k]
        return v


PART_NAMES: list[str] = list(PARTS)


# --------------------------------------------------------------------------------------------
# Locating the source
# --------------------------------------------------------------------------------------------


def find_face_model(path: str | os.PathLike | None = None, cache_dir: Path | None = None) -> Path:
    """Where the face model comes from: the flag, the environment, the shared folder, the cache.

    Raises :class:`SynthmarksError` with a one-line how-to when nothing is found.
    """
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise SynthmarksError(f"--face-model {p}: no such file or folder")
        return p
    env = os.environ.get("SYNTHMARKS_FACE_MODEL")
    if env:
        p = Path(env).expanduser()
        if not p.exists():
            raise SynthmarksError(f"SYNTHMARKS_FACE_MODEL={p}: no such file or folder")
        return p
    candidates = []
    shared = os.environ.get("SYNTHMARKS_SHARED")
    if shared:
        candidates.append(Path(shared).expanduser() / "assets" / SHARED_NAME)
    candidates.append(Path.cwd().parent / "shared" / "assets" / SHARED_NAME)
    cache = cache_dir or default_cache_dir()
    candidates += [cache / DOWNLOAD_NAME, cache / "FaceXModel"]
    for c in candidates:
        if c.exists():
            return c
    raise SynthmarksError(
        "the ICT Face Model was not found: pass --face-model PATH (FaceXModel folder, ICT-FaceKit "
        "zip or tar.xz), set SYNTHMARKS_FACE_MODEL, or run 'synthmarks synth --download-face-model'"
    )


def download_face_model(cache_dir: Path | None = None, url: str = DOWNLOAD_URL) -> Path:
    """Fetch the public ICT-FaceKit repository archive (MIT) into the cache; returns its path."""
    cache = cache_dir or default_cache_dir()
    dest = cache / DOWNLOAD_NAME
    if dest.exists() and zipfile.is_zipfile(dest):
        return dest
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, atomic_path(dest) as tmp:  # noqa: S310
            with open(tmp, "wb") as fh:
                while chunk := resp.read(1 << 20):
                    fh.write(chunk)
            if not zipfile.is_zipfile(tmp):
                raise SynthmarksError(f"{url}: the download is not a zip archive")
    except OSError as exc:
        raise SynthmarksError(f"could not download the ICT Face Model from {url}: {exc}") from exc
    return dest


# --------------------------------------------------------------------------------------------
# Reading the upstream forms
# --------------------------------------------------------------------------------------------


class _Source:
    """Uniform access to the model files (by base name) in a folder, zip or tar archive."""

    def __init__(self, path: Path):
        self.path = path
        self._files: dict[str, Callable[[], bytes]] = {}
        if path.is_dir():
            root = path / "FaceXModel" if (path / "FaceXModel").is_dir() else path
            for f in root.iterdir():
                self._files[f.name] = f.read_bytes
            for readme in (root / "README.md", root.parent / "README.md"):
                if readme.is_file():
                    self._files.setdefault("README.md", readme.read_bytes)
        elif zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            for name in self._zip.namelist():
                self._add_member(name, lambda n=name: self._zip.read(n))
        elif _is_tar(path):
            self._tar = tarfile.open(path)
            self._tar_data: dict[str, bytes] = {}
            for member in self._tar:  # one sequential pass: xz cannot seek cheaply
                if member.isfile() and self._wanted(member.name):
                    fh = self._tar.extractfile(member)
                    if fh is not None:
                        self._tar_data[member.name] = fh.read()
            for name in self._tar_data:
                self._add_member(name, lambda n=name: self._tar_data[n])
        else:
            raise SynthmarksError(f"{path}: not a FaceXModel folder, zip or tar archive")
        if "generic_neutral_mesh.obj" not in self._files:
            raise SynthmarksError(f"{path}: no FaceXModel/generic_neutral_mesh.obj inside")

    @staticmethod
    def _wanted(name: str) -> bool:
        parts = name.split("/")
        return ("FaceXModel" in parts[:-1] and not name.endswith("/")) or (
            parts[-1] == "README.md" and len(parts) <= 2
        )

    def _add_member(self, name: str, reader: Callable[[], bytes]) -> None:
        parts = name.split("/")
        if "FaceXModel" in parts[:-1] and parts[-1]:
            self._files[parts[-1]] = reader
        elif parts[-1] == "README.md" and len(parts) <= 2:
            self._files.setdefault("README.md", reader)

    def has(self, name: str) -> bool:
        return name in self._files

    def read(self, name: str) -> bytes:
        if name not in self._files:
            raise SynthmarksError(f"{self.path}: FaceXModel/{name} is missing")
        return self._files[name]()


def _is_tar(path: Path) -> bool:
    try:
        return path.is_file() and tarfile.is_tarfile(path)
    except (OSError, tarfile.TarError):
        return False


def _obj_vertices(data: bytes) -> np.ndarray:
    rows = [line[2:] for line in data.split(b"\n") if line.startswith(b"v ")]
    arr = np.array(b" ".join(rows).split(), dtype=np.float32)
    return arr.reshape(-1, 3)


def _obj_topology(data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """UVs, triangulated faces (position and UV indices) and each triangle's material index."""
    uvs: list[bytes] = []
    tri_p: list[tuple[int, int, int]] = []
    tri_t: list[tuple[int, int, int]] = []
    tri_m: list[int] = []
    materials: dict[bytes, int] = {}
    mat = -1
    for line in data.split(b"\n"):
        if line.startswith(b"vt "):
            uvs.append(line[3:])
        elif line.startswith(b"f "):
            corners = [c.split(b"/") for c in line[2:].split()]
            p = [int(c[0]) - 1 for c in corners]
            t = [int(c[1]) - 1 if len(c) > 1 and c[1] else int(c[0]) - 1 for c in corners]
            for k in range(1, len(corners) - 1):
                tri_p.append((p[0], p[k], p[k + 1]))
                tri_t.append((t[0], t[k], t[k + 1]))
                tri_m.append(mat)
        elif line.startswith(b"usemtl "):
            mat = materials.setdefault(line[7:].strip(), len(materials))
    uv = np.array(b" ".join(uvs).split(), dtype=np.float32).reshape(-1, 2)
    return uv, np.array(tri_p, np.int32), np.array(tri_t, np.int32), np.array(tri_m, np.int16)


def _readme_indices(readme: str, heading: str) -> np.ndarray | None:
    """The comma-separated index list that follows a heading line of the README."""
    m = re.search(re.escape(heading) + r"[^\n]*\n\s*\n?\s*([0-9,\s]+)", readme)
    if not m:
        return None
    return np.array([int(x) for x in re.findall(r"\d+", m.group(1))], dtype=np.int64)


def _convert(path: Path) -> dict[str, np.ndarray]:
    src = _Source(path)
    meta = json.loads(src.read("vertex_indices.json"))
    names = list(meta["expressions"])
    neutral = _obj_vertices(src.read("generic_neutral_mesh.obj"))
    if neutral.shape != (NUM_VERTICES, 3):
        raise SynthmarksError(
            f"{path}: neutral mesh has {len(neutral)} vertices, not {NUM_VERTICES}"
        )
    uv, tri_p, tri_t, _ = _obj_topology(src.read("generic_neutral_mesh.obj"))
    identity = np.empty((NUM_IDENTITIES, NUM_VERTICES, 3), np.float32)
    for i in range(NUM_IDENTITIES):
        identity[i] = _obj_vertices(src.read(f"identity{i:03d}.obj")) - neutral
    expression = np.empty((len(names), NUM_VERTICES, 3), np.float32)
    for i, n in enumerate(names):
        expression[i] = _obj_vertices(src.read(f"{n}.obj")) - neutral

    readme = src.read("README.md").decode("utf-8", "replace") if src.has("README.md") else ""
    landmarks = _readme_indices(readme, "Multi-PIE 68 point facial landmarks indices")
    if landmarks is None or len(landmarks) != 68:
        landmarks = np.array(meta[README_LANDMARKS_FALLBACK_KEY], dtype=np.int64)
    jaw_r = _readme_indices(readme, "Right extended jawline")
    jaw_l = _readme_indices(readme, "Left extended jawline")
    if jaw_r is None or jaw_l is None:  # README absent: the jaw landmarks themselves
        jaw_r, jaw_l = landmarks[0:8].copy(), landmarks[9:17][::-1].copy()

    # Unify (position, uv) pairs into render vertices.
    pairs = np.stack([tri_p.ravel(), tri_t.ravel()], 1)
    uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
    triangles = inverse.reshape(-1, 3).astype(np.int32)
    starts = np.array([a for a, _ in PARTS.values()])
    tri_part = (np.searchsorted(starts, tri_p[:, 0], side="right") - 1).astype(np.int8)
    return {
        "neutral": neutral,
        "identity": identity,
        "expression": expression,
        "expression_names": np.array(names),
        "render_pos_index": uniq[:, 0].astype(np.int32),
        "render_uv": uv[uniq[:, 1]],
        "triangles": triangles,
        "triangle_part": tri_part,
        "landmarks": landmarks,
        "jaw_right_ext": jaw_r,
        "jaw_left_ext": jaw_l,
        "source": np.array(str(path)),
    }


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------


def cache_path_for(source: Path, cache_dir: Path | None = None) -> Path:
    """Cache file for ``source``: keyed by resolved path, size, mtime and the cache version."""
    st = source.stat()
    size = st.st_size
    mtime = st.st_mtime_ns
    if source.is_dir():  # a folder's own mtime misses edits to files inside
        root = source / "FaceXModel" if (source / "FaceXModel").is_dir() else source
        files = sorted(root.glob("*.obj"))
        size = sum(f.stat().st_size for f in files)
        mtime = max((f.stat().st_mtime_ns for f in files), default=mtime)
    key = f"{source.resolve()}|{size}|{mtime}|{CACHE_VERSION}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    return (cache_dir or default_cache_dir()) / f"ict-facemodel-{digest}.npz"


_LOADED: dict[Path, FaceModel] = {}


def load_face_model(
    path: str | os.PathLike | None = None,
    cache_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> FaceModel:
    """Load the face model, converting the upstream files into the cache on first use."""
    source = find_face_model(path, cache_dir)
    cache = cache_path_for(source, cache_dir)
    if cache in _LOADED:
        return _LOADED[cache]
    if not cache.exists():
        if progress:
            progress(f"converting the ICT Face Model from {source} (once) into {cache}")
        try:
            arrays = _convert(source)
        except (OSError, zipfile.BadZipFile, tarfile.TarError, KeyError, ValueError) as exc:
            raise SynthmarksError(f"{source}: cannot read the ICT Face Model ({exc})") from exc
        with atomic_path(cache) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
    try:
        z = np.load(cache, mmap_mode="r")
        model = _from_arrays(dict(z.items()))
        model.cache_path = str(cache)
    except (OSError, ValueError, KeyError) as exc:
        raise SynthmarksError(
            f"{cache}: corrupt face model cache, delete it and retry ({exc})"
        ) from exc
    _LOADED[cache] = model
    return model


def _from_arrays(z: dict[str, np.ndarray]) -> FaceModel:
    return FaceModel(
        neutral=np.asarray(z["neutral"], np.float32),
        identity=np.asarray(z["identity"], np.float32),
        expression=np.asarray(z["expression"], np.float32),
        expression_names=[str(s) for s in z["expression_names"]],
        render_pos_index=np.asarray(z["render_pos_index"], np.int32),
        render_uv=np.asarray(z["render_uv"], np.float32),
        triangles=np.asarray(z["triangles"], np.int32),
        triangle_part=np.asarray(z["triangle_part"], np.int8),
        landmarks=np.asarray(z["landmarks"], np.int64),
        jaw_right_ext=np.asarray(z["jaw_right_ext"], np.int64),
        jaw_left_ext=np.asarray(z["jaw_left_ext"], np.int64),
        source=str(z["source"]),
    )


__all__ = [
    "FaceModel",
    "PARTS",
    "PART_NAMES",
    "IRIS",
    "default_cache_dir",
    "find_face_model",
    "download_face_model",
    "load_face_model",
    "cache_path_for",
]
