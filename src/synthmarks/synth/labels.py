"""Landmark labels from the rendered scene: projection, visibility, jaw and brow conventions.

``xray`` (the default; Face Synthetics' convention and AFLW2000-3D's, whose points project a fitted
3-D face) projects the 68 landmark vertices and the two rendered pupil centres wherever they are,
hidden or not. ``outline`` follows 300-W's human annotators: each jaw point slides to the visible
face outline (landmark marching), so far-side jaw points sit on the cheek's silhouette.
docs/experiments.md measures the two on AFLW2000-3D (x-ray is 0.33 points better).
``outline_jaw`` says where the outline runs: ``silhouette`` also takes points 4-12 out across
the jaw to its lower edge as the camera sees it, short of the neck, where 300-W's annotators draw
the chin and jaw; ``even`` (the default) is that outline with points 1-7 and 9-15 spaced evenly
along it between 0, 8 and 16, as the 68-point mark-up spaces them (ICT's fixed vertices, marched
to the edge, crowd points 4-5 and 11-12 towards the chin); ``lines`` marches along horizontal
lines towards the midline only, which leaves a frontal face's lower jaw on ICT's vertices on the
front of the chin, 0.5-1 cm higher (sets made before).
Where an x-ray jaw point lies in depth is a definition no photograph shows. ``xray_jaw`` says
which: ``3dmm`` (the default since it was measured) puts the 17 points where 3-D morphable models
do, as AFLW2000-3D's labels put them (:data:`XRAY_JAW_3DMM_CM`); ``mesh``, ICT-FaceKit's own jaw
landmark vertices, on the front of the cheek, which sets made before carry; ``raised``, the
``3dmm`` points lifted by :data:`XRAY_JAW_RAISE_CM`, to the height at which AFLW2000-3D's
near-frontal labels put them, and ``matched``, lifted by :data:`XRAY_JAW_MATCHED_CM`, that
height compared at the same pitch (experiments: docs/experiments.md, "The x-ray jaw's height").
The brow convention says where the 10 eyebrow points sit across the painted brow: ``edge``, on
the mesh's brow line, which the renderer uses as the brow's upper edge; ``centre``, moved down
onto the middle of the painted band, where AFLW2000-3D, 300-W and Face Synthetics put them
(docs/experiments.md, "Where the remaining error is").
The lip points say where points 61/63/65/67 (inner lips) and 56/58 (lower lip) sit along their
lip lines: ``aligned`` (the default), on the vertical lines through the cupid's bow peaks 50/52,
where the 68-point mark-up puts them (AFW's labels within 0.012 inter-ocular distances,
AFLW2000-3D's and Face Synthetics' within 0.045, either side); ``mesh``, on ICT-FaceKit's
landmark vertices, 0.044-0.056 further out (``benchmarks/label_geometry.py``).
The lid points (37/38, 40/41, 43/44, 46/47): ``mesh`` (the default), on ICT's vertices, which
crowd the outer corner; ``even``, at thirds of each lid in the image, as 300-W's annotators
spread them (:class:`LidLines`; measured and not adopted: the x-ray references keep them nearer
the corner, docs/experiments.md, "The jaw's and the lids' spacing").
The nose points 31/35 and 32/34: ``mesh`` (the default), on ICT's vertices, level with the
subnasale 33; ``rim``, on the nostril wing's lower outer edge seen from the front, where all four
labelled references put them (:class:`NoseRim`; measured, AFW 0.03 better, and not adopted on
its own: docs/experiments.md, "The nose's wings").
Visibility compares each point's depth with the rendered depth buffer and drops points under 2-D
occluders.
"""

from __future__ import annotations

import numpy as np

from synthmarks.landmarks import BROW_LINES
from synthmarks.synth.facemodel import PARTS, FaceModel
from synthmarks.synth.scene import Scene

