"""MediaPipe Face Mesh as a 68-point iBUG landmarker: running the mesh on a face crop, and the
fitted map from its 468 vertices to the 68 iBUG points.

MediaPipe's mesh is a topology, not a landmark scheme: no vertex is defined to *be* iBUG point 17
or the x-ray jaw point 8. Published 468 -> 68 tables are hand-picked on frontal faces and disagree
with each other, so the map is fitted here on faces whose 68 points are known exactly, the
synthetic faces of ``synthmarks synth``: for every iBUG point, the vertex (or convex combination
of two or three neighbouring vertices, weights by least squares) with the smallest mean
box-normalised error. Synthetic labels use the x-ray jaw convention, as AFLW2000-3D does, and the
mesh's 2-D coordinates are the projection of a full 3-D face, hidden side included, so the fit
lands the jaw on the matching part of the mesh rather than on the visible outline.

The fitted map ships as ``assets/mediapipe_to_ibug68.json``; refit with::

    synthmarks synth --out /tmp/mpfit --count 2000 --seed 7 --jaw-convention xray
    python -m synthmarks.eval.mediapipe_map --data /tmp/mpfit \\
        --out src/synthmarks/assets/mediapipe_to_ibug68.json

Only the map itself (``load_mapping``, ``Mapping``) works without mediapipe; running the mesh needs
the separate compare environment (``make compare-env``, see docs/comparison.md) because
mediapipe 0.10.21, the last release with its models inside the wheel, needs numpy < 2.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthmarks.errors import SynthmarksError
from synthmarks.landmarks import NUM_POINTS, bounding_box

#: the packaged map, fitted with this module's ``main`` on synthetic faces (see the file's "note").
PACKAGED = Path(__file__).resolve().parent.parent / "assets" / "mediapipe_to_ibug68.json"

#: vertices of the face mesh proper; refine_landmarks adds 10 iris points (468-477), which are
#: no iBUG point and so are never candidates.
MESH_VERTICES = 468
MESH_VERTICES_REFINED = 478
FORMAT = "synthmarks mediapipe-to-ibug68 v1"

#: the crop the mesh gets unless a map file says otherwise: a square 1.75x the longer side of the
#: landmark box (the forehead, above the box, stays in; the face still fills the frame that
#: MediaPipe's short-range detector expects), resampled to 256 px.
DEFAULT_CROP_SCALE = 1.75
DEFAULT_CROP_SIZE = 256


@dataclass(frozen=True)
class Mapping:
    """68 fixed convex combinations of mesh vertices, one per iBUG point."""

    vertices: tuple[tuple[int, ...], ...]
    weights: tuple[tuple[float, ...], ...]
    crop_scale: float = DEFAULT_CROP_SCALE
    crop_size: int = DEFAULT_CROP_SIZE

    def __post_init__(self) -> None:
        if len(self.vertices) != NUM_POINTS or len(self.weights) != NUM_POINTS:
            raise SynthmarksError(
                f"a mesh map needs {NUM_POINTS} entries, got "
                f"{len(self.vertices)} vertex lists and {len(self.weights)} "
                "weight lists"
            )
        for k, (v, w) in enumerate(zip(self.vertices, self.weights, strict=True)):
            if not v or len(v) != len(w):
                raise SynthmarksError(f"mesh map point {k}: {len(v)} vertices, {len(w)} weights")
            if not all(0 <= i < MESH_VERTICES_REFINED for i in v):
                raise SynthmarksError(f"mesh map point {k}: vertex index out of range in {v}")
            if abs(sum(w) - 1.0) > 1e-3 or min(w) < 0:
                raise SynthmarksError(
                    f"mesh map point {k}: weights {w} are not a convex combination (>= 0, sum 1)"
                )
        if self.crop_scale <= 0 or self.crop_size < 32:
            raise SynthmarksError(
                f"mesh map crop {self.crop_scale}x / {self.crop_size} px is not usable"
            )

    def matrix(self, num_vertices: int = MESH_VERTICES_REFINED) -> np.ndarray:
        """(68, num_vertices) weights, so that ``matrix @ mesh`` gives the 68 points."""
        m = np.zeros((NUM_POINTS, num_vertices), np.float64)
        for k, (v, w) in enumerate(zip(self.vertices, self.weights, strict=True)):
            m[k, list(v)] = w
        return m

    def apply(self, mesh: np.ndarray) -> np.ndarray:
        """(..., V, 2) mesh vertices -> (..., 68, 2) iBUG points (NaN rows stay NaN)."""
        mesh = np.asarray(mesh, dtype=np.float64)
        return np.einsum("kv,...vc->...kc", self.matrix(mesh.shape[-2]), mesh).astype(np.float32)


def load_mapping(path: str | Path | None = None) -> Mapping:
    """The map stored at ``path`` (default: the packaged one), validated."""
    path = Path(path) if path is not None else PACKAGED
    if not path.is_file():
        raise SynthmarksError(f"{path}: MediaPipe-to-iBUG map not found")
    try:
        data = json.loads(path.read_text())
        points = sorted(data["points"], key=lambda p: p["ibug"])
        crop = data.get("crop", {})
        mapping = Mapping(
            vertices=tuple(tuple(int(i) for i in p["vertices"]) for p in points),
            weights=tuple(tuple(float(w) for w in p["weights"]) for p in points),
            crop_scale=float(crop.get("scale", DEFAULT_CROP_SCALE)),
            crop_size=int(crop.get("size", DEFAULT_CROP_SIZE)),
        )
    except (ValueError, KeyError, TypeError) as e:
        raise SynthmarksError(f"{path}: not a MediaPipe-to-iBUG map ({e})") from e
    if [p["ibug"] for p in points] != list(range(NUM_POINTS)):
        raise SynthmarksError(f"{path}: the map must list iBUG points 0-{NUM_POINTS - 1} once each")
    return mapping


class FaceMeshRunner:
    """The legacy ``mediapipe.solutions.face_mesh`` graph run on one face crop at a time.

    static_image_mode: every crop is an unrelated face, so tracking from the previous one would
    be wrong. The crop is the one synthmarks models get (a square around the landmark box, see
    :func:`synthmarks.data.crop.box_crop_matrix`); MediaPipe's own face detector then runs inside
    it, and when it finds nothing there is no mesh.
    """

    def __init__(
        self,
        crop_scale: float = DEFAULT_CROP_SCALE,
        crop_size: int = DEFAULT_CROP_SIZE,
        refine_landmarks: bool = True,
    ) -> None:
        try:
            from mediapipe.python.solutions import face_mesh
        except ImportError as e:
            raise SynthmarksError(
                "MediaPipe Face Mesh needs mediapipe==0.10.21 (later releases ship no legacy "
                f"solutions or models); use the compare environment: make compare-env ({e})"
            ) from e
        self.crop_scale = crop_scale
        self.crop_size = crop_size
        self._graph = face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=refine_landmarks
        )

    def run(self, image: np.ndarray, box: np.ndarray) -> np.ndarray | None:
        """(V, 2) mesh vertices in image pixels for the face in ``box``, or None if MediaPipe
        found no face in the crop."""
        from synthmarks.data.crop import apply, box_crop_matrix, invert, warp

        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise SynthmarksError(
                f"MediaPipe needs RGB uint8 (H, W, 3) images, got {image.dtype} {image.shape}"
            )
        matrix = box_crop_matrix(box, self.crop_size, self.crop_scale)
        crop = np.ascontiguousarray(warp(image, matrix, self.crop_size))
        result = self._graph.process(crop)
        if not result.multi_face_landmarks:
            return None
        marks = result.multi_face_landmarks[0].landmark
        # normalised to the crop's edges, so pixel centres sit at p * size - 0.5 (crop.py)
        pts = np.array([(p.x, p.y) for p in marks], np.float64) * self.crop_size - 0.5
        return apply(invert(matrix), pts)

    def close(self) -> None:
        self._graph.close()


# --------------------------------------------------------------------------------------------
# fitting


@dataclass
class PointFit:
    """The chosen combination for one iBUG point and its mean box-normalised error."""

    vertices: tuple[int, ...]
    weights: tuple[float, ...]
    nme: float


def _convex_weights(cands: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """Least-squares weights (sum 1) of the candidate vertices for the target, or None when the
    optimum needs a negative weight: then a subset is at least as good, and it is tried too.

    cands (N, m, 2), target (N, 2), both already divided by each face's box size.
    """
    m = cands.shape[1]
    if m == 1:
        return np.ones(1)
    # substitute w_last = 1 - sum(others): unconstrained least squares in m - 1 unknowns
    base = cands[:, -1]
    a = (cands[:, :-1] - base[:, None]).transpose(0, 2, 1).reshape(-1, m - 1)
    b = (target - base).reshape(-1)
    w, *_ = np.linalg.lstsq(a, b, rcond=None)
    w = np.append(w, 1.0 - w.sum())
    return w if w.min() >= 0 else None


def fit_point(
    meshes: np.ndarray,
    target: np.ndarray,
    max_vertices: int = 3,
    candidates: int = 10,
    min_gain: float = 0.01,
) -> PointFit:
    """Best vertex combination for one iBUG point.

    meshes (N, V, 2) and target (N, 2) in box-normalised coordinates. Single vertices are ranked
    by mean error; combinations of up to ``max_vertices`` of the ``candidates`` best are fitted and
    kept only if they beat the best smaller one by ``min_gain`` (relative), so a point stays a
    plain vertex unless blending clearly helps.
    """
    single = np.linalg.norm(meshes - target[:, None], axis=-1).mean(axis=0)  # (V,)
    order = np.argsort(single)[:candidates]
    best = PointFit((int(order[0]),), (1.0,), float(single[order[0]]))
    for size in range(2, max_vertices + 1):
        best_here = best
        for combo in itertools.combinations(order.tolist(), size):
            w = _convex_weights(meshes[:, combo], target)
            if w is None:
                continue
            err = float(
                np.linalg.norm(np.einsum("nmc,m->nc", meshes[:, combo], w) - target, axis=-1).mean()
            )
            if err < best_here.nme:
                best_here = PointFit(tuple(combo), tuple(float(x) for x in w), err)
        if best_here.nme < best.nme * (1 - min_gain):
            best = best_here
    return best


def _rounded(fit: PointFit, decimals: int = 4) -> PointFit:
    """Weights rounded for the file, still summing to 1; vertices whose weight rounds to 0 drop."""
    pairs = [(v, round(w, decimals)) for v, w in zip(fit.vertices, fit.weights, strict=True)]
    pairs = [(v, w) for v, w in pairs if w > 0]
    total = sum(w for _, w in pairs)
    pairs = sorted(((v, round(w / total, decimals)) for v, w in pairs), key=lambda p: -p[1])
    fix = round(1.0 - sum(w for _, w in pairs), decimals)
    pairs[0] = (pairs[0][0], round(pairs[0][1] + fix, decimals))
    return PointFit(tuple(v for v, _ in pairs), tuple(w for _, w in pairs), fit.nme)


def normalise(points: np.ndarray, gts: np.ndarray) -> np.ndarray:
    """(N, K, 2) points -> box-normalised coordinates of each face's ground-truth landmark box:
    offset from the box centre divided by sqrt(w * h), the evaluation's NME normaliser."""
    boxes = np.stack([bounding_box(g) for g in gts]).astype(np.float64)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    size = np.sqrt(np.prod(np.maximum(boxes[:, 2:] - boxes[:, :2], 1e-6), axis=1))
    return (points - centre[:, None]) / size[:, None, None]


