"""Per-sample geometry: the posed head, eyes, hair, beard, glasses, headwear and clothing meshes.

Everything is built in the head's object space (ICT units: cm, y up, +z out of the face), then
moved into camera space (OpenGL: camera at the origin looking down -z, y up). Pose angles follow
AFLW2000-3D's signs: positive pitch looks up, positive yaw turns the face towards image left,
positive roll turns it clockwise in the picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from synthmarks.synth.facemodel import IRIS, PART_NAMES, PARTS, FaceModel
from synthmarks.synth.geometry import vertex_normals
from synthmarks.synth.textures import AtlasMaps, build_atlas

# Material ids shared with the shader.
M_FACE, M_HEAD, M_MOUTH, M_SOCKET, M_GUMS, M_TEETH, M_EYE, M_LASH = 0, 1, 2, 3, 4, 5, 6, 8
M_HAIR, M_BEARD, M_HEADWEAR, M_GLASSES, M_CLOTH = 10, 11, 12, 13, 14
M_CARD = 20

_PART_MATERIAL = {
    "face": M_FACE,
    "head_neck": M_HEAD,
    "mouth_socket": M_MOUTH,
    "eye_socket_left": M_SOCKET,
    "eye_socket_right": M_SOCKET,
    "gums_tongue": M_GUMS,
    "teeth": M_TEETH,
    "eyeball_left": M_EYE,
    "eyeball_right": M_EYE,
    "eyelashes_left": M_LASH,
    "eyelashes_right": M_LASH,
}
#: Where the head turns relative to the torso (object space, cm): about the top of the neck.
PIVOT = np.array([0.0, -6.0, -1.0])


def rotation(pitch_deg: float, yaw_deg: float, roll_deg: float) -> np.ndarray:
    """Object-to-camera rotation for AFLW-signed angles (see module docstring)."""
    p, y, r = np.radians([-pitch_deg, -yaw_deg, -roll_deg])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


@dataclass
class Camera:
    """Pinhole camera; image coordinates follow OpenCV (x = 10.0 is the centre of column 10)."""

    f: float
    cx: float
    cy: float
    width: int
    height: int
    near: float = 5.0
    far: float = 2000.0

    def project(self, pts: np.ndarray) -> np.ndarray:
        z = -pts[:, 2]
        return np.stack([self.cx + self.f * pts[:, 0] / z, self.cy - self.f * pts[:, 1] / z], 1)

    def gl_projection(self) -> np.ndarray:
        """Clip matrix whose NDC puts OpenCV pixel centre x at ((x + 0.5) / W) * 2 - 1."""
        w, h, n, f = self.width, self.height, self.near, self.far
        return np.array(
            [
                [2 * self.f / w, 0, -(2 * (self.cx + 0.5) / w - 1), 0],
                [0, 2 * self.f / h, -(1 - 2 * (self.cy + 0.5) / h), 0],
                [0, 0, -(f + n) / (f - n), -2 * f * n / (f - n)],
                [0, 0, -1, 0],
            ],
            np.float32,
        )

    def to_json(self) -> dict:
        return {
            "f": round(self.f, 4),
            "cx": round(self.cx, 4),
            "cy": round(self.cy, 4),
            "width": self.width,
            "height": self.height,
        }


@dataclass
class CardLook:
    """How a MakeHuman card mesh is drawn: its texture (renderer key), kind and colour tint."""

    texture: str
    kind: int  # 0 hair, 1 eyebrow, 2 eyelash
    tint: tuple[float, float, float]


@dataclass
class Mesh:
    """Vertex arrays for one draw call (camera space) plus the object-space position."""

    pos: np.ndarray
    nrm: np.ndarray
    obj: np.ndarray
    uv: np.ndarray
    mat: np.ndarray
    tris: np.ndarray
    #: Closed, consistently wound (counter-clockwise outside) surfaces skip their back faces.
    cull: bool = False
    #: Per-vertex ambient occlusion (1 = open); the renderer fills it in for the head.
    ao: np.ndarray | None = None
    #: Set for MakeHuman cards (synth v2), drawn with their texture's alpha.
    card: CardLook | None = None
    #: Height (0 root .. 1 tip) of one fur shell of a blended beard (photoreal look); None for
    #: surfaces drawn opaque.
    shell: float | None = None

    def interleaved(self) -> np.ndarray:
        out = np.empty((len(self.pos), 13), np.float32)  # filled in place: no float64 detour
        out[:, 0:3], out[:, 3:6], out[:, 6:9], out[:, 9:11] = self.pos, self.nrm, self.obj, self.uv
        out[:, 11] = 1.0 if self.ao is None else self.ao
        out[:, 12] = self.mat
        return out


class HeadStatic:
    """Sample-independent arrays derived from the face model (built once per process)."""

    def __init__(self, model: FaceModel):
        self.model = model
        V = model.neutral
        parts = np.array(PART_NAMES)[model.triangle_part]
        keep = np.isin(parts, list(_PART_MATERIAL))
        self.tri_parts = parts[keep]
        # Drop the inner iris spheres: the outer eyeball (cornea) carries the iris texture.
        tri_pos_all = model.render_pos_index[model.triangles[keep]]
        iris = np.zeros(len(V), bool)
        for a, b in IRIS.values():
            iris[a:b] = True
        keep2 = ~iris[tri_pos_all].any(1)
        tris = model.triangles[keep][keep2]
        self.tri_parts = self.tri_parts[keep2]
        lash = np.isin(self.tri_parts, ["eyelashes_left", "eyelashes_right"])
        self.tris_main = tris[~lash].astype(np.uint32)
        self.tris_lash = tris[lash].astype(np.uint32)
        self.pos_index = model.render_pos_index
        self.uv = model.render_uv.astype(np.float32)
        vmat = np.full(len(V), M_HEAD, np.float32)
        for name, m in _PART_MATERIAL.items():
            a, b = PARTS[name]
            vmat[a:b] = m
        self.mat = vmat[self.pos_index]
        # Normals: a sparse (V x F) incidence sums face normals onto position vertices.
        tri_pos = model.render_pos_index[model.triangles]
        nf = len(tri_pos)
        self.tri_pos = tri_pos
        self.incidence = sp.csr_matrix(
            (np.ones(3 * nf, np.float32), (tri_pos.T.ravel(), np.tile(np.arange(nf), 3))),
            shape=(len(V), nf),
        )
        # Eyes: sphere centres (fitted to the outer eyeball) and the rendered pupil centre, a
        # point on the cornea at UV (0.5, 0.5) given by barycentric weights of one triangle.
        self.eyes = []
        for side, name in (("right", "eyeball_right"), ("left", "eyeball_left")):
            a, b = PARTS[name]
            ia = IRIS[side][0]
            S = V[a:ia].astype(np.float64)
            A = np.c_[2 * S, np.ones(len(S))]
            sol = np.linalg.lstsq(A, (S**2).sum(1), rcond=None)[0]
            centre = sol[:3]
            ti = np.flatnonzero((tri_pos[:, 0] >= a) & (tri_pos[:, 0] < ia))
            uvs = model.render_uv[model.triangles[ti]].astype(np.float64)
            bary = _barycentric(uvs, np.array([0.5, 0.5]))
            inside = np.flatnonzero((bary >= -1e-6).all(1))
            k = inside[np.argmax(V[tri_pos[ti[inside], 0], 2])]
            self.eyes.append(
                {
                    "range": (a, b),
                    "centre": centre,
                    "pupil_verts": tri_pos[ti[k]],
                    "pupil_w": bary[k],
                }
            )
        # Per render vertex beard-area mask for the beard shell.
        self.atlas: AtlasMaps = build_atlas(model)
        u = np.clip((self.uv[:, 0] * 512).astype(int), 0, 1023)
        vv = np.clip(((1 - self.uv[:, 1]) * 512).astype(int), 0, 511)
        self.beard_mask = self.atlas.masks1[vv, u, 3].astype(np.float32) / 255.0
        self.beard_mask[self.mat != M_FACE] = 0
        # Head surface (face + back of the head) for hair and headwear shells.
        head = np.isin(self.tri_parts[~lash], ["face", "head_neck"])
        self.tris_head = self.tris_main[head]
        self.tris_face = self.tris_main[np.isin(self.tri_parts[~lash], ["face"])]
        self.eye_look = {n: i for i, n in enumerate(model.expression_names)}
        #: MakeHuman card sets by "kind/name" (synth v2; filled in by the worker)
        self.cards: dict = {}


def _barycentric(tri: np.ndarray, p: np.ndarray) -> np.ndarray:
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    v0, v1, v2 = b - a, c - a, p - a
    d00 = (v0 * v0).sum(1)
    d01 = (v0 * v1).sum(1)
    d11 = (v1 * v1).sum(1)
    d20 = (v2 * v0).sum(1)
    d21 = (v2 * v1).sum(1)
    den = d00 * d11 - d01 * d01
    den = np.where(np.abs(den) < 1e-15, 1e-15, den)
    v = (d11 * d20 - d01 * d21) / den
    w = (d00 * d21 - d01 * d20) / den
    return np.stack([1 - v - w, v, w], 1)


def _smoothstep(a: float, b: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - a) / (b - a), 0, 1)
    return t * t * (3 - 2 * t)


def _rot_xy(yaw_deg: float, pitch_deg: float) -> np.ndarray:
    y, p = np.radians([yaw_deg, pitch_deg])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    return ry @ rx


@dataclass
class Scene:
    """What the renderer draws and what the labeller projects, for one sample."""

    camera: Camera
    head: Mesh
    lashes: Mesh
    extras: list[Mesh] = field(default_factory=list)
    landmarks_cam: np.ndarray = None  # (70, 3) camera space
    head_pos_cam: np.ndarray = None  # (V, 3) camera-space position vertices
    head_obj: np.ndarray = None  # (V, 3) object space (after expression, gaze)
    rotation: np.ndarray = None


def hair_field(obj: np.ndarray, hp: dict) -> np.ndarray:
    """Signed height (cm) above the hairline: > 0 where the scalp is covered by hair."""
    x, y, z = obj[:, 0], obj[:, 1], obj[:, 2] - 1.0
    a = np.abs(np.arctan2(x, z)) / np.pi  # 0 front, 0.5 sides, 1 back
    front = hp["front_y"] - hp["fringe"] + hp["recession"] * np.clip(np.abs(x) / 4.5, 0, 1) ** 2
    thr = np.where(
        a < 0.5,
        front + (hp["side_y"] - front) * _smoothstep(0.22, 0.42, a),
        hp["side_y"] + (hp["back_y"] - hp["side_y"]) * _smoothstep(0.55, 0.85, a),
    )
    return y - thr


def build_scene(static: HeadStatic, params: dict, size: int, extras: bool = True) -> Scene:
    """The posed head, its camera and (unless ``extras`` is off: labels need only the head)
    hair, beard, headwear, glasses, clothing and cards."""
    model = static.model
    ids = np.asarray(params["identity"], np.float32)
    expr = np.zeros(len(model.expression_names), np.float32)
    for k, w in params["expression"].items():
        expr[static.eye_look[k]] = w
    gy, gp = params["gaze_deg"]  # gaze yaw (+ towards +x) and pitch (+ up), degrees
    # eyelids follow the gaze
    look = {
        "eyeLookOut_L": max(gy, 0),
        "eyeLookIn_R": max(gy, 0),
        "eyeLookIn_L": max(-gy, 0),
        "eyeLookOut_R": max(-gy, 0),
        "eyeLookUp_L": max(gp, 0),
        "eyeLookUp_R": max(gp, 0),
        "eyeLookDown_L": max(-gp, 0),
        "eyeLookDown_R": max(-gp, 0),
    }
    for k, deg in look.items():
        if k in static.eye_look:
            expr[static.eye_look[k]] = np.clip(expr[static.eye_look[k]] + deg / 30.0, 0, 1)
    v = model.vertices(ids, expr)  # float32: plenty for cm-sized geometry, twice as fast

    # Gaze: rotate each eyeball about its (identity-shifted) centre.
    rg = _rot_xy(gy, gp)
    pupils = []
    for eye in static.eyes:
        a, b = eye["range"]
        shift = (v[a:b] - model.neutral[a:b]).mean(0)
        c = (eye["centre"] + shift).astype(np.float32)
        v[a:b] = (v[a:b] - c) @ rg.T.astype(np.float32) + c
        pupils.append((v[eye["pupil_verts"]].astype(np.float64) * eye["pupil_w"][:, None]).sum(0))
    obj = v

    # Head pose with a soft neck: the lower neck follows the (partly turned) torso.
    pitch, yaw, roll = params["pose_deg"]
    r_head = rotation(pitch, yaw, roll)
    r_body = rotation(0.0, yaw * params["body_yaw_frac"], 0.0)
    w = _smoothstep(-15.0, -7.0, v[:, 1])[:, None].astype(np.float32)
    neck = np.flatnonzero(w[:, 0] < 1.0)
    rh, rb = r_head.T.astype(np.float32), r_body.T.astype(np.float32)
    rel = v - PIVOT.astype(np.float32)
    posed = rel @ rh
    posed[neck] = w[neck] * posed[neck] + (1 - w[neck]) * (rel[neck] @ rb)

    # Camera: focal length from the 35 mm equivalent, distance from the wanted face size.
    f = params["focal_35mm"] / 36.0 * size
    lm_obj = np.vstack([v[model.landmarks].astype(np.float64), np.array(pupils)])
    lm_rel = (lm_obj - PIVOT) @ r_head.T
    anchor = lm_rel[:68].mean(0)
    target = params["face_scale"] * size
    dist = 60.0
    for _ in range(3):
        p = lm_rel - anchor + [0, 0, -dist]
        proj = np.stack([f * p[:, 0] / -p[:, 2], f * p[:, 1] / -p[:, 2]], 1)[:68]
        side = max(np.ptp(proj[:, 0]), np.ptp(proj[:, 1]))
        dist *= side / target
    t = -anchor + np.array([0, 0, -dist])
    proj = np.stack(
        [
            f * (lm_rel[:68, 0] + t[0]) / -(lm_rel[:68, 2] + t[2]),
            -f * (lm_rel[:68, 1] + t[1]) / -(lm_rel[:68, 2] + t[2]),
        ],
        1,
    )
    centre = (proj.min(0) + proj.max(0)) / 2
    cx, cy = np.asarray(params["face_center"]) * size - 0.5 - centre
    cam = Camera(
        float(f), float(cx), float(cy), size, size, near=max(1.0, dist * 0.2), far=dist * 4 + 200
    )

    pos_cam = posed + t.astype(np.float32)
    tp = static.tri_pos
    v0 = v[tp[:, 0]]
    nrm_obj = static.incidence @ np.cross(v[tp[:, 1]] - v0, v[tp[:, 2]] - v0)
    nrm_obj /= np.sqrt((nrm_obj * nrm_obj).sum(1, keepdims=True)) + 1e-12
    nrm_cam = nrm_obj @ rh
    nrm_cam[neck] = w[neck] * nrm_cam[neck] + (1 - w[neck]) * (nrm_obj[neck] @ rb)

    def to_cam(o: np.ndarray, weight: float | np.ndarray = 1.0) -> np.ndarray:
        wgt = np.broadcast_to(np.asarray(weight, np.float64).reshape(-1, 1), (len(o), 1))
        rel_o = o - PIVOT
        return wgt * (rel_o @ r_head.T) + (1 - wgt) * (rel_o @ r_body.T) + t

    pi = static.pos_index
    f32 = np.float32
    head = Mesh(
        pos_cam[pi], nrm_cam[pi].astype(f32), obj[pi], static.uv, static.mat, static.tris_main
    )
    lashes = Mesh(head.pos, head.nrm, head.obj, static.uv, static.mat, static.tris_lash)
    scene = Scene(cam, head, lashes, [], to_cam(lm_obj), pos_cam, obj, r_head)

    if not extras:
        return scene
    extras = scene.extras
    hp = params["hair"]
    lk = params.get("v2") or {}
    if params.get("headwear"):
        extras += _headwear(static, params["headwear"], obj, nrm_obj, to_cam, r_head, w)
    if hp["present"] and lk.get("hair_card") is None:
        extras += _hair(static, hp, obj, nrm_obj, to_cam, r_head, w, params.get("headwear"))
    for kind, key, name in (
        (0, "hair", "hair_card"),
        (1, "eyebrows", "brow_card"),
        (2, "eyelashes", "lash_card"),
    ):
        if lk.get(name) is not None:
            card = static.cards[f"{key}/{lk[name]}"]
            tint = lk[("hair_tint", "brow_tint", "lash_tint")[kind]]
            extras.append(_card(card, kind, tuple(tint), pos_cam, nrm_cam))
    fh = params["facial_hair"]
    if fh["beard"]:
        layers = BEARD_SHELLS if lk else 1
        extras += _beard(static, fh, obj, nrm_obj, to_cam, r_head, layers, blended=bool(lk))
    if params.get("glasses"):
        extras.append(_glasses(static, params["glasses"], obj, to_cam, r_head))
    if params["clothing"]["present"]:
        extras.append(_clothing(params["clothing"], obj, to_cam, r_body))
    return scene


def _card(card, kind: int, tint: tuple, pos_cam: np.ndarray, nrm_cam: np.ndarray) -> Mesh:
    """A MakeHuman card set placed on the posed head, shaded with the skin's normal under it."""
    from synthmarks.synth.cards import place

    pos = place(pos_cam.astype(np.float64), card)
    nrm = np.einsum("nk,nkd->nd", card.bary, nrm_cam[card.tri])
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True) + 1e-12
    return Mesh(
        pos.astype(np.float32),
        nrm.astype(np.float32),
        card.neutral,
        card.uv,
        np.full(len(pos), M_CARD, np.float32),
        card.tris,
        card=CardLook(f"{card.kind}/{card.name}", kind, tint),
    )