#: Face Synthetics' hair class: a point under it is hidden (see :func:`visibility`).
HAIR_CLASS = 13
#: Depth tolerance (cm) when deciding whether the surface at a landmark's pixel is the landmark.
DEPTH_TOLERANCE_CM = 0.5
#: A jaw point moves to the outline only if that is this many pixels further out: the line's
#: vertices scatter a little around the landmark's height.
MARCH_MIN_GAIN_PX = 0.75
#: Where a 3-D morphable model puts the 17 x-ray jaw points, as offsets (cm, the head's frame: x
#: to the subject's left, y up, z towards the viewer) from ICT-FaceKit's jaw landmark vertices of
#: the same face. Measured on AFLW2000-3D's 3-D labels (``pt3d_68``), each face fitted onto ICT's
#: neutral landmarks by a 3-D similarity on the inner face, left and right halves averaged
#: (``python benchmarks/jaw_depth.py``; the two halves of the faces agree to 0.05 cm): the
#: benchmark's jaw runs 2-2.6 cm further back than ICT's, towards the ear along the jaw's angle,
#: and up to 1.3 cm lower there. Seen from the front the two nearly agree; on a profile they lie
#: a fifth of the face's width apart, which a model cannot learn from pixels that look the same.
XRAY_JAW_3DMM_CM = np.array(
    [
        (0.0, -1.3, -2.1),
        (0.1, -1.1, -2.0),
        (0.1, -1.0, -2.4),
        (0.2, -0.8, -2.6),
        (-0.1, -0.3, -2.5),
        (-0.5, 0.1, -2.1),
        (-0.6, 0.0, -1.6),
        (-0.7, -0.3, -1.3),
        (0.0, -0.4, -0.7),
        (0.7, -0.3, -1.3),
        (0.6, 0.0, -1.6),
        (0.5, 0.1, -2.1),
        (0.1, -0.3, -2.5),
        (-0.2, -0.8, -2.6),
        (-0.1, -1.0, -2.4),
        (-0.1, -1.1, -2.0),
        (0.0, -1.3, -2.1),
    ]
)

#: How far (cm, up the head's y axis) the ``raised`` x-ray jaw lifts each of the ``3dmm`` points.
#: Read off labels, not a model: on near-frontal faces, in inter-ocular distances below the eyes'
#: centre (``benchmarks/label_geometry.py``'s frame), AFLW2000-3D's x-ray jaw lies 0.05-0.12
#: above the ``3dmm`` labels of 3,000 faces of seed 16 (medians, left and right averaged, times
#: ICT's 6.51 cm between the eyes' centres); Face Synthetics' lies higher still (0.12-0.33), and
#: AFLW2000-3D's top points (0/16) are level with AFW's outline top, where the ``3dmm`` ones are
#: 0.19 below the generator's own outline. The 3-D fit behind :data:`XRAY_JAW_3DMM_CM` tilts with
#: each face's fitted pitch, which moves points 9 cm behind the eyes by centimetres. The medians
#: compare faces pitched differently, though: matched by pitch the top's difference is about
#: half this (docs/experiments.md, "The x-ray jaw's height"), one reason it is not the default.
_RAISE_HALF_CM = np.array([0.67, 0.78, 0.70, 0.70, 0.49, 0.43, 0.35, 0.35, 0.41])  # points 0-8
XRAY_JAW_RAISE_CM = np.concatenate([_RAISE_HALF_CM, _RAISE_HALF_CM[-2::-1]])  # 9-16 mirror 7-0

#: The ``matched`` x-ray jaw's lift (cm, up the head's y axis): the same comparison as
#: :data:`XRAY_JAW_RAISE_CM`, made pitch bin by pitch bin (AFLW2000-3D's ``Pose_Para`` pitch in
#: [-40, -15), [-15, -5), [-5, 5), [5, 15) degrees; the generator's first 8,000 faces of seed 16
#: against the dev split's near-frontal faces, medians per bin weighted by AFLW2000-3D's counts
#: 21 / 45 / 27 / 12, left and right averaged, times ICT's 6.51 cm between the eyes' centres).
#: About half the unmatched lift at the top and on the jaw's side, as much at the chin (an
#: experiment: docs/experiments.md, "The x-ray jaw's height").
_MATCHED_HALF_CM = np.array([0.35, 0.32, 0.18, 0.13, 0.03, 0.11, 0.25, 0.36, 0.45])  # points 0-8
XRAY_JAW_MATCHED_CM = np.concatenate([_MATCHED_HALF_CM, _MATCHED_HALF_CM[-2::-1]])

#: x-ray jaw definitions that move ICT's jaw landmark vertices (``mesh`` leaves them), as offsets
#: in the head's frame
XRAY_JAW_OFFSETS_CM = {
    "3dmm": XRAY_JAW_3DMM_CM,
    "raised": XRAY_JAW_3DMM_CM + np.outer(XRAY_JAW_RAISE_CM, (0.0, 1.0, 0.0)),
    "matched": XRAY_JAW_3DMM_CM + np.outer(XRAY_JAW_MATCHED_CM, (0.0, 1.0, 0.0)),
}