def collect_meshes(
    data: list[Path],
    limit: int | None,
    crop_scale: float,
    crop_size: int,
) -> tuple[np.ndarray, np.ndarray, int, list[dict[str, Any]]]:
    """Run the mesh on every face of the datasets: (meshes (N, 468, 2), ground truths (N, 68, 2),
    faces tried, provenance of each dataset). Faces without a mesh are left out."""
    from tqdm import tqdm

    from synthmarks.data.readers import load_dataset

    runner = FaceMeshRunner(crop_scale, crop_size)
    meshes, gts, tried, sources = [], [], 0, []
    try:
        for root in data:
            samples = load_dataset(root, limit=limit)
            found = 0
            for s in tqdm(samples, desc=f"face mesh {root.name}", unit="face", leave=False):
                gt = s.points[:NUM_POINTS].astype(np.float64)
                mesh = runner.run(s.load_image(), bounding_box(gt))
                if mesh is not None:
                    meshes.append(mesh[:MESH_VERTICES])
                    gts.append(gt)
                    found += 1
            tried += len(samples)
            sources.append(
                {"data": str(root), "faces": len(samples), "meshes": found}
                | _synth_provenance(root)
            )
    finally:
        runner.close()
    if not meshes:
        raise SynthmarksError("MediaPipe found no face in any crop; nothing to fit")
    return np.stack(meshes), np.stack(gts), tried, sources