def _shell(
    static: HeadStatic,
    obj: np.ndarray,
    nrm_obj: np.ndarray,
    offset: np.ndarray,
    tri_keep: np.ndarray,
    to_cam,
    r_head,
    w,
    material: float,
    uv_fn=None,
) -> Mesh:
    """A copy of the head surface pushed out along its normals (hair, beard, hats)."""
    tris = static.tris_head if tri_keep is None else tri_keep
    used = np.unique(tris)
    remap = np.full(len(static.pos_index), -1, np.int64)
    remap[used] = np.arange(len(used))
    pidx = static.pos_index[used]
    o = obj[pidx] + nrm_obj[pidx] * offset[pidx, None]
    wgt = w[pidx, 0]
    pos = to_cam(o, wgt)
    nrm = wgt[:, None] * (nrm_obj[pidx] @ r_head.T)
    nrm += (1 - wgt[:, None]) * nrm_obj[pidx]
    uv = static.uv[used] if uv_fn is None else uv_fn(obj[pidx])
    return Mesh(
        pos.astype(np.float32),
        nrm.astype(np.float32),
        obj[pidx].astype(np.float32),
        uv.astype(np.float32),
        np.full(len(used), material, np.float32),
        remap[tris].astype(np.uint32),
        cull=True,
    )