#: Jaw points whose frontal outline is the jaw's lower edge (jaw angle to chin): under the
#: ``silhouette`` outline they march outwards too, across the jaw in the image, to the furthest
#: point of the jaw the camera sees. Points 0-3 and 13-16 run up the cheek towards the ear,
#: whose frontal outline is the ear's.
EDGE_POINTS = range(4, 13)
#: The jaw ends where the neck starts: going out across the jaw from a landmark, the surface
#: turns from facing outwards (the under-jaw, its outward normal component near 1 on ICT's
#: neutral head) to facing forwards again, at the first vertex at least ``NECK_MIN_CM`` out
#: whose outward component is below ``NECK_OUTWARD``.
NECK_OUTWARD = 0.85
NECK_MIN_CM = 0.45
#: Half-width (cm) of the strip across the jaw that one point marches along.
MARCH_BAND_CM = 0.35


class JawLines:
    """For each of the 17 jaw landmarks, the mesh vertices a marching outline point may slide to.

    ``lines`` (the ``lines`` outline): the face's vertices on the landmark's horizontal line,
    towards the midline (the far side of a turned face). For the ``silhouette`` outline also
    ``jaw``: for each lower-jaw point (:data:`EDGE_POINTS`), the strip of the jaw's surface
    below its landmark down to where the neck starts; ``across``: the outward normal of ICT's
    jaw line seen from the front. Sampled on ICT's neutral head; the vertices follow identity and
    expression."""

    def __init__(self, model: FaceModel, band_cm: float = 0.35):
        v = model.neutral
        a, b = PARTS["face"]
        face = np.arange(a, b)
        fv = v[face]
        self.lines: list[np.ndarray] = []
        for j in range(17):
            p = v[model.landmarks[j]]
            side = np.sign(p[0]) if abs(p[0]) > 0.3 else 0.0
            sel = (np.abs(fv[:, 1] - p[1]) < band_cm) & (fv[:, 2] >= p[2] - 0.5)
            if side != 0:
                sel &= (fv[:, 0] * side >= -0.2) & (fv[:, 0] * side <= abs(p[0]) + 0.05)
            else:
                sel &= np.abs(fv[:, 0]) < 0.3
            cand = np.unique(np.concatenate([[model.landmarks[j]], face[sel]]))
            self.lines.append(cand)
        self.sides = np.sign(
            np.where(np.abs(v[model.landmarks[:17], 0]) > 0.3, v[model.landmarks[:17], 0], 0.0)
        )
        self.landmarks = np.asarray(model.landmarks[:17])
        # one render vertex per position vertex: where a scene's head normals are read
        self.render_vertex = np.zeros(len(v), np.int64)
        self.render_vertex[model.render_pos_index] = np.arange(len(model.render_pos_index))
        self.across, self.jaw = self._jaw(model, face)

    def _jaw(self, model: FaceModel, face: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """The outward normal of the jaw line seen from the front (head frame) at each landmark,
        and for each lower-jaw point its strip of the jaw's surface down to the neck."""
        from synthmarks.synth.geometry import vertex_normals

        v = model.neutral.astype(np.float64)
        fn = vertex_normals(v, model.render_pos_index[model.triangles])[face, :2]
        xy = v[self.landmarks, :2]
        tangent = np.gradient(xy, axis=0)
        tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
        out = np.stack([tangent[:, 1], -tangent[:, 0]], 1)
        nose = v[model.landmarks[30], :2]
        out *= np.sign(((xy - nose) * out).sum(1))[:, None]  # away from the face
        # each lower-jaw point's strip, as wide as half the gap to its neighbours (so the strips
        # tile the jaw), from its landmark out to the neck
        gaps = np.linalg.norm(np.diff(xy, axis=0), axis=1)
        strips = {}
        for j in EDGE_POINTS:
            d = v[face, :2] - xy[j]
            along = d @ out[j]
            strip = (np.abs(d @ tangent[j]) < max(gaps[j - 1], gaps[j]) / 2 + 0.05) & (along > 0)
            neck = strip & (along > NECK_MIN_CM) & (fn @ out[j] < NECK_OUTWARD)
            strips[j] = face[strip & (along < (along[neck].min() if neck.any() else np.inf))]
        return np.concatenate([out, np.zeros((17, 1))], 1), strips


def face_graph(model: FaceModel):
    """The face's mesh edges on the neutral head as a sparse graph weighted by length (cm)."""
    import scipy.sparse as sp

    v = model.neutral.astype(np.float64)
    a, b = PARTS["face"]
    tri = model.render_pos_index[model.triangles]
    tri = tri[((tri >= a) & (tri < b)).all(1)]
    e = np.concatenate([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [2, 0]]])
    w = np.linalg.norm(v[e[:, 0]] - v[e[:, 1]], axis=1)
    graph = sp.coo_matrix((w, (e[:, 0], e[:, 1])), shape=(len(v), len(v))).tocsr()
    return graph.maximum(graph.T)


