"""Register MakeHuman's hm08 head onto the ICT-FaceKit head, once, and cache the result.

MakeHuman's skins and proxy cards (hair, brows, lashes) are made for its own base mesh. To use
them on ICT-FaceKit faces the two heads must correspond point for point, with facial features on
facial features: a similarity fit alone leaves the heads a median 5 mm apart and the lips low
(``../shared/assets/makehuman/prototype``). The registration here is

1. a similarity transform (decimetres to centimetres, pose) fitted on the 51 inner landmarks,
   which ICT-FaceKit lists and :data:`MH_LANDMARKS` gives for hm08 (found by
   ``scripts/makehuman_landmarks.py``: synthmarks' own landmark model on renders of the textured
   hm08 head);
2. a smooth non-rigid warp (a thin-plate radial-basis displacement field, scipy's
   ``RBFInterpolator``) that takes the landmarks exactly onto ICT's and, over a few iterations of
   closest-point matching (non-rigid ICP), the rest of the head onto ICT's surface, with a
   smoothing that relaxes from stiff to supple.

From it come (a) the bake map: for every texel of ICT's UV atlas, the MakeHuman UV of the
nearest point of the warped hm08 surface, which :mod:`synthmarks.synth.skins` uses to resample
each skin; (b) the warped hm08 vertices, from which proxies are placed through their ``.mhclo``
files and then bound to ICT's surface (:mod:`synthmarks.synth.cards`) so they follow identity and
expression. :func:`registration_report` gives the residuals that measure it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthmarks.errors import SynthmarksError
from synthmarks.fileio import atomic_path
from synthmarks.landmarks import REGIONS
from synthmarks.synth.facemodel import PARTS, FaceModel
from synthmarks.synth.geometry import closest_points, umeyama, vertex_normals
from synthmarks.synth.makehuman import ObjMesh, read_obj

#: Bumped whenever the registration or the derived arrays change.
REGISTER_VERSION = 1
#: ICT UV atlas size of the bake: two square tiles (face, back of head and neck).
BAKE_H = 1024
BAKE_W = 2 * BAKE_H
#: Only hm08 faces above this height (decimetres) are the head and neck.
MH_NECK_Y = 5.0
INNER = np.arange(17, 68)
#: Landmarks the warp holds exactly: the inner 51 and the chin. The other jaw points are left to
#: the surface matching: on hm08 they were found on the frontal outline, on ICT they are vertices.
EXACT = np.r_[8, INNER]
#: How far (cm, along the head's up axis) hm08's brow landmarks are pinned above ICT's (points
#: 17-26), from look revision 7 on. hm08's brow landmarks were found by a model of the ``edge``
#: brow convention, so pinning them onto ICT's brow vertices drew MakeHuman's brows (cards and
#: painted) 0.73-0.97 cm below ICT's brow line: on frontal renders their middle sat 0.255
#: inter-ocular distances above the eyes' centre, against 0.277 in Face Synthetics' labels (an
#: artist-made synthetic reference), and models trained on them put real brows low
#: (docs/experiments.md, "What stages 6-7 cost: the brows"). Pins 2.2 mm higher (the cards'
#: middles rise 1.4 mm: the surface matching holds the rest) bring the renders to 0.277.
BROW_LIFT_CM = 0.22

# Landmarks 0..67 on hm08, as (vertex a, b, c, weight a, b, c) of the triangle they lie on.
# Made by scripts/makehuman_landmarks.py (median over six skins); see the module docstring.
MH_LANDMARKS: tuple[tuple[int, int, int, float, float, float], ...] = (
    (5237, 871, 870, 0.4893, 0.0958, 0.4149),
    (5201, 268, 269, 0.0640, 0.1359, 0.8002),
    (270, 5205, 5204, 0.2899, 0.1378, 0.5724),
    (736, 5242, 5241, 0.1227, 0.7454, 0.1319),
    (7507, 10360, 10361, 1.0000, 0.0000, 0.0000),
    (3697, 3698, 915, 0.9053, 0.0059, 0.0888),
    (5295, 916, 5294, 0.1484, 0.7999, 0.0518),
    (5166, 5221, 5167, 0.0143, 0.3668, 0.6189),
    (5220, 5225, 5171, 0.0733, 0.6265, 0.3002),
    (11780, 11830, 11831, 0.6615, 0.1438, 0.1947),
    (11900, 7616, 7618, 0.4919, 0.0754, 0.4327),
    (7593, 10365, 10366, 0.1215, 0.5415, 0.3370),
    (11849, 7595, 7596, 0.2154, 0.1597, 0.6248),
    (7456, 11850, 11851, 0.3752, 0.0667, 0.5582),
    (7039, 11815, 11816, 0.7814, 0.2049, 0.0137),
    (11844, 7573, 7572, 0.7457, 0.0414, 0.2129),
    (7572, 12001, 7575, 0.0337, 0.8864, 0.0799),
    (261, 262, 5261, 0.3582, 0.1120, 0.5298),
    (232, 231, 5259, 0.7705, 0.0796, 0.1499),
    (231, 222, 229, 0.3570, 0.4643, 0.1787),
    (205, 233, 223, 0.4287, 0.2411, 0.3302),
    (208, 221, 228, 0.4770, 0.1692, 0.3538),
    (6983, 7001, 6995, 0.5516, 0.1794, 0.2690),
    (6980, 6997, 7006, 0.6043, 0.2282, 0.1676),
    (7004, 6996, 6998, 0.0573, 0.6543, 0.2884),
    (7005, 6998, 6999, 0.4757, 0.2376, 0.2867),
    (7030, 7031, 7024, 0.3401, 0.3505, 0.3094),
    (133, 134, 6912, 0.5049, 0.4032, 0.0919),
    (131, 5063, 11679, 0.3943, 0.5326, 0.0732),
    (291, 6976, 201, 0.2612, 0.0692, 0.6696),
    (5054, 296, 297, 0.8925, 0.0861, 0.0214),
    (5137, 360, 358, 0.0111, 0.6124, 0.3764),
    (285, 359, 314, 0.3660, 0.0042, 0.6298),
    (343, 317, 316, 0.4921, 0.3047, 0.2031),
    (7054, 7077, 7120, 0.0709, 0.8270, 0.1021),
    (7121, 7119, 7055, 0.6407, 0.0700, 0.2893),
    (1088, 1063, 1089, 0.2286, 0.5210, 0.2504),
    (1081, 1057, 1083, 0.1004, 0.6673, 0.2322),
    (6775, 54, 6763, 0.0300, 0.7730, 0.1969),
    (4864, 73, 4871, 0.3512, 0.5439, 0.1048),
    (1070, 6772, 6771, 0.4027, 0.2424, 0.3549),
    (1093, 1067, 1068, 0.0003, 0.8535, 0.1462),
    (6836, 6857, 6858, 0.4125, 0.1612, 0.4263),
    (7792, 7765, 7766, 0.2000, 0.6370, 0.1630),
    (7773, 7749, 7747, 0.1821, 0.5224, 0.2955),
    (11718, 7783, 7757, 0.3408, 0.0000, 0.6592),
    (6825, 13373, 13372, 0.0052, 0.1761, 0.8187),
    (6834, 11481, 11480, 0.1771, 0.3258, 0.4970),
    (3736, 402, 422, 0.8091, 0.1564, 0.0345),
    (413, 448, 447, 0.0858, 0.1445, 0.7696),
    (460, 457, 458, 0.0613, 0.2379, 0.7008),
    (455, 463, 466, 0.3113, 0.1104, 0.5783),
    (7219, 7220, 7217, 0.2131, 0.0293, 0.7576),
    (7173, 7207, 7208, 0.0807, 0.6622, 0.2571),
    (10404, 7162, 10405, 0.4873, 0.2561, 0.2566),
    (7235, 7166, 7233, 0.0471, 0.5103, 0.4425),
    (7235, 7239, 7245, 0.6444, 0.0149, 0.3407),
    (492, 496, 490, 0.3418, 0.5182, 0.1400),
    (480, 490, 484, 0.4814, 0.2713, 0.2473),
    (480, 478, 406, 0.0057, 0.3777, 0.6166),
    (416, 498, 499, 0.3905, 0.3216, 0.2878),
    (5362, 470, 453, 0.3858, 0.0000, 0.6142),
    (468, 465, 473, 0.7587, 0.0653, 0.1760),
    (11964, 7213, 7226, 0.0509, 0.5182, 0.4309),
    (7176, 7248, 7247, 0.6081, 0.2255, 0.1664),
    (7236, 7266, 7265, 0.4687, 0.0264, 0.5049),
    (517, 493, 523, 0.0507, 0.9493, 0.0000),
    (638, 654, 655, 0.2046, 0.7954, 0.0000),
)


def mh_landmarks(mh: ObjMesh) -> np.ndarray:
    """(68, 3) hm08 landmark positions from :data:`MH_LANDMARKS`."""
    if len(MH_LANDMARKS) != 68:
        raise SynthmarksError(
            "register.MH_LANDMARKS is not filled in (scripts/makehuman_landmarks.py)"
        )
    t = np.asarray(MH_LANDMARKS)
    idx = t[:, :3].astype(np.int64)
    return np.einsum("nk,nkd->nd", t[:, 3:], mh.v[idx])


@dataclass
class Registration:
    """hm08 mapped into ICT's neutral head (cm), and ICT's atlas mapped back onto hm08's UVs."""

    mh_warped: np.ndarray  # (V_mh, 3) every hm08 vertex, warped (head and neck; the rest rigid)
    bake_u: np.ndarray  # (BAKE_H, BAKE_W) float32 hm08 texture u (0..1) per ICT texel, -1 empty
    bake_v: np.ndarray  # (BAKE_H, BAKE_W) float32 hm08 texture v (0..1, OBJ: 0 at the bottom)
    bake_dist: np.ndarray  # (BAKE_H, BAKE_W) float32 cm from the ICT texel to the hm08 surface
    landmark_residual: np.ndarray  # (68,) cm from the pins after the warp
    surface_residual: np.ndarray  # (N,) cm: ICT head vertices to the warped hm08 surface