def _hair(static, hp, obj, nrm_obj, to_cam, r_head, w, headwear) -> list[Mesh]:
    h = hair_field(obj, hp)
    top = _smoothstep(-4, 10, obj[:, 1])
    offset = 0.05 + hp["thickness_cm"] * _smoothstep(-0.3, 3.0, h) * (0.45 + 0.55 * top)
    pidx = static.pos_index
    tri_h = h[pidx][static.tris_head]
    keep = static.tris_head[(tri_h > -1.5).any(1)]
    # uv carries (height above the hairline, y): the shader fades strands in across the hairline
    meshes = [
        _shell(
            static,
            obj,
            nrm_obj,
            offset,
            keep,
            to_cam,
            r_head,
            w,
            M_HAIR,
            uv_fn=lambda o: np.stack([hair_field(o, hp), o[:, 1]], 1),
        )
    ]
    if hp["long"]:
        meshes.append(_long_hair(hp, obj, to_cam))
    return meshes


def _long_hair(hp: dict, obj: np.ndarray, to_cam) -> Mesh:
    """A curtain of hair hanging from the sides and back of the head."""
    head = obj[: PARTS["head_neck"][1]]
    y_top = min(hp["side_y"] + 1.0, 6.0)
    ring = head[np.abs(head[:, 1] - y_top) < 1.0]
    zc = 0.5
    ang = np.arctan2(ring[:, 0], ring[:, 2] - zc)
    rad = np.hypot(ring[:, 0], ring[:, 2] - zc)
    a0 = np.pi * (0.30 + 0.25 * (1 - hp["side_cover"]))
    na, nt = 40, 14
    phis = np.linspace(a0, 2 * np.pi - a0, na)
    bins = np.digitize(np.mod(ang, 2 * np.pi), np.linspace(0, 2 * np.pi, 73))
    rmax = np.array([rad[bins == k].max() if (bins == k).any() else np.nan for k in range(1, 73)])
    rmax = np.where(np.isnan(rmax), np.nanmean(rmax), rmax)
    r_of = np.interp(np.mod(phis, 2 * np.pi), np.linspace(0, 2 * np.pi, 72), rmax)
    ts = np.linspace(0, 1, nt)
    P, T = np.meshgrid(phis, ts)
    # hugs the skull, then falls in towards the neck and out again over the shoulders
    drop = T * hp["length_cm"]
    inward = 0.22 * _smoothstep(0.0, 10.0, drop) * (1 - _smoothstep(14.0, 24.0, drop))
    R = r_of[None, :] * (1 - inward) + hp["thickness_cm"] * 0.7 + 0.15 + 0.08 * drop
    Y = y_top - drop - 0.5
    o = np.stack([R * np.sin(P), Y, zc + R * np.cos(P) - 0.05 * drop], -1).reshape(-1, 3)
    idx = np.arange(na * nt).reshape(nt, na)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1], idx[1:, 1:]
    tris = np.concatenate(
        [np.stack([a, c, b], -1).reshape(-1, 3), np.stack([b, c, d], -1).reshape(-1, 3)]
    ).astype(np.uint32)
    nrm = vertex_normals(o, tris)
    pos = to_cam(o)
    nrm_c = to_cam(o + nrm) - pos
    # u is the coverage the shader thresholds: solid, thinning into ragged ends at the bottom
    uv = np.stack([4.0 - 6.0 * T.ravel() ** 6, o[:, 1]], 1)
    return Mesh(
        pos.astype(np.float32),
        nrm_c.astype(np.float32),
        o.astype(np.float32),
        uv.astype(np.float32),
        np.full(len(o), M_HAIR, np.float32),
        tris,
    )