def _synth_provenance(root: Path) -> dict[str, Any]:
    """Seed and jaw convention of a ``synthmarks synth`` folder (its synth_run.json)."""
    run = root / "synth_run.json"
    if not run.is_file():
        return {}
    info = json.loads(run.read_text())
    return {
        "seed": info.get("seed"),
        "jaw_convention": info.get("config", {}).get("jaw_convention"),
    }


def fit_mapping(
    meshes: np.ndarray, gts: np.ndarray, max_vertices: int = 3, candidates: int = 10
) -> list[PointFit]:
    """One :class:`PointFit` per iBUG point, fitted on (N, 468, 2) meshes and (N, 68, 2) truths in
    image pixels."""
    nm, ng = normalise(meshes, gts), normalise(gts, gts)
    return [_rounded(fit_point(nm, ng[:, k], max_vertices, candidates)) for k in range(NUM_POINTS)]


def box_nme(pred: np.ndarray, gts: np.ndarray) -> np.ndarray:
    """(N,) box NME of each face, exactly as ``synthmarks eval`` scores it."""
    from synthmarks.eval.metrics import nme

    return nme(pred, gts, "box")


def _face_oval() -> set[int]:
    """Vertices of MediaPipe's face-outline ring, to say in the file which jaw points sit on it."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_FACE_OVAL

    return {v for edge in FACEMESH_FACE_OVAL for v in edge}


def main(argv: list[str] | None = None) -> int:
    """``python -m synthmarks.eval.mediapipe_map --data DIR --out FILE``: refit the map."""
    p = argparse.ArgumentParser(
        prog="python -m synthmarks.eval.mediapipe_map", description=__doc__.split("\n\n")[0]
    )
    p.add_argument(
        "--data",
        type=Path,
        action="append",
        required=True,
        help="folder made by `synthmarks synth` (repeatable)",
    )
    p.add_argument("--out", type=Path, required=True, help="JSON file to write")
    p.add_argument(
        "--check",
        type=Path,
        action="append",
        default=[],
        help="held-out synthetic folder scored with the fitted map (repeatable)",
    )
    p.add_argument("--limit", type=int, help="use only the first N faces of each folder")
    p.add_argument("--max-vertices", type=int, default=3, choices=[1, 2, 3])
    p.add_argument("--crop-scale", type=float, default=DEFAULT_CROP_SCALE)
    p.add_argument("--crop-size", type=int, default=DEFAULT_CROP_SIZE)
    p.add_argument(
        "--any-data",
        action="store_true",
        help="allow folders not made by `synthmarks synth` (never the dev split, "
        "which is for measuring, nor Face Synthetics, which is non-commercial)",
    )
    args = p.parse_args(argv)
    try:
        for root in args.data:
            if not args.any_data and not (root / "synth_run.json").is_file():
                raise SynthmarksError(
                    f"{root}: not made by `synthmarks synth` (no synth_run.json);"
                    " fit on synthetic faces, or pass --any-data"
                )
        meshes, gts, tried, sources = collect_meshes(
            args.data, args.limit, args.crop_scale, args.crop_size
        )
        fits = fit_mapping(meshes, gts, args.max_vertices)
        mapping = Mapping(
            tuple(f.vertices for f in fits),
            tuple(f.weights for f in fits),
            args.crop_scale,
            args.crop_size,
        )
        fit_err = box_nme(mapping.apply(meshes), gts)
        single = fit_mapping(meshes, gts, max_vertices=1)
        single_err = box_nme(
            Mapping(tuple(f.vertices for f in single), tuple(f.weights for f in single)).apply(
                meshes
            ),
            gts,
        )
        checks = []
        for root in args.check:
            cm, cg, ctried, csrc = collect_meshes(
                [root], args.limit, args.crop_scale, args.crop_size
            )
            err = box_nme(mapping.apply(cm), cg)
            checks.append(
                csrc[0]
                | {
                    "box_nme_mean": round(float(err.mean()), 5),
                    "box_nme_median": round(float(np.median(err)), 5),
                }
            )
        oval = _face_oval()
    except SynthmarksError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    doc = {
        "format": FORMAT,
        "mesh": "MediaPipe Face Mesh, legacy solution of mediapipe 0.10.21, "
        "static_image_mode=True, refine_landmarks=True",
        "crop": {"scale": args.crop_scale, "size": args.crop_size},
        "note": (
            "Each iBUG point is a convex combination (weights >= 0, sum 1) of 1-3 of the 468 "
            "mesh vertices, chosen for the smallest mean box-normalised error (NME divided "
            "by sqrt(w*h) of the true landmark box) on synthetic faces with exact x-ray "
            "68-point labels; combinations of the 10 best single vertices were fitted by "
            "least squares and kept only when they cut the point's error by >1 %. "
            "Not fitted on any real benchmark. Refit: python -m synthmarks.eval.mediapipe_map "
            "--data DIR --out FILE."
        ),
        "fitted_on": {"sources": sources, "faces": tried, "meshes": int(len(meshes))},
        "fit_error": {
            "box_nme_mean": round(float(fit_err.mean()), 5),
            "box_nme_median": round(float(np.median(fit_err)), 5),
            "single_vertex_box_nme_mean": round(float(single_err.mean()), 5),
        },
        "held_out": checks,
        "points": [
            {
                "ibug": k,
                "vertices": list(f.vertices),
                "weights": list(f.weights),
                "fit_nme": round(f.nme, 5),
                "on_face_oval": all(v in oval for v in f.vertices),
            }
            for k, f in enumerate(fits)
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(
        f"meshes on {len(meshes)} of {tried} faces; box NME on the fitting set "
        f"{100 * fit_err.mean():.2f} % (single vertices {100 * single_err.mean():.2f} %)"
    )
    for c in checks:
        print(
            f"held out {c['data']}: meshes on {c['meshes']} of {c['faces']} faces, "
            f"box NME {100 * c['box_nme_mean']:.2f} %"
        )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