def surface_path(graph, start: int, end: int) -> list[int]:
    """The vertices of the shortest path over the face's edges from ``start`` to ``end``."""
    from scipy.sparse.csgraph import dijkstra

    _, pred = dijkstra(graph, indices=start, return_predecessors=True)
    path = [end]
    while path[-1] != start:
        path.append(int(pred[path[-1]]))
    return path[::-1]


#: (point, the lip-line landmark it slides towards, the cupid's bow peak whose vertical it takes)
LIP_COLUMNS = ((61, 62, 50), (63, 62, 52), (67, 66, 50), (65, 66, 52), (58, 57, 50), (56, 57, 52))


class LipColumns:
    """Where the ``aligned`` lip points lie on the mesh: for each of :data:`LIP_COLUMNS`, the
    point of its lip line (the shortest path over the face's edges from its landmark vertex
    towards the lip's middle, which runs along the lip's rim or border) at the cupid's bow
    peak's distance from the midline on the neutral head, as two vertices and a blend. A
    fixed point of the surface, so it follows identity and expression as the vertices do."""

    def __init__(self, model: FaceModel):
        v = model.neutral.astype(np.float64)
        graph = face_graph(model)
        lm = model.landmarks
        self.points = np.array([c[0] for c in LIP_COLUMNS])
        self.pairs = np.zeros((len(LIP_COLUMNS), 2), np.int64)
        self.t = np.zeros(len(LIP_COLUMNS))
        for k, (point, towards, peak) in enumerate(LIP_COLUMNS):
            path = surface_path(graph, lm[point], lm[towards])
            x = np.abs(v[path, 0])  # distance from the midline, point first
            target = abs(v[lm[peak], 0])
            self.pairs[k] = lm[point]
            if x[0] <= target:  # already at or inside the peak's vertical
                continue
            j = int(np.argmax(x <= target))  # first path vertex at or inside it
            p0, p1 = path[j - 1], path[j]
            self.pairs[k] = p0, p1
            self.t[k] = (x[j - 1] - target) / (x[j - 1] - x[j])

    def positions(self, vertices: np.ndarray) -> np.ndarray:
        """(6, 3) the points on a head given its position vertices (any frame)."""
        v = vertices[self.pairs].astype(np.float64)
        return (1 - self.t)[:, None] * v[:, 0] + self.t[:, None] * v[:, 1]


#: The ``rim`` nose points: frontal offsets (cm; out from the midline, up) of points 31/35 (the
#: nostril wings) and 32/34 from ICT-FaceKit's vertices, which run level with the subnasale 33.
#: The four labelled references put them higher and further out (``benchmarks/label_geometry.py``,
#: near-frontal faces, inter-ocular distances between the eyes' centres): 31/35 above 33 by 0.050
#: (AFLW2000-3D), 0.077 (AFW), 0.080 (the 26 pictures) and 0.151 (Face Synthetics) against the
#: generator's 0.032, at half-widths of 0.193-0.279 (median 0.238) against 0.204; 32/34 above 33
#: by 0.023-0.044 against 0.016, at half-widths of 0.111-0.160 against 0.099. The offsets are the
#: references' medians minus the generator's, times ICT's 6.51 cm between the eyes' centres
#: (measured, not adopted on its own: docs/experiments.md, "The nose's wings").
NOSE_RIM_CM = {31: (0.22, 0.30), 32: (0.17, 0.13), 34: (0.17, 0.13), 35: (0.22, 0.30)}