#: Fur shells of a photoreal beard (look revision 4).
BEARD_SHELLS = 5


def _beard(static, fh, obj, nrm_obj, to_cam, r_head, layers: int, blended: bool) -> list[Mesh]:
    """The beard as copies of the face pushed out to its length: one opaque, alpha-tested shell
    in the v1 look; in the photoreal look ``layers`` blended fur shells from root to tip (one
    shell cut out by a threshold drew a hard-edged slab of speckles)."""
    mask = np.zeros(len(obj))
    np.maximum.at(mask, static.pos_index, static.beard_mask)
    length = fh["beard_length_cm"] * _smoothstep(0.2, 0.8, mask)
    pidx = static.pos_index
    keep = static.tris_face[(mask[pidx][static.tris_face] > 0.15).any(1)]
    ones = np.ones((len(obj), 1))
    meshes = []
    for k in range(layers):
        height = (k + 1) / layers
        offset = 0.03 + length * height
        m = _shell(static, obj, nrm_obj, offset, keep, to_cam, r_head, ones, M_BEARD)
        m.shell = height if blended else None
        meshes.append(m)
    return meshes


def _headwear(static, hw, obj, nrm_obj, to_cam, r_head, w) -> list[Mesh]:
    y, z = obj[:, 1], obj[:, 2]
    plane = y - (hw["brim_y"] + hw["tilt"] * z)
    base = 0.6 if hw["kind"] == "beanie" else 0.35
    offset = base + 0.5 * _smoothstep(-6, 12, y) + 0.4 * (np.abs(plane) < 1.5)
    pidx = static.pos_index
    keep = static.tris_head[(plane[pidx][static.tris_head] > 0).all(1)]
    shell = _shell(
        static,
        obj,
        nrm_obj,
        offset,
        keep,
        to_cam,
        r_head,
        w,
        M_HEADWEAR,
        uv_fn=lambda o: np.stack([np.arctan2(o[:, 0], o[:, 2]) * 8, o[:, 1]], 1),
    )
    meshes = [shell]
    if hw["kind"] == "cap":
        front = (plane > -0.5) & (plane < 0.8) & (z > 3)
        pts = obj[front]
        if len(pts) > 10:
            xs = np.linspace(pts[:, 0].min(), pts[:, 0].max(), 16)
            zf = np.array([pts[np.abs(pts[:, 0] - xv) < 1.0, 2].max(initial=0) for xv in xs]) + 0.4
            yb = hw["brim_y"] + hw["tilt"] * zf + 0.2
            out = 6.5 * np.sqrt(np.clip(1 - (xs / (np.abs(xs).max() + 1e-6)) ** 2, 0.05, 1))
            inner = np.stack([xs, yb, zf], 1)
            outer = np.stack([xs * 1.05, yb - 0.6, zf + out], 1)
            o = np.vstack([inner, outer])
            n = len(xs)
            tris = [(i, i + 1, n + i) for i in range(n - 1)] + [
                (i + 1, n + i + 1, n + i) for i in range(n - 1)
            ]
            tris = np.array(tris + [(a, c, b) for a, b, c in tris], np.uint32)
            pos = to_cam(o)
            nrm = np.tile((np.array([0, 1.0, 0.1]) @ r_head.T), (len(o), 1))
            uv = np.stack([o[:, 0], o[:, 2]], 1)
            meshes.append(
                Mesh(
                    pos.astype(np.float32),
                    nrm.astype(np.float32),
                    o.astype(np.float32),
                    uv.astype(np.float32),
                    np.full(len(o), M_HEADWEAR, np.float32),
                    tris,
                )
            )
    return meshes