def _ict_head(model: FaceModel) -> tuple[np.ndarray, np.ndarray]:
    """ICT's skin surface (face + head and neck): vertices and triangles into ``neutral``."""
    end = PARTS["head_neck"][1]
    tri = model.render_pos_index[model.triangles]
    keep = (tri < end).all(1)
    return model.neutral.astype(np.float64), tri[keep]


def _mh_head(mh: ObjMesh) -> np.ndarray:
    """hm08 body triangles of the head and neck (indices into ``mh.tri_v``), without the small
    UV islands: the eye sockets and the mouth's inside, painted red in every skin, lie close
    behind the lids and lips and must not be picked as their nearest surface."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    body = mh.tri_group == mh.groups.index("body")
    tris = np.flatnonzero(body & (mh.v[mh.tri_v].min(1)[:, 1] > MH_NECK_Y))
    vt = mh.tri_vt[tris]
    n = len(mh.vt)
    edges = np.concatenate([vt[:, [0, 1]], vt[:, [1, 2]]])
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    uv = mh.vt[vt]
    a, b = uv[:, 1] - uv[:, 0], uv[:, 2] - uv[:, 0]
    area = 0.5 * np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0])
    island = label[vt[:, 0]]
    total = np.bincount(island, weights=area)
    return tris[total[island] > 0.1 * total.max()]


def brow_lift(look_revision: int | None) -> float:
    """:data:`BROW_LIFT_CM` for faces of this photoreal look revision (0 before revision 7), so
    that relabelling an older set places its brow points where its images drew the brows."""
    return BROW_LIFT_CM if look_revision is not None and look_revision >= 7 else 0.0


def register(
    model: FaceModel, mh: ObjMesh, iterations: int = 6, brow_lift_cm: float = BROW_LIFT_CM
) -> Registration:
    """Fit the warp and build the bake map (a few tens of seconds; cached by :func:`load`)."""
    from scipy.interpolate import RBFInterpolator

    iv, itri = _ict_head(model)
    ict_lm = iv[model.landmarks].copy()  # the pins: ICT's landmarks, brows lifted
    ict_lm[list(REGIONS["brows"]), 1] += brow_lift_cm
    mh_lm = mh_landmarks(mh)
    s, r, t = umeyama(mh_lm[INNER], ict_lm[INNER])
    sim = mh.v @ (s * r).T + t
    head_tris = _mh_head(mh)
    head_v = np.unique(mh.tri_v[head_tris])
    # ICP samples: a spread subset of hm08 head vertices (every k-th by a fixed shuffle)
    rng = np.random.default_rng(0)
    samples = rng.permutation(head_v)[:900]
    ict_tris = iv[itri]
    lm_src = mh_lm @ (s * r).T + t  # landmarks after the similarity
    warp_lm = lm_src.copy()
    fix_src, fix_dst = lm_src[EXACT], ict_lm[EXACT]
    cur = sim.copy()
    for it in range(iterations):
        k, b = closest_points(ict_tris, cur[samples])
        target = np.einsum("nk,nkd->nd", b, ict_tris[k])
        # matches farther than 2 cm are not trusted (ears, neck cut): they keep their place
        far = np.linalg.norm(target - cur[samples], axis=1) > 2.0
        target[far] = cur[samples][far]
        src = np.vstack([fix_src, sim[samples]])
        dst = np.vstack([fix_dst, target])
        # landmarks are exact (zero smoothing); surface matches are soft, stiff at first
        smooth = np.r_[np.zeros(len(EXACT)), np.full(len(samples), 30.0 * 0.5**it)]
        rbf = RBFInterpolator(src, dst - src, kernel="thin_plate_spline", smoothing=smooth)
        moved = sim[head_v] + rbf(sim[head_v])
        cur = sim.copy()
        cur[head_v] = moved
        warp_lm = lm_src + rbf(lm_src)
    # residuals: landmarks, and every ICT head vertex to the warped hm08 surface
    mh_tris = cur[mh.tri_v[head_tris]]
    ict_used = np.unique(itri)
    k, b = closest_points(mh_tris, iv[ict_used])
    near = np.einsum("nk,nkd->nd", b, mh_tris[k])
    surf_res = np.linalg.norm(near - iv[ict_used], axis=1)
    lm_res = np.linalg.norm(warp_lm - ict_lm, axis=1)
    bake_u, bake_v, bake_d = _bake_map(model, iv, mh, cur, head_tris)
    return Registration(
        cur.astype(np.float32), bake_u, bake_v, bake_d, lm_res.astype(np.float32), surf_res
    )


def _ict_texel_positions(model: FaceModel, iv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(BAKE_H, BAKE_W, 3) ICT neutral position and normal under every atlas texel (NaN where
    empty), by rasterising the face and head triangles in UV space with OpenGL."""
    from synthmarks.synth.gl import create_context

    end = PARTS["head_neck"][1]
    pos_idx = model.render_pos_index
    tri = model.triangles[(pos_idx[model.triangles] < end).all(1)]
    uv = model.render_uv[tri].reshape(-1, 2).astype(np.float32)
    p = iv[pos_idx[tri]].reshape(-1, 3).astype(np.float32)
    _, itri = _ict_head(model)
    n = vertex_normals(iv, itri)[pos_idx[tri]].reshape(-1, 3).astype(np.float32)
    ctx = create_context()
    with ctx:
        prog = ctx.program(
            vertex_shader="""
#version 330
in vec2 in_uv; in vec3 in_p; in vec3 in_n; out vec3 v_p; out vec3 v_n;
void main() {
    v_p = in_p;
    v_n = in_n;
    gl_Position = vec4(in_uv.x - 1.0, in_uv.y * 2.0 - 1.0, 0.0, 1.0);
}
""",
            fragment_shader="""
#version 330
in vec3 v_p; in vec3 v_n;
layout(location = 0) out vec4 o;
layout(location = 1) out vec4 on;
void main() { o = vec4(v_p, 1.0); on = vec4(normalize(v_n), 1.0); }
""",
        )
        vbo = ctx.buffer(np.hstack([uv, p, n]).tobytes())
        vao = ctx.vertex_array(prog, [(vbo, "2f 3f 3f", "in_uv", "in_p", "in_n")])
        tex = ctx.texture((BAKE_W, BAKE_H), 4, dtype="f4")
        ntex = ctx.texture((BAKE_W, BAKE_H), 4, dtype="f4")
        fbo = ctx.framebuffer([tex, ntex])
        fbo.use()
        fbo.clear(0.0, 0.0, 0.0, 0.0)
        vao.render()
        out = np.frombuffer(tex.read(), np.float32).reshape(BAKE_H, BAKE_W, 4)[::-1].copy()
        nout = np.frombuffer(ntex.read(), np.float32).reshape(BAKE_H, BAKE_W, 4)[::-1].copy()
    ctx.release()
    xyz, nrm = out[..., :3], nout[..., :3]
    xyz[out[..., 3] < 0.5] = np.nan
    return xyz, nrm