class NoseRim:
    """Where the ``rim`` nose points lie on the mesh: for each of :data:`NOSE_RIM_CM`, the face's
    surface seen from the front at that offset from its ICT vertex on the neutral head (the
    front-most triangle there, as three vertices and barycentric weights). A fixed point of the
    surface, so it follows identity and expression as the vertices do; seen from the front it
    lies on the nostril wing's lower outer edge, where the 68-point mark-up puts 31/35."""

    def __init__(self, model: FaceModel):
        v = model.neutral.astype(np.float64)
        a, b = PARTS["face"]
        tri = model.render_pos_index[model.triangles]
        tri = tri[((tri >= a) & (tri < b)).all(1)]
        self.points = np.array(sorted(NOSE_RIM_CM))
        self.vertices = np.zeros((len(self.points), 3), np.int64)
        self.weights = np.zeros((len(self.points), 3))
        for k, j in enumerate(self.points):
            p = v[model.landmarks[j]]
            out, up = NOSE_RIM_CM[j]
            target = p[:2] + (np.sign(p[0]) * out, up)
            self.vertices[k], self.weights[k] = _front_surface(v, tri, target)

    def positions(self, vertices: np.ndarray) -> np.ndarray:
        """(4, 3) the points on a head given its position vertices (any frame)."""
        v = vertices[self.vertices].astype(np.float64)
        return (self.weights[..., None] * v).sum(1)