def _tube_ring(contour: np.ndarray, depth: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """A flat rim around a closed contour (K, 3): front face + outer band, as triangles."""
    k = len(contour)
    c = contour.mean(0)
    out = c + (contour - c) * (1 + width / np.linalg.norm(contour - c, axis=1, keepdims=True))
    back_in = contour - [0, 0, depth]
    back_out = out - [0, 0, depth]
    verts = np.vstack([contour, out, back_in, back_out])
    tris = []
    for i in range(k):
        j = (i + 1) % k
        for a, b in ((0, 1), (1, 3), (3, 2), (2, 0)):
            tris += [(a * k + i, b * k + i, a * k + j), (b * k + i, b * k + j, a * k + j)]
    return verts, np.array(tris, np.int64)


def _glasses(static, g, obj, to_cam, r_head) -> Mesh:
    lm = static.model.landmarks
    verts, tris = [], []
    z_front = max(obj[lm[36:48], 2]) + g["distance"]
    n = g["roundness"]
    expo = 2.0 + (1 - n) * 6.0
    th = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    sx = np.sign(np.cos(th)) * np.abs(np.cos(th)) ** (2 / expo)
    sy = np.sign(np.sin(th)) * np.abs(np.sin(th)) ** (2 / expo)
    inner_pts = []
    for eye in (range(36, 42), range(42, 48)):
        c = obj[lm[list(eye)]].mean(0)
        side = np.sign(c[0])
        cx = c[0] + side * 0.25
        contour = np.stack(
            [
                cx + sx * g["width"] / 2,
                c[1] + g["offset_y"] + sy * g["height"] / 2,
                z_front - 0.25 * (side * sx + 1) * np.abs(sx),
            ],
            1,
        )
        v, t = _tube_ring(contour, 0.25, g["thickness"])
        tris.append(t + sum(len(x) for x in verts))
        verts.append(v)
        inner_pts.append((contour[np.argmin(side * sx * 10 - sy)], contour[np.argmax(side * sx)]))

    # bridge and temples as thin boxes
    def box(a: np.ndarray, b: np.ndarray, r: float) -> None:
        d = b - a
        d /= np.linalg.norm(d) + 1e-9
        u = np.cross(d, [0, 0, 1.0]) if abs(d[2]) < 0.9 else np.cross(d, [1.0, 0, 0])
        u /= np.linalg.norm(u)
        wv = np.cross(d, u)
        corners = [u * r + wv * r, -u * r + wv * r, -u * r - wv * r, u * r - wv * r]
        v = np.array([a + c for c in corners] + [b + c for c in corners])
        t = []
        for i in range(4):
            j = (i + 1) % 4
            t += [(i, 4 + i, j), (j, 4 + i, 4 + j)]
        tris.append(np.array(t) + sum(len(x) for x in verts))
        verts.append(v)

    (in_r, out_r), (in_l, out_l) = inner_pts
    box(in_r, in_l, max(0.1, g["thickness"] * 0.4))
    head_w = obj[: PARTS["face"][1]]
    for outer in (out_r, out_l):
        ear_x = np.sign(outer[0]) * (
            np.abs(head_w[np.abs(head_w[:, 1] - outer[1]) < 1.0, 0]).max() + 0.2
        )
        box(outer, np.array([ear_x, outer[1] - 0.3, -1.0]), 0.12)
    o = np.vstack(verts)
    t = np.vstack(tris).astype(np.uint32)
    nrm = vertex_normals(o, t)
    pos = to_cam(o)
    nrm_c = nrm @ r_head.T
    return Mesh(
        pos.astype(np.float32),
        nrm_c.astype(np.float32),
        o.astype(np.float32),
        np.zeros((len(o), 2), np.float32),
        np.full(len(o), M_GLASSES, np.float32),
        t,
    )


def _clothing(cp: dict, obj: np.ndarray, to_cam, r_body) -> Mesh:
    """Shoulders and chest: lofted super-ellipses below the neck, turned with the torso."""
    neck = obj[PARTS["head_neck"][0] : PARTS["head_neck"][1]]
    ring = neck[(neck[:, 1] < -14) & (neck[:, 1] > -18)]
    cz = float(ring[:, 2].mean()) if len(ring) else 2.0
    y0 = cp["collar_y"]
    sh = cp["shoulder"]
    prof = np.array(
        [
            [y0, 6.6, 6.2],
            [y0 - 2.5, 8.5, 7.5],
            [y0 - 6, 15.0, 10.0],
            [-26, sh, 11.5],
            [-34, sh * 0.97, 12.0],
            [-80, sh * 0.93, 11.5],
        ]
    )
    prof = prof[np.argsort(-prof[:, 0])]
    na = 48
    th = np.linspace(0, 2 * np.pi, na, endpoint=False)
    rows = []
    for yv, rx, rz in prof:
        e = 2.6
        sx = np.sign(np.sin(th)) * np.abs(np.sin(th)) ** (2 / e)
        sz = np.sign(np.cos(th)) * np.abs(np.cos(th)) ** (2 / e)
        rows.append(np.stack([rx * sx, np.full(na, yv), cz - 2 + rz * sz], 1))
    o = np.vstack(rows)
    nr = len(prof)
    tris = []
    for r in range(nr - 1):
        for i in range(na):
            j = (i + 1) % na
            a, b, c, d = r * na + i, r * na + j, (r + 1) * na + i, (r + 1) * na + j
            tris += [(a, c, b), (b, c, d)]
    t = np.array(tris, np.uint32)
    nrm = vertex_normals(o, t)
    rel = o - PIVOT
    pos = rel @ r_body.T + (to_cam(PIVOT[None], 0.0)[0])
    uv = np.stack([th[np.arange(len(o)) % na] * 10, o[:, 1]], 1)
    return Mesh(
        pos.astype(np.float32),
        (nrm @ r_body.T).astype(np.float32),
        o.astype(np.float32),
        uv.astype(np.float32),
        np.full(len(o), M_CLOTH, np.float32),
        t,
        cull=True,
    )