def _bake_map(
    model: FaceModel, iv: np.ndarray, mh: ObjMesh, warped: np.ndarray, head_tris: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xyz, nrm = _ict_texel_positions(model, iv)
    ok = np.isfinite(xyz[..., 0])
    pts = xyz[ok].astype(np.float64)
    tris = mh.tri_v[head_tris]
    k, b = closest_points(warped[tris], pts, k=12, pt_normals=nrm[ok].astype(np.float64))
    near = np.einsum("nk,nkd->nd", b, warped[tris[k]])
    uvt = mh.tri_vt[head_tris][k]
    uv = np.einsum("nk,nkd->nd", b, mh.vt[uvt])
    u = np.full(ok.shape, -1.0, np.float32)
    v = np.full(ok.shape, -1.0, np.float32)
    d = np.full(ok.shape, np.inf, np.float32)
    u[ok], v[ok] = uv[:, 0], uv[:, 1]
    d[ok] = np.linalg.norm(near - pts, axis=1)
    return u, v, d


def registration_report(reg: Registration) -> dict[str, float]:
    """The figures that measure a registration (cm)."""
    return {
        "landmark_residual_max": float(reg.landmark_residual[EXACT].max()),
        "surface_median": float(np.median(reg.surface_residual)),
        "surface_p90": float(np.percentile(reg.surface_residual, 90)),
        "surface_p99": float(np.percentile(reg.surface_residual, 99)),
    }


def cache_path(model: FaceModel, base_mesh: Path, brow_lift_cm: float = BROW_LIFT_CM) -> Path:
    st = base_mesh.stat()
    key = (
        f"{REGISTER_VERSION}|{model.cache_path}|{base_mesh.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    )
    if brow_lift_cm:  # revisions before 7 keep their cache
        key += f"|brow_lift={brow_lift_cm:g}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    root = Path(model.cache_path).parent if model.cache_path else Path.cwd()
    return root / f"makehuman_ict_{digest}.npz"


def load(
    model: FaceModel, assets: Path, progress=print, brow_lift_cm: float = BROW_LIFT_CM
) -> Registration:
    """The registration for this face model and assets folder, computed once and cached."""
    base = assets / "makehuman/skins/basemesh/base_hm08.obj"
    path = cache_path(model, base, brow_lift_cm)
    if path.is_file():
        try:
            with np.load(path) as z:
                return Registration(**{k: z[k] for k in z.files})
        except (OSError, ValueError, TypeError):
            pass  # unreadable or from another layout: make it again
    progress("registering MakeHuman's head onto the ICT face model (once, about a minute) ...")
    reg = register(model, read_obj(base), brow_lift_cm=brow_lift_cm)
    try:
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **reg.__dict__)
    except OSError:
        pass  # a read-only cache only costs the recomputation
    return reg