def _front_surface(v: np.ndarray, tri: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The triangle of ``tri`` nearest the viewer (largest z) under the point ``xy`` seen along
    the z axis, and the point's barycentric weights in it."""
    p = v[tri]
    e1, e2, d = p[:, 1, :2] - p[:, 0, :2], p[:, 2, :2] - p[:, 0, :2], xy - p[:, 0, :2]
    den = e1[:, 0] * e2[:, 1] - e2[:, 0] * e1[:, 1]
    den = np.where(np.abs(den) > 1e-12, den, np.nan)
    u = (d[:, 0] * e2[:, 1] - e2[:, 0] * d[:, 1]) / den
    w = (e1[:, 0] * d[:, 1] - d[:, 0] * e1[:, 1]) / den
    bary = np.stack([1 - u - w, u, w], 1)
    hit = np.flatnonzero((bary >= 0).all(1))
    if not len(hit):
        raise ValueError(f"no face surface under {xy}")
    k = hit[np.argmax((p[hit, :, 2] * bary[hit]).sum(1))]
    return tri[k], bary[k]


#: Each eyelid from corner to corner through its two landmarks (the points to space between)
LID_CHAINS = ((36, 37, 38, 39), (39, 40, 41, 36), (42, 43, 44, 45), (45, 46, 47, 42))


class LidLines:
    """The ``even`` lid points: each lid's margin on the mesh (the shortest paths over the
    face's edges from corner to landmark to landmark to corner, which run along the lid's rim),
    on which :func:`space_lids` puts the two points at thirds of its length in the image.

    ICT-FaceKit's vertices sit near each lid's outer corner: seen from the front, point 37 lies
    0.21 of the way from corner 36 to 39 and 41 0.25, where the labels of AFW and the 26
    pictures put them at 0.29-0.31, AFLW2000-3D's and Face Synthetics' at 0.23-0.28
    (``benchmarks/label_geometry.py``); thirds of the lid in a frontal image put them at 0.32."""

    def __init__(self, model: FaceModel):
        graph = face_graph(model)
        lm = model.landmarks
        self.paths: list[np.ndarray] = []
        for chain in LID_CHAINS:
            path = [int(lm[chain[0]])]
            for a, b in zip(chain[:-1], chain[1:], strict=True):
                path += surface_path(graph, int(lm[a]), int(lm[b]))[1:]
            self.paths.append(np.array(path))


def space_lids(
    scene: Scene, lids: LidLines, points: np.ndarray, pos3: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move each lid's two points to a third and two thirds of the lid's length in the image,
    along its margin (:class:`LidLines`); a point's 3-D position is blended from the margin's
    two vertices with the same weight. The corners stay."""
    pts, p3 = points.copy(), pos3.copy()
    for chain, path in zip(LID_CHAINS, lids.paths, strict=True):
        v3 = scene.head_pos_cam[path].astype(np.float64)
        v2 = scene.camera.project(v3)
        at = along_polyline(v2, np.array([1.0, 2.0]) / 3.0)
        if at is None:
            continue  # a lid seen end on: nothing to space
        k, w = at
        idx = list(chain[1:3])
        pts[idx] = (1 - w) * v2[k] + w * v2[k + 1]
        p3[idx] = (1 - w) * v3[k] + w * v3[k + 1]
    return pts, p3


def move_to_surface(
    scene: Scene, fixed: LipColumns | NoseRim, points: np.ndarray, pos3: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move the points a definition fixes on the surface (``fixed.points``: the ``aligned`` lip
    points, the ``rim`` nose points) to where ``fixed.positions`` puts them on this head."""
    pts, p3 = points.copy(), pos3.copy()
    p3[fixed.points] = fixed.positions(scene.head_pos_cam)
    pts[fixed.points] = scene.camera.project(p3[fixed.points])
    return pts, p3


def brow_line_t(model: FaceModel) -> np.ndarray:
    """Position t (0 inner end .. 1 outer end, by arc length in the UV atlas) of landmarks 17-26
    on their brow line: the parameter the renderer's brow band is drawn along."""
    from synthmarks.synth.textures import landmark_atlas_px

    uv = landmark_atlas_px(model)
    t = np.zeros(10)
    for line in BROW_LINES:
        seg = np.linalg.norm(np.diff(uv[line], axis=0), axis=1)
        t[np.array(line) - 17] = np.concatenate([[0.0], np.cumsum(seg)]) / seg.sum()
    return t


def brow_band_centre_cm(brows: dict, t: np.ndarray) -> np.ndarray:
    """Signed offset (cm, + up) of the painted brow band's middle from the brow line at ``t``.

    The same expression as the eyebrow block of the fragment shader in ``render.py``; change
    both together."""
    tc = np.clip(t, 0.0, 1.0)
    half_w = brows["thickness"] * 0.42 * (1.0 - 0.55 * tc)
    return -half_w * 0.75 + brows["arch"] * 0.35 * np.sin(np.pi * tc)


def brow_centre_offsets(params: dict, t: np.ndarray, photoreal_brows=None) -> np.ndarray:
    """(10,) height (cm, + up) of the drawn brow's middle above landmarks 17-26 for a sample:
    its eyebrow card's, else (a baked MakeHuman skin, whose own brows are drawn) the cards'
    average, else the procedural painted band's. ``photoreal_brows`` is
    :meth:`Appearance.brow_centres` (needed only for photoreal samples)."""
    lk = params.get("v2") or {}
    if lk.get("brow_card") is not None:
        return photoreal_brows.cards[lk["brow_card"]]
    if lk.get("skin") is not None:
        return photoreal_brows.skin
    return brow_band_centre_cm(params["brows"], t)


def centre_brows(
    scene: Scene, offsets_cm: np.ndarray, points: np.ndarray, pos3: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Move the eyebrow points from the brow line to the middle of the drawn brow: along the
    head's up axis by ``offsets_cm`` (:func:`brow_centre_offsets`), which on the brow ridge
    stays on the skin to well within a millimetre."""
    pts, p3 = points.copy(), pos3.copy()
    up = scene.rotation @ np.array([0.0, 1.0, 0.0])
    p3[17:27] = pos3[17:27] + np.asarray(offsets_cm)[:, None] * up
    pts[17:27] = scene.camera.project(p3[17:27])
    return pts, p3


class LabelGeometry:
    """What every label definition reads off ICT-FaceKit's neutral head, built once per process
    (rendering's worker and re-labelling): the jaw's marching lines, the brow line's parameter,
    the lip columns, the lid margins and the nose's rim points."""

    def __init__(self, model: FaceModel):
        self.jaw = JawLines(model)
        self.brow_t = brow_line_t(model)
        self.lips = LipColumns(model)
        self.lids = LidLines(model)
        self.nose = NoseRim(model)


def label(
    scene: Scene, params: dict, geometry: LabelGeometry, photoreal_brows=None
) -> tuple[np.ndarray, np.ndarray]:
    """The 70 points of a scene under its sample's jaw, brow, lip, lid and nose definitions, on
    the face's surface, and their 3-D camera-space positions: the one labelling step of rendering
    and of re-labelling. Visibility and the occluders' placement are decided on these; the labels
    written are :func:`xray_jaw` of them, which moves an x-ray jaw to the 3-D model's depth.
    A sample's params without a definition are from a set made before it had one: ICT's
    vertices (the brows: their line's ``edge``)."""
    g = geometry
    points = project(scene)
    pos3 = scene.landmarks_cam
    if params["jaw_convention"] == "outline":
        points, pos3 = outline_jaw(scene, g.jaw, points, outline_definition(params))
    if params.get("brow_convention", "edge") == "centre":
        offsets = brow_centre_offsets(params, g.brow_t, photoreal_brows)
        points, pos3 = centre_brows(scene, offsets, points, pos3)
    if params.get("lip_points", "mesh") == "aligned":
        points, pos3 = move_to_surface(scene, g.lips, points, pos3)
    if params.get("lid_points", "mesh") == "even":
        points, pos3 = space_lids(scene, g.lids, points, pos3)
    if params.get("nose_points", "mesh") == "rim":
        points, pos3 = move_to_surface(scene, g.nose, points, pos3)
    return points, pos3


def both_jaws(scene: Scene, lines: JawLines, params: dict) -> dict[str, list[list[float]]]:
    """The 17 jaw points under each convention (meta.json's ``jaws``), whatever the sample's own:
    one network learns the x-ray and the outline jaw from the same pixels."""
    vertices = project(scene)
    outline, _ = outline_jaw(scene, lines, vertices, outline_definition(params))
    xray = xray_jaw(scene, {**params, "jaw_convention": "xray"}, vertices)
    return {
        name: [[round(float(x), 3), round(float(y), 3)] for x, y in pts[:17]]
        for name, pts in (("xray", xray), ("outline", outline))
    }


def outline_definition(params: dict) -> str:
    """A sample's outline jaw definition (sets made before the chin had one: ``lines``)."""
    return params.get("outline_jaw", "lines")


def xray_jaw(scene: Scene, params: dict, points: np.ndarray) -> np.ndarray:
    """:func:`label`'s ``points`` with an x-ray jaw where the sample's ``xray_jaw`` puts it: at
    the 3-D morphable model's depth (``3dmm``; ``raised`` and ``matched``, the same lifted), or
    left on ICT's vertices (``mesh``; sets made before). Such a point lies inside the head: it is
    as visible as the cheek vertex it stands for, and an outline jaw (on the surface) is left as
    it is."""
    offsets = XRAY_JAW_OFFSETS_CM.get(params.get("xray_jaw", "mesh"))
    if params["jaw_convention"] != "xray" or offsets is None:
        return points
    out = points.copy()
    out[:17] = scene.camera.project(scene.landmarks_cam[:17] + offsets @ scene.rotation.T)
    return out


def landmark_text(points: np.ndarray) -> str:
    """A ``_ldmks.txt`` file's text (Face Synthetics: one "x y" row per point)."""
    return "".join(f"{x:.3f} {y:.3f}\n" for x, y in points)


def project(scene: Scene) -> np.ndarray:
    """(70, 2) pixel coordinates (OpenCV convention) of the x-ray landmarks."""
    return scene.camera.project(scene.landmarks_cam)


def outline_jaw(
    scene: Scene, lines: JawLines, points: np.ndarray, definition: str = "even"
) -> tuple[np.ndarray, np.ndarray]:
    """Move the jaw points onto the visible outline; returns new points and their 3-D positions.

    Each point first marches along its horizontal line to the vertex furthest out in the image
    (the far side of a turned face: the cheek's outline). Under ``silhouette`` and ``even`` a
    lower-jaw point that stayed on its own vertex then marches across the jaw line in the image
    to the furthest point of its strip of the jaw the camera faces; under ``lines`` (sets made
    before) a frontal face's lower jaw and chin stay on ICT's vertices. ``even`` then spaces
    the points along that outline (:func:`space_evenly`)."""
    silhouette = definition in ("silhouette", "even")
    pts = points.copy()
    pos3 = scene.landmarks_cam.copy()
    for j, cand in enumerate(lines.lines):
        side = lines.sides[j]
        if side != 0 and len(cand) >= 2:
            c3 = scene.head_pos_cam[cand]
            k = _furthest_out(scene, j, np.array([side, 0.0, 0.0]), c3, points[j])
            if k is not None:
                pts[j], pos3[j] = scene.camera.project(c3[k : k + 1])[0], c3[k]
                continue
        if silhouette and j in EDGE_POINTS:
            cand = np.concatenate([[lines.landmarks[j]], lines.jaw[j]])
            c3 = scene.head_pos_cam[cand]
            facing = (scene.head.nrm[lines.render_vertex[cand]] * -c3).sum(1) > 0  # camera at 0
            if facing[0]:  # the jaw there faces the camera: it has an edge to march to
                k = _furthest_out(scene, j, lines.across[j], c3, points[j], facing)
                if k is not None:
                    pts[j], pos3[j] = scene.camera.project(c3[k : k + 1])[0], c3[k]
    if definition == "even":
        pts, pos3 = space_evenly(pts, pos3)
    return pts, pos3


def along_polyline(poly: np.ndarray, fractions: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Where the given fractions of an image polyline's length fall: for each, the segment it
    lies on (its first vertex's index) and the blend weight towards the segment's end, (k, (n,
    1)), or None for a polyline of no length. Both even spacings (the jaw's, the lids') read
    their points and the points' 3-D positions off these."""
    seg = np.linalg.norm(np.diff(poly, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    if arc[-1] < 1e-6:
        return None
    target = arc[-1] * np.asarray(fractions, np.float64)
    k = np.clip(np.searchsorted(arc, target, side="right") - 1, 0, len(seg) - 1)
    return k, ((target - arc[k]) / np.maximum(seg[k], 1e-12))[:, None]


def space_evenly(points: np.ndarray, *carried: np.ndarray) -> list[np.ndarray]:
    """Jaw points 1-7 and 9-15 of ``points`` moved to equal arc length along the image polyline
    of each half of the jaw (0-8, 8-16), which keeps its ends; each array in ``carried`` (the
    points' 3-D positions, for the depth test of :func:`visibility`) is blended from the same
    two neighbours with the same weights. Returns the moved copies, ``points`` first.

    The 68-point mark-up spaces the contour's points evenly between the ear and the chin: the
    labels of AFW, AFLW2000-3D and Face Synthetics put points 1-7 within 0.02 of k/16 of the
    jaw's length (AFW's within 0.01); ICT's vertices marched to the jaw's edge put points 4 and 5
    at 0.27 and 0.34 (``benchmarks/landmark_bias.py``)."""
    arrays = [points, *carried]
    out = [a.copy() for a in arrays]
    for lo, hi in ((0, 9), (8, 17)):
        at = along_polyline(points[lo:hi], np.linspace(0.0, 1.0, hi - lo)[1:-1])
        if at is None:
            continue  # a jaw half seen end on: nothing to space
        k, w = at
        for a, o in zip(arrays, out, strict=True):
            o[lo + 1 : hi - 1] = (1 - w) * a[lo + k] + w * a[lo + k + 1]
    return out


def _furthest_out(
    scene: Scene,
    j: int,
    direction: np.ndarray,
    c3: np.ndarray,
    point: np.ndarray,
    allowed: np.ndarray | None = None,
) -> int | None:
    """Which of the camera-space vertices ``c3`` lies furthest out in the image along jaw point
    ``j``'s head-frame ``direction``, if it is :data:`MARCH_MIN_GAIN_PX` or more beyond
    ``point`` (within a pixel a point stays: a line's vertices scatter about its height). With
    ``allowed``, only those vertices, and only within :data:`MARCH_BAND_CM` of the line through
    ``point`` (a strip across the jaw)."""
    cam = scene.camera
    p3 = scene.landmarks_cam[j]
    d = cam.project(np.stack([p3, p3 + scene.rotation @ direction]))
    out = d[1] - d[0]
    norm = np.linalg.norm(out)
    if norm < 1e-6:
        return None  # the direction points at the camera
    out /= norm
    rel = cam.project(c3) - point
    along = rel @ out
    if allowed is not None:
        band = cam.f * MARCH_BAND_CM / abs(p3[2])
        along = np.where(
            allowed & (np.abs(rel @ np.array([-out[1], out[0]])) < band), along, -np.inf
        )
    k = int(np.argmax(along))
    return k if along[k] >= MARCH_MIN_GAIN_PX else None


def visibility(
    scene: Scene,
    points: np.ndarray,
    pos3: np.ndarray,
    depth_hi: np.ndarray,
    supersample: int,
    occluder_alpha: np.ndarray | None = None,
    seg: np.ndarray | None = None,
) -> np.ndarray:
    """True where the point is inside the image, in front (by the depth buffer) and unoccluded.

    With ``seg``, a point whose pixel the rendered hair covers (class 13) is hidden too: hair
    cards lie within the depth tolerance of the skin, where depth alone cannot tell."""
    h, w = depth_hi.shape
    s = supersample
    vis = np.zeros(len(points), bool)
    size = scene.camera.width
    for i, ((x, y), p) in enumerate(zip(points, pos3, strict=True)):
        if not (-0.5 <= x < size - 0.5 and -0.5 <= y < size - 0.5):
            continue
        xs, ys = (x + 0.5) * s - 0.5, (y + 0.5) * s - 0.5
        c0, r0 = int(round(xs)), int(round(ys))
        win = depth_hi[max(0, r0 - 1) : min(h, r0 + 2), max(0, c0 - 1) : min(w, c0 + 2)]
        d = -p[2]
        tol = DEPTH_TOLERANCE_CM + 0.004 * d
        vis[i] = bool(np.any(win >= d - tol))
        if vis[i] and occluder_alpha is not None:
            vis[i] = occluder_alpha[int(round(y)), int(round(x))] < 0.5
        if vis[i] and seg is not None:
            vis[i] = seg[int(round(y)), int(round(x))] != HAIR_CLASS
    return vis
